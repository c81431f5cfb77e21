/*
 * husk, the OCI runtime: the runc command line over one micro-VM per
 * container. Each command is a function in a cmd_*.c file; they share the
 * global options, the error log and the state store (lib/state.h).
 */
#ifndef HUSK_RUNTIME_HUSK_H
#define HUSK_RUNTIME_HUSK_H

#include <stdbool.h>
#include <sys/types.h>

#include "husk/error.h"
#include "state.h"

/* --- commands ----------------------------------------------------------------- */

int cmd_create(const struct husk_global *g, int argc, char **argv);
int cmd_start(const struct husk_global *g, int argc, char **argv);
int cmd_run(const struct husk_global *g, int argc, char **argv);
int cmd_state(const struct husk_global *g, int argc, char **argv);
int cmd_kill(const struct husk_global *g, int argc, char **argv);
int cmd_delete(const struct husk_global *g, int argc, char **argv);
int cmd_list(const struct husk_global *g, int argc, char **argv);
int cmd_spec(const struct husk_global *g, int argc, char **argv);
int cmd_features(const struct husk_global *g, int argc, char **argv);
int cmd_pause(const struct husk_global *g, int argc, char **argv);
int cmd_resume(const struct husk_global *g, int argc, char **argv);
int cmd_ps(const struct husk_global *g, int argc, char **argv);
int cmd_update(const struct husk_global *g, int argc, char **argv);

int cmd_exec(const struct husk_global *g, int argc, char **argv);

/*
 * create's work, shared with run: the VMM is started and the container made.
 * A terminal's master goes to console_socket; without one (only when the
 * caller stays attached, !detach) husk's own stdio are the terminal.
 */
int husk_create(const struct husk_global *g, const char *id, const char *bundle,
		const char *pid_file, const char *console_socket, bool detach,
		struct husk_state *st);
/* runc's refusals: a terminal without a console socket when detached, or the reverse. */
int husk_check_terminal(bool terminal, const char *console_socket, bool detach,
			struct husk_err *e);
/* Write pid to path atomically. */
int husk_write_pid_file(const char *path, pid_t pid, struct husk_err *e);

#endif
