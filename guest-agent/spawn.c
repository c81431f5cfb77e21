/*
 * Creating a container's processes: its own one in new namespaces, an
 * exec in the PID namespace of the container's process, each cloned
 * straight into the container's cgroup. The child goes on in child_main
 * and reports over a sync socket (procevent.c reads it).
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h> /* struct clone_args, CLONE_INTO_CGROUP */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "log.h"

static int spawn_stream_fd(struct agent *a, const char *cid, const char *eid, enum stream_kind k)
{
	int fd = srv_take_stream(a, cid, eid, k);
	return fd >= 0 ? fd : open("/dev/null", O_RDWR | O_CLOEXEC);
}

/*
 * err, from opening the container's cgroup or from clone3() into it, means
 * the cgroup is gone: when the container's own process has ended, say so in
 * runc's words (ESRCH) and return it; otherwise 0.
 */
static int spawn_not_running(const struct container *c, int err, struct husk_err *e)
{
	const struct proc *init = c->procs;
	if ((err != ENOENT && err != ENODEV) || init->pid <= 0)
		return 0; /* not a missing cgroup, or the container's own process is the one made */
	if (init->state != PROC_EXITED && kill(init->pid, 0) == 0)
		return 0;
	return husk_err_set(e, ESRCH, "container not running: %s has ended", c->id);
}

/*
 * clone3() straight into the container's cgroup (CLONE_INTO_CGROUP): the
 * process is never outside it, so a signal to the whole container (or its
 * end) reaches it from its first instruction, and a container whose cgroup
 * is gone cannot gain a process. Returns the PID, 0 in the child, or a
 * negative errno.
 */
static pid_t spawn_clone(struct container *c, uint64_t flags, struct husk_err *e)
{
	struct clone_args args = { .flags = flags, .exit_signal = SIGCHLD };
	int cgfd = -1;

	if (c->cgroup[0]) {
		cgfd = open(c->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgfd < 0) {
			int err = errno;
			int r = spawn_not_running(c, err, e);
			return r ? r :
				   husk_err_set(e, err, "cgroup %s: %s", c->cgroup, strerror(err));
		}
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgfd;
	}
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		return 0;
	int err = errno;
	if (cgfd >= 0)
		close(cgfd);
	if (pid > 0)
		return pid;
	int r = spawn_not_running(c, err, e);
	return r ? r : husk_err_set(e, err, "clone: %s", strerror(err));
}

/*
 * Clone the process: the container's own one into new namespaces, an exec
 * into the PID namespace of the container's process (the agent joins it
 * for the clone and comes back), the rest of the way in child_main.
 */
pid_t spawn_clone_child(struct agent *a, struct container *c, const struct child_args *ca,
			struct husk_err *e)
{
	struct child_args args = *ca;
	uint64_t flags = 0;

	if (!ca->join_pid) {
		flags |= CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
		/* the namespace made ahead (netinit_spare) when there is one */
		if ((c->spec.namespaces & CLONE_NEWNET) && a->spare_netns >= 0)
			args.netns = a->spare_netns;
		else
			flags |= c->spec.namespaces & CLONE_NEWNET;
	} else {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)ca->join_pid);
		int nsfd = open(path, O_RDONLY | O_CLOEXEC);
		int r = nsfd < 0 || setns(nsfd, CLONE_NEWPID) < 0 ?
				husk_err_set(e, errno, "exec: the container's PID namespace: %s",
					     strerror(errno)) :
				0;
		if (nsfd >= 0)
			close(nsfd);
		if (r < 0)
			return r;
	}
	pid_t pid = spawn_clone(c, flags, e);
	if (pid == 0)
		child_main(&args);
	if (pid > 0 && args.netns >= 0) { /* the child holds it now */
		close(a->spare_netns);
		a->spare_netns = -1;
	}
	if (ca->join_pid && setns(a->own_pidns, CLONE_NEWPID) < 0)
		agent_log("cannot return to the agent's PID namespace: %s", strerror(errno));
	return pid;
}

/*
 * Start the process with its stdio (the streams attached for it, or
 * /dev/null) or its terminal's stream, and watch its sync socket.
 */
int spawn_process(struct agent *a, struct container *c, struct proc *p,
		  const struct spec_process *sp, struct husk_err *e)
{
	struct proc *init = c->procs;
	bool is_init = p == init;
	struct child_args ca = { .spec = &c->spec,
				 .proc = sp,
				 .join_pid = is_init ? 0 : init->pid,
				 .netns = -1,
				 .stdio = { -1, -1, -1 } };
	char rootfs[sizeof(c->dir) + 8];
	int sv[2], tty_sock = -1, r = 0;

	/* the spec's own root.path, of any length, when none was mounted here */
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", c->dir);
	ca.rootfs = c->mounted ? rootfs : c->spec.root_path;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return husk_err_set(e, errno, "socketpair: %s", strerror(errno));
	ca.sync = sv[1];
	if (sp->terminal) {
		tty_sock = srv_take_stream(a, c->id, p->eid, STREAM_TTY);
	} else {
		for (int i = 0; i < 3; i++)
			if ((ca.stdio[i] = spawn_stream_fd(a, c->id, p->eid, (enum stream_kind)i)) <
			    0)
				r = husk_err_set(e, errno, "/dev/null: %s", strerror(errno));
	}
	if (r == 0) {
		pid_t pid = a->ops->clone_child(a, c, &ca, e);
		if (pid < 0)
			r = pid;
		p->pid = pid;
	}
	for (int i = 0; i < 3; i++)
		if (ca.stdio[i] >= 0)
			close(ca.stdio[i]);
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		if (tty_sock >= 0)
			close(tty_sock);
		return r;
	}
	p->sync_fd = sv[0];
	p->sync_w = (struct watch){ W_SYNC, p };
	p->state = PROC_SETTING_UP;
	p->tty_sock = tty_sock;
	if (srv_watch(a, p->sync_fd, &p->sync_w, EPOLLIN) < 0) {
		kill(p->pid, SIGKILL);
		return husk_err_set(e, EIO, "cannot watch the new process");
	}
	return 0;
}
