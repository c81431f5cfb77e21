/*
 * husk exec's command line and the OCI process it runs: the --process
 * file's, or the container's config.json process with the command and the
 * --tty, --cwd, --env, --user overrides, as runc builds it. No I/O beyond
 * reading the given files; the checks are spec_process_parse's.
 */
#ifndef HUSK_RUNTIME_EXEC_PROCESS_H
#define HUSK_RUNTIME_EXEC_PROCESS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "husk/error.h"

#define EXEC_MAX_ENV 4096

struct exec_opts {
	const char *id;
	char **args; /* the command after the id (nargs may be 0 with --process) */
	int nargs;
	const char *process_file, *console_socket, *pid_file, *cwd, *user;
	const char *env[EXEC_MAX_ENV]; /* --env K=V, in order */
	size_t nenv;
	bool tty, detach, no_new_privs;
};

/* argv[0] is "exec"; options stop at the container id. */
int exec_opts_parse(int argc, char **argv, struct exec_opts *o, struct husk_err *e);

/*
 * The process object to send: a new reference in *out, checked with
 * spec_process_parse. `base` is the --process file's JSON when
 * o->process_file is set (taken as it is), else config.json's "process".
 */
int exec_process_build(const json_t *base, const struct exec_opts *o, json_t **out,
		       struct husk_err *e);

/* Read the --process file, or the bundle's config.json, and build from it. */
int exec_process_load(const struct exec_opts *o, const char *bundle, json_t **out,
		      struct husk_err *e);

#endif
