/*
 * A container's life, one husk-vmm each: create boots its VM and makes the
 * container (the workload waits), start runs the workload, kill signals it,
 * delete ends the VM and removes every trace, run is create and start and
 * waits for the end. These are what `husk create`, `start`, `kill`,
 * `delete` and `run` do once their options are parsed. Failures are
 * reported through g (stderr and --log) where they happen, with runc's
 * words where engines test them, and returned as a negative errno.
 */
#ifndef HUSK_RUNTIME_LIFECYCLE_H
#define HUSK_RUNTIME_LIFECYCLE_H

#include <stdbool.h>
#include <sys/types.h>

#include "husk/error.h"
#include "state.h"

struct husk_create_opts {
	const char *bundle;	    /* NULL: the current directory */
	const char *pid_file;	    /* NULL: none */
	const char *console_socket; /* NULL: none */
	bool detach;		    /* false only for an attached run */
};

/*
 * The VMM is started and the container made; st is its state. A terminal's
 * master goes to console_socket; without one (only when the caller stays
 * attached, !detach) husk's own stdio are the terminal.
 */
int husk_create(const struct husk_global *g, const char *id, const struct husk_create_opts *o,
		struct husk_state *st);
int husk_start(const struct husk_global *g, const char *id);
/* signal as runc takes it (KILL, SIGKILL, 9; NULL: TERM); all: every process. */
int husk_kill(const struct husk_global *g, const char *id, const char *signal, bool all);
/* force: a running container too, and nothing there is no error. */
int husk_delete(const struct husk_global *g, const char *id, bool force);
/*
 * Create and start; attached (!o->detach), wait for the end and return the
 * workload's status (its exit code, or 128 + the signal). 0 when detached.
 */
int husk_run(const struct husk_global *g, const char *id, const struct husk_create_opts *o);

/* A signal number from runc's spellings, -1 if none. */
int husk_parse_signal(const char *s);
/* runc's refusals: a terminal without a console socket when detached, or the reverse. */
int husk_check_terminal(bool terminal, const char *console_socket, bool detach, struct husk_err *e);
/* Write pid to path atomically. */
int husk_write_pid_file(const char *path, pid_t pid, struct husk_err *e);

#endif
