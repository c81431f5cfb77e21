/*
 * Shared by the unit tests that need another network namespace to point
 * at (as an engine's): a child process in one of its own, waiting.
 */
#ifndef HUSK_TESTS_NETNS_CHILD_H
#define HUSK_TESTS_NETNS_CHILD_H

#include <sched.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

/* A child that has unshared its network namespace (asserted) and waits; its PID. */
static inline pid_t netns_child(void)
{
	int sync[2];
	ck_assert_int_eq(pipe(sync), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
		(void)!write(sync[1], &c, 1);
		pause();
		_exit(0);
	}
	char c = 0;
	ck_assert_int_eq(read(sync[0], &c, 1), 1);
	close(sync[0]);
	close(sync[1]);
	ck_assert_int_eq(c, 'y');
	return pid;
}

/* The child killed and reaped: its namespace goes with it. */
static inline void netns_child_end(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

#endif
