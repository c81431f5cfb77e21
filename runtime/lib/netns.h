/*
 * The container's network namespace on the host. husk-vmm always lives in
 * it, so /proc/<husk-vmm's pid>/ns/net is the container's: the namespace the
 * engine made and named in linux.namespaces (Podman: a "network" entry with
 * a path), or a fresh one when the entry has no path (Docker, whose prestart
 * hook then fills it; ctr; --network none). Host networking (no "network"
 * entry, or a path to the host's own namespace: Docker --network host, ctr
 * --net-host) is refused: a VM cannot share the host's network.
 */
#ifndef HUSK_RUNTIME_NETNS_H
#define HUSK_RUNTIME_NETNS_H

#include "husk/error.h"
#include "husk/spec.h"

#define NETNS_HOST_REFUSAL                                                                       \
	"host networking is not possible: a container in a VM cannot share the host's network; " \
	"use a network namespace of its own (for example --network none or the engine's "        \
	"default network)"

/*
 * Before anything is made: refuse host networking, and open the namespace
 * the spec names (*fd, O_CLOEXEC), or *fd = -1 when husk-vmm gets a fresh one.
 */
int netns_open(const struct spec *s, int *fd, struct husk_err *e);
/*
 * In husk-vmm's process before its exec: join fd, or (fd < 0) unshare a new
 * network namespace (in a forked child, as hcg_join is).
 */
int netns_enter(int fd, struct husk_err *e);

#endif
