/* A container run's steps (see spec_steps.h). */
#include "spec_steps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

void spec_steps_init(struct spec_steps *st, uint64_t start_ns)
{
	memset(st, 0, sizeof(*st));
	st->start_ns = start_ns;
	atomic_init(&st->n, 0);
}

void spec_steps_mark(struct spec_steps *st, const char *name)
{
	struct timespec ts;
	unsigned i = atomic_fetch_add(&st->n, 1);
	if (i >= SPEC_STEPS_MAX)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	st->s[i].ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	atomic_thread_fence(memory_order_release);
	st->s[i].name = name;
}

void spec_steps_write(const struct spec_steps *st, const char *path)
{
	unsigned n = atomic_load(&st->n);
	FILE *f = !strcmp(path, "-") ? stderr : fopen(path, "we");

	if (!f) {
		log_err("spec", "--steps: cannot write %s: %s", path, strerror(errno));
		return;
	}
	atomic_thread_fence(memory_order_acquire);
	fputs("{\"steps\":[", f);
	for (unsigned i = 0, k = 0; i < n && i < SPEC_STEPS_MAX; i++) {
		if (!st->s[i].name)
			continue;
		double ms = st->s[i].ns >= st->start_ns ?
				    (double)(st->s[i].ns - st->start_ns) / 1e6 :
				    0;
		fprintf(f, "%s{\"step\":\"%s\",\"ms\":%.3f}", k++ ? "," : "", st->s[i].name, ms);
	}
	fputs("]}\n", f);
	if (f != stderr)
		fclose(f);
}
