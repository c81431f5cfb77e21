/* PID 1's duties in the guest: the file systems, the root, power-off. */
#ifndef HUSK_AGENT_INIT_H
#define HUSK_AGENT_INIT_H

#include <stdbool.h>

/*
 * Mount /proc, /sys, /dev (devtmpfs), /dev/pts, /dev/shm, /run and the
 * cgroup2 hierarchy, on a tmpfs that becomes the agent's root (the
 * initramfs itself cannot be the root: pivot_root refuses to leave it, and
 * every container pivots). Failures are logged; the agent goes on with
 * what it has.
 */
void init_filesystems(void);

/* Whether the guest has a vsock device to serve on. */
bool init_have_vsock(void);

/* Whether the kernel's random pool is ready; seeds it from RDRAND-less hosts' setup data. */
bool init_entropy_ready(void);

/* Sync and power off (with halt_reset: the VMM sees a reset and ends). */
void init_poweroff(void) __attribute__((noreturn));

#endif
