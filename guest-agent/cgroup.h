/*
 * One cgroup v2 group per container under /sys/fs/cgroup/husk, holding the
 * container's processes and its linux.resources limits as they apply
 * inside a VM (memory, pids; CPU is bounded by the VM's vCPUs and the host).
 */
#ifndef HUSK_AGENT_CGROUP_H
#define HUSK_AGENT_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#include "husk/error.h"
#include "husk/spec.h"

/*
 * /sys/fs/cgroup/husk with the memory and pids controllers, and one group
 * in it made ahead (not named as a container can be) that the next
 * cg_create takes: under kvm_pvm a group with the memory controller costs
 * the emulated kernel some 0.2 s to make, so the agent makes them before
 * its ready line, in a template's memory.
 */
int cg_prepare(struct husk_err *e);
/* The container's group (the one made ahead, or a new one named id) at path. */
int cg_create(const char *id, const struct spec_resources *res, char *path, size_t len,
	      struct husk_err *e);
/* Set memory.max and pids.max from the limits that are given (> 0). */
int cg_set_limits(const char *path, const struct spec_resources *res, struct husk_err *e);
/* The PIDs in the group (malloc'd, *n of them). */
int cg_pids(const char *path, pid_t **pids, size_t *n);
/* Send sig to every process in the group; returns how many got it. */
int cg_signal(const char *path, int sig);
void cg_remove(const char *path);

#endif
