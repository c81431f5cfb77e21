/*
 * husk update: change a container's resources where its VM can honour
 * them. Memory and pids limits go to the container's cgroup in the guest
 * (memory up to what the VM has: its RAM is fixed when it is made); CPU
 * quota, period and shares go to the VM's host cgroup (linux.cgroupsPath),
 * which bounds all of its vCPUs. Anything else is refused with a reason.
 * Failures are reported through g and returned as a negative errno.
 */
#ifndef HUSK_RUNTIME_UPDATE_H
#define HUSK_RUNTIME_UPDATE_H

#include "husk/spec.h"
#include "state.h"

/*
 * res holds the limits from the command line (memory_limit, pids_limit,
 * cpu_quota -1 and cpu_period, cpu_shares 0 where none is given);
 * resources_file (NULL: none; "-": stdin) is an OCI LinuxResources object
 * read over them.
 */
int husk_update(const struct husk_global *g, const char *id, const char *resources_file,
		const struct spec_resources *res);

#endif
