/*
 * A terminal's relay: the pty master in the agent on one side, the host's
 * "tty" vsock stream on the other. Non-blocking both ways with a buffer
 * each, so a host that stops reading stalls only this terminal. When the
 * last holder of the slave is gone the master reads EIO: what was buffered
 * has been read by then, and the stream is shut down after it is sent.
 */
#include "agent.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define TTY_BUF 16384

struct tty_relay {
	int master, sock;
	struct watch mw, sw;
	uint8_t out[TTY_BUF]; /* master -> host */
	size_t outlen, outoff;
	uint8_t in[TTY_BUF]; /* host -> master */
	size_t inlen, inoff;
	bool master_eof, sock_eof;
};

static void tty_close_fd(struct agent *a, int *fd)
{
	if (*fd >= 0) {
		srv_unwatch(a, *fd);
		close(*fd);
		*fd = -1;
	}
}

/* Watch each side for what it can do next. */
static void tty_update(struct agent *a, struct tty_relay *t)
{
	if (t->master_eof && t->outoff == t->outlen && t->sock >= 0) {
		shutdown(t->sock, SHUT_WR);
		tty_close_fd(a, &t->sock);
		tty_close_fd(a, &t->master);
		return;
	}
	if (t->master >= 0) {
		uint32_t ev = 0;
		if (!t->master_eof && t->outlen == 0)
			ev |= EPOLLIN;
		if (t->inoff < t->inlen)
			ev |= EPOLLOUT;
		srv_rewatch(a, t->master, &t->mw, ev);
	}
	if (t->sock >= 0) {
		uint32_t ev = 0;
		if (!t->sock_eof && t->inlen == 0)
			ev |= EPOLLIN;
		if (t->outoff < t->outlen)
			ev |= EPOLLOUT;
		srv_rewatch(a, t->sock, &t->sw, ev);
	}
}

struct tty_relay *tty_start(struct agent *a, int master, int sock)
{
	struct tty_relay *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->master = master;
	t->sock = sock;
	t->mw = (struct watch){ W_TTY_MASTER, t };
	t->sw = (struct watch){ W_TTY_SOCK, t };
	if (srv_watch(a, master, &t->mw, EPOLLIN) < 0)
		t->master_eof = true;
	if (sock >= 0 && srv_watch(a, sock, &t->sw, EPOLLIN) < 0)
		t->sock_eof = true;
	if (sock < 0)
		t->sock_eof = true; /* no host side: output is read and dropped */
	tty_update(a, t);
	return t;
}

/* Move bytes one step: read into an empty buffer, write out a full one. */
static void tty_pump(int from, int to, uint8_t *buf, size_t *len, size_t *off, bool *eof, bool drop)
{
	if (*len == 0 && !*eof && from >= 0) {
		ssize_t n = read(from, buf, TTY_BUF);
		if (n > 0) {
			*len = (size_t)n;
			*off = 0;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			*eof = true; /* EIO on the master: no slave left */
		}
	}
	if (*off < *len) {
		ssize_t w = drop ? (ssize_t)(*len - *off) :
			    to >= 0 ?
				   send(to, buf + *off, *len - *off, MSG_NOSIGNAL | MSG_DONTWAIT) :
				   -1;
		if (w < 0 && errno == ENOTSOCK)
			w = write(to, buf + *off, *len - *off);
		if (w > 0)
			*off += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			*off = *len; /* the other side is gone: drop */
		if (*off == *len)
			*off = *len = 0;
	}
}

void tty_event(struct agent *a, struct tty_relay *t, enum watch_kind kind, uint32_t events)
{
	tty_pump(t->master, t->sock, t->out, &t->outlen, &t->outoff, &t->master_eof, t->sock < 0);
	tty_pump(t->sock, t->master, t->in, &t->inlen, &t->inoff, &t->sock_eof, t->master < 0);
	tty_update(a, t);
}

int tty_resize(struct tty_relay *t, unsigned rows, unsigned cols)
{
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	if (t->master < 0)
		return -EPIPE;
	return ioctl(t->master, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

void tty_free(struct agent *a, struct tty_relay *t)
{
	if (!t)
		return;
	tty_close_fd(a, &t->master);
	tty_close_fd(a, &t->sock);
	free(t);
}
