/*
 * What the container's processes tell the agent: their sync socket's
 * messages while they are set up (child.h), and their end (SIGCHLD). Each
 * answers the requests that waited for it.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"

void procev_sync(struct agent *a, struct proc *p)
{
	char buf[CHILD_MSG_MAX + 1];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct husk_err e = { 0 };

	ssize_t n = recvmsg(p->sync_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
			if (n > 0 && buf[0] == 'T' && !p->tty) {
				fcntl(fd, F_SETFL, O_NONBLOCK);
				if (p->tty_sock >= 0)
					fcntl(p->tty_sock, F_SETFL, O_NONBLOCK);
				p->tty = tty_start(a, fd, p->tty_sock);
				if (p->tty)
					p->tty_sock = -1;
				else
					close(fd);
			} else {
				close(fd);
			}
		}
	if (n > 0 && buf[0] == 'R' && p->state == PROC_SETTING_UP) {
		if (p->autostart && send(p->sync_fd, "S", 1, MSG_NOSIGNAL) == 1) {
			p->state = PROC_STARTING;
		} else {
			p->state = PROC_CREATED;
			json_t *res = json_pack("{s:i}", "pid", (int)p->pid);
			ctr_answer(a, &p->reply, PROTO_OK, res);
			json_decref(res);
		}
	} else if (n > 0 && buf[0] == 'E') {
		buf[n] = '\0';
		char *msg = NULL;
		long code = strtol(buf + 1, &msg, 10);
		husk_err_set(&e, code > 0 && code < 4096 ? (int)code : EIO, "%s",
			     *msg == ':' ? msg + 1 : buf + 1);
		ctr_answer_err(a, &p->reply, &e);
		if (p == p->ctr->procs && p->state == PROC_SETTING_UP)
			p->ctr->doomed = true; /* a failed create leaves nothing behind */
	} else if (n <= 0) {
		/* end of file: the program runs, or the process is gone */
		if (p->state == PROC_STARTING && p->reply) {
			json_t *res = p->autostart ? json_pack("{s:i}", "pid", (int)p->pid) :
						     json_object();
			ctr_answer(a, &p->reply, PROTO_OK, res);
			json_decref(res);
			p->state = PROC_RUNNING;
		} else if (p->reply) {
			husk_err_set(&e, ECHILD, "the process ended while it was being set up");
			ctr_answer_err(a, &p->reply, &e);
		}
		ctr_close_sync(a, p);
	}
}

void procev_reap(struct agent *a)
{
	int wstatus;
	pid_t pid;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		struct proc *p = ctr_by_pid(a, pid);
		if (!p)
			continue; /* an orphan the agent inherited */
		/* what the child said before it ended decides what it was */
		for (int i = 0; i < 16 && p->sync_fd >= 0; i++)
			procev_sync(a, p);
		ctr_close_sync(a, p);
		struct container *c = p->ctr;
		p->state = PROC_EXITED;
		p->wstatus = wstatus;
		json_t *res = ctr_status_json(wstatus);
		ctr_answer(a, &p->waiters, PROTO_OK, res);
		json_decref(res);
		if (c->doomed && !ctr_running(c))
			ctr_destroy(a, c);
	}
}
