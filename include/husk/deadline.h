/*
 * An absolute CLOCK_REALTIME deadline, as pthread_timedjoin_np() and
 * pthread_cond_timedwait() (with the default clock) take it. Shared by host
 * and guest; the code is common/deadline.c.
 */
#ifndef HUSK_DEADLINE_H
#define HUSK_DEADLINE_H

#include <time.h>

/* The time ms milliseconds (at least 0) from now. */
struct timespec deadline_after_ms(int ms);

#endif
