/*
 * The host cgroup a container's VM lives in: linux.cgroupsPath, made in
 * every cgroup hierarchy mounted on the host (cgroup v1 controllers, a
 * named hierarchy, cgroup2, or all of them on a hybrid host), given the
 * limits that bound the whole VM, and joined by husk-vmm, so that its
 * vCPU and device threads and its virtiofsd are counted and limited there.
 */
#ifndef HUSK_RUNTIME_HOST_CGROUP_H
#define HUSK_RUNTIME_HOST_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "husk/error.h"

#define HCG_MOUNTINFO "/proc/self/mountinfo"

struct hcg_limits {
	uint64_t memory;     /* bytes; 0: no limit */
	int64_t cpu_quota;   /* microseconds per period; -1: none (unchanged) */
	uint64_t cpu_period; /* microseconds; 0: the default (100000) */
	uint64_t cpu_shares; /* 0: unchanged */
};

/* A cgroup path is absolute, without "..", at most 1024 bytes. */
int hcg_check_path(const char *path, struct husk_err *e);

/*
 * linux.cgroupsPath as a path in the hierarchies: "/a/b" as it is, "a/b"
 * from the root, and systemd's "SLICE:PREFIX:NAME" (--systemd-cgroup)
 * where systemd would put it: "/a.slice/a-b.slice/PREFIX-NAME.scope".
 */
int hcg_path_from_spec(const char *spec_path, char *out, size_t len, struct husk_err *e);

/*
 * Make `path` (and its missing parents) in every hierarchy listed in
 * `mountinfo`, set the limits, and move process `pid` (0: the caller)
 * into it. On failure, what was made is removed again.
 */
int hcg_join(const char *mountinfo, const char *path, pid_t pid, const struct hcg_limits *l,
	     struct husk_err *e);

/* Set the limits of an existing cgroup (husk update). */
int hcg_set(const char *mountinfo, const char *path, const struct hcg_limits *l,
	    struct husk_err *e);

/* Remove the cgroup (its last directory only) from every hierarchy. */
void hcg_remove(const char *mountinfo, const char *path);

#endif
