/*
 * husk exec: a further process in a running container, through the agent
 * behind the container's vsock socket. Attached, the caller's stdio (or its
 * terminal) are relayed until the process ends; with o->detach a child of
 * the caller stays behind to do that (its PID goes to o->pid_file, for the
 * engine to wait on), and the call returns once the process runs in the
 * guest. Refusals in runc's words ("exec failed: ..."), reported through g.
 */
#ifndef HUSK_RUNTIME_EXEC_H
#define HUSK_RUNTIME_EXEC_H

#include "exec_process.h"
#include "state.h"

#define EXEC_FAILED 255 /* the process did not run, or the relay lost it (runc's 255) */

/*
 * A negative errno when the process did not run; else its status as a
 * shell reports it (EXEC_FAILED if the relay lost it), 0 when detached.
 * In the detached relay's child the call returns too, at the process's
 * end, with its status: the caller exits with it.
 */
int husk_exec(const struct husk_global *g, const struct exec_opts *o);

#endif
