/*
 * husk, the OCI runtime: the runc command line over one micro-VM per
 * container. Each command is a function in a cmd_*.c file; they share the
 * global options, the error log and the state store (lib/state.h).
 */
#ifndef HUSK_RUNTIME_HUSK_H
#define HUSK_RUNTIME_HUSK_H

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
int cmd_templates(const struct husk_global *g, int argc, char **argv);

/* --- options (cmd_opts.c) ----------------------------------------------------- */

struct option;
/*
 * getopt_long as every command calls it (optind set to 1 before the first
 * call): an unknown option or a missing value is reported (the log too) and
 * returned as '?'.
 */
int cmd_getopt(const struct husk_global *g, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/* The one container id of a command without options of its own; NULL, said, if not. */
const char *cmd_only_id(const struct husk_global *g, const char *cmd, int argc, char **argv);
/* 0 when a command without options or operands got none; -EINVAL, said, if it did. */
int cmd_no_operands(const struct husk_global *g, const char *cmd, int argc, char **argv);
/* The one option of kill and templates rm, -a/--all; the operands from optind. -EINVAL, said. */
int cmd_only_all(const struct husk_global *g, int argc, char **argv, bool *all);

#endif
