/*
 * Network namespaces seen from husk: enter a container's namespace (by path,
 * or through a process that lives in it) and come back, and tell the host's
 * own namespace from a container's. And the container's namespace at create:
 * husk-vmm always lives in it, so /proc/<husk-vmm's pid>/ns/net is the
 * container's: the namespace the engine made and named in linux.namespaces
 * (Podman: a "network" entry with a path), or a fresh one when the entry has
 * no path (Docker, whose prestart hook then fills it; ctr; --network none).
 * Host networking (no "network" entry, or a path to the host's own
 * namespace: Docker --network host, ctr --net-host) is refused: a VM cannot
 * share the host's network.
 *
 * setns() moves only the calling thread: enter and leave on the same thread.
 *
 *	cleanup_netns int saved = -1;
 *	if (netns_enter_pid(pid, &saved, e) < 0)
 *		return -e->code;
 *	... netlink work in the container's namespace ...
 *	return 0;           (back in the original namespace here)
 */
#ifndef HUSK_RUNTIME_NETNS_H
#define HUSK_RUNTIME_NETNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "husk/error.h"
#include "husk/spec.h"

#define NETNS_HOST_PATH "/proc/1/ns/net"
#define NETNS_SELF_PATH "/proc/self/ns/net"

/*
 * Enter the network namespace at `path` (a /run/netns/NAME bind mount or a
 * /proc/PID/ns/net). *saved must be -1: it gets a descriptor of the caller's
 * namespace, for netns_leave(). On failure nothing changed and *saved is -1.
 */
int netns_enter_path(const char *path, int *saved, struct husk_err *e);

/* The same through /proc/<pid>/ns/net. */
int netns_enter_pid(pid_t pid, int *saved, struct husk_err *e);

/*
 * Go back to the namespace *saved holds and close it (*saved becomes -1);
 * nothing to do when it is -1. A failure to go back leaves the thread in
 * the container's namespace: the caller must not go on with host work.
 */
int netns_leave(int *saved, struct husk_err *e);

/* For cleanup_netns: netns_leave, whose failure aborts (the thread would stay inside). */
void netns_leavep(int *saved);
#define cleanup_netns __attribute__((cleanup(netns_leavep)))

/* Whether two paths name the same namespace (device and inode): 1 yes, 0 no, negative errno. */
int netns_same(const char *a, const char *b, struct husk_err *e);

/*
 * Whether the namespace at `path` is the host's own (the same device and
 * inode as /proc/1/ns/net): 1 yes, 0 no, negative errno when `path` cannot
 * be examined. Where PID 1's namespaces cannot be read (a sandbox that
 * hides them from its root), the namespace of the calling process (husk,
 * started by the engine on the host) stands for the host's.
 */
int netns_is_host(const char *path, struct husk_err *e);

#define NETNS_HOST_REFUSAL                                                                       \
	"host networking is not possible: a container in a VM cannot share the host's network; " \
	"use a network namespace of its own (for example --network none or the engine's "        \
	"default network)"

/*
 * At create, before anything is made: refuse host networking, and open the
 * namespace the spec names (*fd, O_CLOEXEC), or *fd = -1 when husk-vmm gets
 * a fresh one.
 */
int netns_open_spec(const struct spec *s, int *fd, struct husk_err *e);
/*
 * In husk-vmm's process before its exec: join fd for good, or (fd < 0)
 * unshare a new network namespace (in a forked child, as hcg_join is).
 */
int netns_join(int fd, struct husk_err *e);

#endif
