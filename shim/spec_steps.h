/*
 * The steps of one container run (husk-vmm --spec --steps PATH): a name
 * and a wall-clock time per step, marked from any thread, written at the
 * end as one JSON line, each step in milliseconds since husk-vmm started.
 */
#ifndef HUSK_SHIM_SPEC_STEPS_H
#define HUSK_SHIM_SPEC_STEPS_H

#include <stdatomic.h>
#include <stdint.h>

#define SPEC_STEPS_MAX 32

struct spec_steps {
	uint64_t start_ns; /* CLOCK_REALTIME of husk-vmm's start */
	_Atomic unsigned n;
	struct {
		const char *name; /* a string literal */
		uint64_t ns;
	} s[SPEC_STEPS_MAX];
};

void spec_steps_init(struct spec_steps *st, uint64_t start_ns);
/* Record that step `name` (a literal) ended now; past SPEC_STEPS_MAX it is dropped. */
void spec_steps_mark(struct spec_steps *st, const char *name);
/* {"steps":[{"step":"restore","ms":12.345},...]} to path ("-": stderr). */
void spec_steps_write(const struct spec_steps *st, const char *path);

#endif
