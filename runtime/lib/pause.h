/*
 * husk pause and resume: a container's vCPUs stop outside the guest, then
 * run on (husk-vmm's PAUSE and RESUME). Refusals in runc's words: what is
 * not running cannot pause, what is not paused cannot resume. Failures are
 * reported through g and returned as a negative errno.
 */
#ifndef HUSK_RUNTIME_PAUSE_H
#define HUSK_RUNTIME_PAUSE_H

#include "state.h"

int husk_pause(const struct husk_global *g, const char *id);
int husk_resume(const struct husk_global *g, const char *id);

#endif
