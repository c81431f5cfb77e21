#include "timing.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const timing_names[TIMING_COUNT] = {
	[TIMING_PROCESS_START] = "process_start",
	[TIMING_FIRST_KVM_RUN] = "first_kvm_run",
	[TIMING_FIRST_CONSOLE_BYTE] = "first_console_byte",
	[TIMING_AGENT_READY] = "agent_ready",
};

static uint64_t timing_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void timing_init(struct timing *t)
{
	for (int i = 0; i < TIMING_COUNT; i++)
		atomic_init(&t->ns[i], 0);
}

void timing_mark(struct timing *t, enum timing_point p)
{
	uint64_t zero = 0;
	atomic_compare_exchange_strong(&t->ns[p], &zero, timing_now());
}

/*
 * {"process_start_ns":..., ..., "agent_ready_ns":null,
 *  "first_kvm_run_ms":..., ...}  (the _ms values are since process start)
 */
int timing_json(const struct timing *t, char *buf, size_t len)
{
	size_t n = 0;
	uint64_t start = atomic_load(&t->ns[TIMING_PROCESS_START]);

#define TJ_PUT(...)                                               \
	do {                                                      \
		int k_ = snprintf(buf + n, len - n, __VA_ARGS__); \
		if (k_ < 0 || (size_t)k_ >= len - n)              \
			return -1;                                \
		n += (size_t)k_;                                  \
	} while (0)

	TJ_PUT("{");
	for (int i = 0; i < TIMING_COUNT; i++) {
		uint64_t v = atomic_load(&t->ns[i]);
		if (v)
			TJ_PUT("%s\"%s_ns\":%llu", i ? "," : "", timing_names[i],
			       (unsigned long long)v);
		else
			TJ_PUT("%s\"%s_ns\":null", i ? "," : "", timing_names[i]);
	}
	for (int i = 1; i < TIMING_COUNT; i++) {
		uint64_t v = atomic_load(&t->ns[i]);
		if (v && start && v >= start)
			TJ_PUT(",\"%s_ms\":%.3f", timing_names[i], (double)(v - start) / 1e6);
		else
			TJ_PUT(",\"%s_ms\":null", timing_names[i]);
	}
	TJ_PUT("}\n");
#undef TJ_PUT
	return (int)n;
}
