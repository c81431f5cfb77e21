/*
 * husk-vmm's control socket (--control), through which the runtime (husk)
 * drives the container husk-vmm --spec made: the protocol of
 * include/husk/proto.h, one request per connection, answered OK or ERROR
 * (runc's words):
 *   START          runs the workload (once), answered when it runs
 *   SIGNAL         {"signal", "all"}: passed on to the agent
 *   PAUSE, RESUME  the vCPUs stop outside the guest / run on
 *   STATE          -> {"state": booting | created | running | paused | stopped}
 * A paused container takes only SIGKILL, which ends its VM (status 137).
 * And the ready descriptor (--ready-fd), which gets "ready" or "error MSG"
 * once the container exists or cannot be made.
 */
#ifndef HUSK_SHIM_SPEC_CONTROL_H
#define HUSK_SHIM_SPEC_CONTROL_H

#include "husk/error.h"
#include "spec_run.h"

/* Listen on sr->opts.control and serve it on a thread of its own. */
int spec_ctl_start(struct spec_run *sr);
void spec_ctl_stop(struct spec_run *sr);

/* The runner's side. */
void spec_ctl_ready(struct spec_run *sr, const struct husk_err *e); /* e NULL: ready */
/* Block until START (0) or the VM ends (-ECANCELED). */
int spec_ctl_wait_start(struct spec_run *sr);
void spec_ctl_started(struct spec_run *sr, const struct husk_err *e);
void spec_ctl_set_state(struct spec_run *sr, enum spec_state state);

#endif
