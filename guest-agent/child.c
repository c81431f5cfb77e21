/* A container process, from clone to exec (see child.h). */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netcfg.h"
#include "setup.h"

static void child_send(int sync, char tag, const char *msg)
{
	char buf[CHILD_MSG_MAX];
	int n = snprintf(buf, sizeof(buf), "%c%s", tag, msg ? msg : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	send(sync, buf, (size_t)n, MSG_NOSIGNAL);
}

/* 'E' + errno + ':' + message */
static void child_send_err(int sync, const struct husk_err *e)
{
	char msg[CHILD_MSG_MAX];
	snprintf(msg, sizeof(msg), "%d:%s", e->code, e->msg);
	child_send(sync, 'E', msg);
}

static void __attribute__((noreturn)) child_fail(int sync, const struct husk_err *e)
{
	child_send_err(sync, e);
	_exit(1);
}

/* Put fd `from` at `to`, not close-on-exec. */
static int child_place(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

/*
 * stdio to 0..2 and the sync socket to 3 (close-on-exec); nothing else of
 * the agent's survives.
 */
static int child_fds(const struct child_args *ca, int *sync)
{
	int moved[4];
	int want[4] = { ca->stdio[0], ca->stdio[1], ca->stdio[2], ca->sync };

	for (int i = 0; i < 4; i++) {
		moved[i] = -1;
		if (want[i] >= 0 && (moved[i] = fcntl(want[i], F_DUPFD_CLOEXEC, 10)) < 0)
			return -errno;
	}
	for (int i = 0; i < 3; i++)
		if (moved[i] >= 0 && child_place(moved[i], i) < 0)
			return -errno;
	if (dup3(moved[3], 3, O_CLOEXEC) < 0)
		return -errno;
	close_range(4, ~0U, 0);
	*sync = 3;
	return 0;
}

/* An exec joins the namespaces of the container's process (its PID namespace
 * was joined by the agent before the clone). */
static int child_join(pid_t pid, struct husk_err *e)
{
	static const struct {
		const char *name;
		int type;
	} ns[] = { { "ipc", CLONE_NEWIPC },
		   { "uts", CLONE_NEWUTS },
		   { "net", CLONE_NEWNET },
		   { "cgroup", CLONE_NEWCGROUP },
		   { "mnt", CLONE_NEWNS } };
	int fds[sizeof(ns) / sizeof(ns[0])];

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns[i].name);
		if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return husk_err_set(e, errno, "exec: %s: %s", path, strerror(errno));
	}
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		if (setns(fds[i], ns[i].type) < 0)
			return husk_err_set(e, errno, "exec: join the container's %s namespace: %s",
					    ns[i].name, strerror(errno));
		close(fds[i]);
	}
	return chdir("/") < 0 ? husk_err_set(e, errno, "exec: chdir /: %s", strerror(errno)) : 0;
}

void child_main(const struct child_args *ca)
{
	struct husk_err e = { 0 };
	char path[PATH_MAX];
	sigset_t none;
	int sync = ca->sync;

	/*
	 * The agent blocks signals to read them from a signalfd: undo that.
	 * Their dispositions are the defaults already: the agent sets none
	 * (and made sure of them at start-up, agent.c), so no call per signal
	 * here, where each system call is emulated work.
	 */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* before child_fds closes it */
	if (ca->netns >= 0 && setns(ca->netns, CLONE_NEWNET) < 0) {
		husk_err_set(&e, errno, "network namespace: %s", strerror(errno));
		child_fail(ca->sync, &e);
	}

	if (child_fds(ca, &sync) < 0) {
		husk_err_set(&e, errno, "arranging the process's stdio: %s", strerror(errno));
		child_fail(ca->sync, &e);
	}
	if (ca->join_pid > 0) {
		if (child_join(ca->join_pid, &e) < 0)
			child_fail(sync, &e);
	} else {
		/* lo and net.* sysctls, in its new network namespace */
		if ((ca->spec->namespaces & CLONE_NEWNET) &&
		    netinit_container(ca->spec, ca->netns >= 0, &e) < 0)
			child_fail(sync, &e);
		if ((ca->spec->namespaces & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
			husk_err_set(&e, errno, "cgroup namespace: %s", strerror(errno));
			child_fail(sync, &e);
		}
		if (setup_rootfs(ca->spec, ca->rootfs, &e) < 0)
			child_fail(sync, &e);
	}
	if (ca->proc->terminal && setup_terminal(sync, ca->proc, &e) < 0)
		child_fail(sync, &e);
	if (setup_process(ca->proc, &e) < 0 ||
	    setup_find_program(ca->proc, path, sizeof(path), &e) < 0)
		child_fail(sync, &e);

	child_send(sync, 'R', NULL);
	char go = 0;
	if (recv(sync, &go, 1, 0) != 1 || go != 'S')
		_exit(1); /* the agent gave up on this process */
	execve(path, ca->proc->args, ca->proc->env);
	husk_err_set(&e, errno, "exec: \"%s\": %s", ca->proc->args[0], strerror(errno));
	child_send_err(sync, &e);
	_exit(e.code == ENOENT ? 127 : 126);
}
