/*
 * The OCI hooks of a container's config.json (parsed by spec_hooks_parse),
 * run on the host as the runtime spec asks: each hook's path with its args
 * and env (its env absent: husk's own), the container's state JSON on its
 * stdin, killed once it outlives its timeout. Its stdout and stderr are
 * kept (not the engine's stdio, which are the container's) and their start
 * named in the error when it fails, as runc does. The hooks the spec runs
 * "in the container namespace" (createContainer, startContainer) run in
 * husk-vmm's network namespace, which is the container's on the host; every
 * other namespace of a container is in its VM, out of a hook's reach.
 */
#ifndef HUSK_RUNTIME_HOOKS_H
#define HUSK_RUNTIME_HOOKS_H

#include <sys/types.h>

#include <jansson.h>

#include "husk/error.h"
#include "husk/spec.h"

/*
 * Run one hook (the n-th of its kind, for messages) with `state` on its
 * stdin; netns_fd >= 0: in that network namespace. 0 when it exits with 0;
 * a hook that cannot be run, exits otherwise, is killed by a signal or
 * outlives its timeout (then it is killed) is an error.
 */
int hooks_run_one(const struct spec_hook *h, enum spec_hook_kind kind, size_t n, const char *state,
		  int netns_fd, struct husk_err *e);
/*
 * Each hook of `kind` in order, stopping at the first failure. vmm_pid:
 * husk-vmm's PID, whose network namespace the container-namespace kinds
 * join (0: they run in husk's).
 */
int hooks_run(const struct spec_hooks *h, enum spec_hook_kind kind, const char *state,
	      pid_t vmm_pid, struct husk_err *e);

/*
 * The hooks outlive the bundle's config.json (start and delete need them):
 * create keeps config.json's "hooks" object in the state directory as
 * hooks.json (nothing when there are none); hooks_load reads it back (no
 * file: no hooks).
 */
int hooks_save(const char *dir, const json_t *hooks, struct husk_err *e);
int hooks_load(const char *dir, struct spec_hooks *out, struct husk_err *e);

#endif
