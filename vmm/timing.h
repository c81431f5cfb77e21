/*
 * Boot timing points (wall clock, set once each, from any thread), printed
 * on request as one JSON line.
 */
#ifndef HUSK_VMM_TIMING_H
#define HUSK_VMM_TIMING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum timing_point {
	TIMING_PROCESS_START,
	TIMING_FIRST_KVM_RUN,
	TIMING_FIRST_CONSOLE_BYTE,
	TIMING_AGENT_READY,
	TIMING_COUNT,
};

struct timing {
	_Atomic uint64_t ns[TIMING_COUNT]; /* CLOCK_REALTIME; 0: not reached */
};

void timing_init(struct timing *t);
/* Record point p now, unless it was already recorded. */
void timing_mark(struct timing *t, enum timing_point p);
/* Format the JSON line (with a newline); returns its length or -1 if it does not fit. */
int timing_json(const struct timing *t, char *buf, size_t len);

#endif
