/*
 * The container's side of process creation: what a freshly cloned child of
 * the agent (born in the container's cgroup) does until it runs the
 * workload's program. It reports to the agent over a SOCK_SEQPACKET socket:
 *   'T' + a pty master (SCM_RIGHTS)  a terminal was made
 *   'R'                              set up; waiting for the agent's 'S'
 *   'E' + errno + ':' + message      failed (then it exits)
 * and after 'S' it executes the program: the socket is close-on-exec, so
 * the agent reads end-of-file when the program runs, or an 'E' if it could
 * not be executed.
 */
#ifndef HUSK_AGENT_CHILD_H
#define HUSK_AGENT_CHILD_H

#include <sys/types.h>

#include "husk/spec.h"

#define CHILD_MSG_MAX 512

struct child_args {
	const struct spec *spec; /* the container's own process: its namespaces' setup */
	const struct spec_process *proc;
	const char *rootfs; /* the container's process: the root to pivot into */
	pid_t join_pid;	    /* an exec: the container process whose namespaces it joins */
	int netns;	    /* the container's process: a network namespace made ahead, or -1 */
	int sync;
	int stdio[3]; /* -1 for a terminal */
};

/* Never returns. */
void child_main(const struct child_args *ca) __attribute__((noreturn));

#endif
