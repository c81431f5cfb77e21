/* Stdio and signal relays to a process in the guest (see relay.h). */
#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agent_client.h"
#include "husk/deadline.h"
#include "husk/path.h"

#define RELAY_AGENT_MS 10000

/* Wait for pfd[0]; false once pfd[1], the cancel eventfd, fires or poll fails. */
static bool relay_wait(struct pollfd pfd[2])
{
	for (;;) {
		if (poll(pfd, 2, -1) >= 0)
			return !pfd[1].revents;
		if (errno != EINTR)
			return false;
	}
}

static void *relay_pipe_main(void *arg)
{
	struct relay_pipe *p = arg;
	char buf[65536];
	bool dropping = false;
	struct pollfd pfd[2] = { { .fd = p->from, .events = POLLIN },
				 { .fd = p->cancel_efd, .events = POLLIN } };

	while (relay_wait(pfd)) {
		ssize_t n = read(p->from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n && !dropping;) {
			ssize_t w = write(p->to, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				dropping = true;
			else
				off += w;
		}
	}
	if (p->shut_to)
		shutdown(p->to, SHUT_WR);
	return NULL;
}

int relay_pipe_start(struct relay_pipe *p, int from, int to, int cancel_efd, bool shut_to)
{
	*p = (struct relay_pipe){
		.from = from, .to = to, .cancel_efd = cancel_efd, .shut_to = shut_to
	};
	if (pthread_create(&p->thread, NULL, relay_pipe_main, p) != 0)
		return -EAGAIN;
	p->running = true;
	return 0;
}

void relay_pipe_join(struct relay_pipe *p, int ms)
{
	if (!p->running)
		return;
	struct timespec ts = deadline_after_ms(ms);
	if (pthread_timedjoin_np(p->thread, NULL, &ts) != 0) {
		shutdown(p->from, SHUT_RDWR); /* a stream: this unblocks its read */
		ts.tv_sec += 1;
		if (pthread_timedjoin_np(p->thread, NULL, &ts) != 0) {
			pthread_cancel(p->thread); /* stuck writing to a reader that stalls */
			pthread_join(p->thread, NULL);
		}
	}
	p->running = false;
}

/* Send the terminal's size, if it has one. */
static void relay_resize(struct relay_signals *s, struct ac_conn *c)
{
	struct winsize ws;
	struct husk_err e = { 0 };
	if (ioctl(s->tty, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
		return;
	ac_call(c, PROTO_RESIZE,
		json_pack("{s:s,s:s,s:i,s:i}", "id", s->cid, "exec", s->eid, "rows", ws.ws_row,
			  "cols", ws.ws_col),
		NULL, &e); /* a process that has ended has no terminal to resize */
}

static void *relay_signals_main(void *arg)
{
	struct relay_signals *s = arg;
	struct ac_conn c = { .fd = -1 };
	struct husk_err e = { 0 };
	struct pollfd pfd[2] = { { .fd = s->sigfd, .events = POLLIN },
				 { .fd = s->cancel_efd, .events = POLLIN } };

	if (ac_open(&c, s->uds, RELAY_AGENT_MS, NULL, NULL, 0, &e) < 0)
		return NULL;
	if (s->tty >= 0)
		relay_resize(s, &c);
	while (relay_wait(pfd)) {
		struct signalfd_siginfo si;
		if (read(s->sigfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGWINCH) {
			if (s->tty >= 0)
				relay_resize(s, &c);
			continue;
		}
		struct husk_err ignored = { 0 };
		ac_call(&c, PROTO_SIGNAL,
			json_pack("{s:s,s:s,s:i}", "id", s->cid, "exec", s->eid, "signal",
				  (int)si.ssi_signo),
			NULL, &ignored); /* the process may have ended meanwhile */
	}
	ac_close(&c);
	return NULL;
}

int relay_signals_start(struct relay_signals *s, const sigset_t *set, int tty, const char *uds,
			const char *cid, const char *eid, int cancel_efd, struct husk_err *e)
{
	*s = (struct relay_signals){ .sigfd = -1, .cancel_efd = cancel_efd, .tty = tty };
	if (path_fmt(e, s->uds, sizeof(s->uds), "%s", uds) < 0)
		return -e->code;
	snprintf(s->cid, sizeof(s->cid), "%s", cid);
	snprintf(s->eid, sizeof(s->eid), "%s", eid);
	s->sigfd = signalfd(-1, set, SFD_CLOEXEC);
	if (s->sigfd < 0)
		return husk_err_set(e, errno, "signalfd: %s", strerror(errno));
	if (pthread_create(&s->thread, NULL, relay_signals_main, s) != 0) {
		close(s->sigfd);
		s->sigfd = -1;
		return husk_err_set(e, EAGAIN, "cannot start the signal relay");
	}
	s->running = true;
	return 0;
}

void relay_signals_join(struct relay_signals *s)
{
	if (s->running)
		pthread_join(s->thread, NULL);
	s->running = false;
	if (s->sigfd >= 0)
		close(s->sigfd);
	s->sigfd = -1;
}
