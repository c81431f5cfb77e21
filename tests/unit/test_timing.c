/* Boot timing points: set once, printed as one JSON line. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timing.h"
#include "unit.h"

static const char all_null[] =
	"{\"process_start_ns\":null,\"first_kvm_run_ns\":null,"
	"\"first_console_byte_ns\":null,\"agent_ready_ns\":null,"
	"\"first_kvm_run_ms\":null,\"first_console_byte_ms\":null,\"agent_ready_ms\":null}\n";

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };
	nanosleep(&ts, NULL);
}

/* Where the value of "key" starts in a JSON line. */
static const char *value_of(const char *json, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(json, pat);
	ck_assert_msg(p != NULL, "%s missing from %s", key, json);
	return p + strlen(pat);
}

static void check_one_line(const char *buf, int n)
{
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(strlen(buf), (size_t)n);
	ck_assert_int_eq(buf[0], '{');
	ck_assert_int_eq(buf[n - 1], '\n');
	ck_assert_int_eq(buf[n - 2], '}');
	ck_assert_ptr_eq(strchr(buf, '\n'), buf + n - 1);
}

START_TEST(nothing_marked_is_all_null)
{
	struct timing t;
	char buf[512];
	timing_init(&t);
	int n = timing_json(&t, buf, sizeof(buf));
	check_one_line(buf, n);
	ck_assert_str_eq(buf, all_null);
}
END_TEST

START_TEST(marks_are_reported)
{
	struct timing t;
	char buf[512];
	timing_init(&t);
	timing_mark(&t, TIMING_PROCESS_START);
	sleep_ms(5);
	timing_mark(&t, TIMING_FIRST_KVM_RUN);
	uint64_t start = atomic_load(&t.ns[TIMING_PROCESS_START]);
	uint64_t run = atomic_load(&t.ns[TIMING_FIRST_KVM_RUN]);
	ck_assert_uint_gt(start, 0);
	ck_assert_uint_ge(run, start + 5000000ULL);

	int n = timing_json(&t, buf, sizeof(buf));
	check_one_line(buf, n);
	ck_assert_uint_eq(strtoull(value_of(buf, "process_start_ns"), NULL, 10), start);
	ck_assert_uint_eq(strtoull(value_of(buf, "first_kvm_run_ns"), NULL, 10), run);
	double ms = strtod(value_of(buf, "first_kvm_run_ms"), NULL);
	double want = (double)(run - start) / 1e6;
	ck_assert_double_ge(ms, 5.0);
	ck_assert_double_eq_tol(ms, want, 0.001);
	ck_assert_ptr_nonnull(strstr(buf, "\"first_console_byte_ns\":null"));
	ck_assert_ptr_nonnull(strstr(buf, "\"agent_ready_ms\":null"));
}
END_TEST

START_TEST(second_mark_keeps_first_value)
{
	struct timing t;
	timing_init(&t);
	timing_mark(&t, TIMING_FIRST_CONSOLE_BYTE);
	uint64_t first = atomic_load(&t.ns[TIMING_FIRST_CONSOLE_BYTE]);
	ck_assert_uint_gt(first, 0);
	sleep_ms(2);
	timing_mark(&t, TIMING_FIRST_CONSOLE_BYTE);
	ck_assert_uint_eq(atomic_load(&t.ns[TIMING_FIRST_CONSOLE_BYTE]), first);
	ck_assert_uint_eq(atomic_load(&t.ns[TIMING_PROCESS_START]), 0);
}
END_TEST

static void *mark_agent(void *arg)
{
	timing_mark(arg, TIMING_AGENT_READY);
	return NULL;
}

START_TEST(concurrent_marks_set_once)
{
	struct timing t;
	pthread_t th[8];
	timing_init(&t);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, mark_agent, &t), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	uint64_t v = atomic_load(&t.ns[TIMING_AGENT_READY]);
	ck_assert_uint_gt(v, 0);
	timing_mark(&t, TIMING_AGENT_READY);
	ck_assert_uint_eq(atomic_load(&t.ns[TIMING_AGENT_READY]), v);
}
END_TEST

START_TEST(ms_null_without_or_before_start)
{
	struct timing t;
	char buf[512];
	timing_init(&t);
	timing_mark(&t, TIMING_FIRST_KVM_RUN);
	int n = timing_json(&t, buf, sizeof(buf));
	check_one_line(buf, n);
	ck_assert_ptr_nonnull(strstr(buf, "\"first_kvm_run_ms\":null"));
	ck_assert_ptr_null(strstr(buf, "\"first_kvm_run_ns\":null"));

	/* a point earlier than the start has no meaningful offset */
	atomic_store(&t.ns[TIMING_PROCESS_START], atomic_load(&t.ns[TIMING_FIRST_KVM_RUN]) + 1);
	n = timing_json(&t, buf, sizeof(buf));
	check_one_line(buf, n);
	ck_assert_ptr_nonnull(strstr(buf, "\"first_kvm_run_ms\":null"));
}
END_TEST

START_TEST(small_buffer_is_refused)
{
	struct timing t;
	char full[512];
	timing_init(&t);
	timing_mark(&t, TIMING_PROCESS_START);
	timing_mark(&t, TIMING_AGENT_READY);
	int flen = timing_json(&t, full, sizeof(full));
	ck_assert_int_gt(flen, 0);

	for (size_t len = 0; len <= (size_t)flen + 1; len++) {
		char buf[600];
		memset(buf, '#', sizeof(buf));
		int n = timing_json(&t, buf, len);
		for (size_t i = len; i < sizeof(buf); i++)
			ck_assert_msg(buf[i] == '#', "len %zu: wrote past the end", len);
		if (len <= (size_t)flen) {
			ck_assert_msg(n == -1, "len %zu: returned %d", len, n);
		} else {
			ck_assert_int_eq(n, flen);
			ck_assert_str_eq(buf, full);
		}
	}
	char tiny[4];
	ck_assert_int_eq(timing_json(&t, tiny, sizeof(tiny)), -1);
}
END_TEST

static Suite *timing_suite(void)
{
	Suite *s = suite_create("timing");
	TCase *tc = tcase_create("json");
	tcase_add_test(tc, nothing_marked_is_all_null);
	tcase_add_test(tc, marks_are_reported);
	tcase_add_test(tc, second_mark_keeps_first_value);
	tcase_add_test(tc, concurrent_marks_set_once);
	tcase_add_test(tc, ms_null_without_or_before_start);
	tcase_add_test(tc, small_buffer_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(timing_suite());
}
