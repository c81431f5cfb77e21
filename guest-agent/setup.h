/*
 * Container setup, run in the container's own process (a child of the
 * agent) before it executes the workload. Every function returns 0 or a
 * negative errno with `e` naming the step that failed; none of them exits.
 */
#ifndef HUSK_AGENT_SETUP_H
#define HUSK_AGENT_SETUP_H

#include <stddef.h>

#include "husk/error.h"
#include "husk/spec.h"

/*
 * In the container's first process, already in its new mount, PID, UTS and
 * IPC namespaces: make the mount tree private, bind `rootfs` (a directory
 * the agent mounted the root filesystem on) onto itself, mount the spec's
 * mounts in order (bind, tmpfs, proc, sysfs, devpts, mqueue, cgroup2, ...),
 * give a /dev that is a tmpfs the default devices (null, zero, full, random,
 * urandom, tty) and links (fd, stdin, stdout, stderr, ptmx), pivot_root
 * into it, detach the old root, make the root read-only if asked and set
 * the hostname.
 */
int setup_rootfs(const struct spec *s, const char *rootfs, struct husk_err *e);

/*
 * For a process with a terminal: open a new pty from the container's
 * /dev/ptmx (after setup_rootfs, or after joining the container's mount
 * namespace for an exec), send the master over `sock` with SCM_RIGHTS, set
 * the window size, start a new session with the slave as controlling
 * terminal and make it fds 0, 1 and 2.
 */
int setup_terminal(int sock, const struct spec_process *p, struct husk_err *e);

/*
 * The process's own attributes, last before exec: rlimits, oom_score_adj,
 * umask, groups, gid and uid (keeping capabilities across the change),
 * capability sets (bounding, then permitted/effective/inheritable, then
 * ambient), noNewPrivileges, working directory.
 */
int setup_process(const struct spec_process *p, struct husk_err *e);
/* In the agent before it makes any process: what setup_process reads of the kernel. */
void setup_init(void);

/*
 * Resolve args[0] as execvp would, with PATH from the process's env (or
 * "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" when it
 * has none), relative to the current root and working directory. Fails
 * as runc words it: ENOENT ("exec: \"nope\": executable file not found in
 * $PATH") or EACCES ("exec: \"/etc/passwd\": permission denied").
 */
int setup_find_program(const struct spec_process *p, char *out, size_t outlen, struct husk_err *e);

#endif
