/*
 * The agent's protocol server: one epoll loop over the vsock listener,
 * the host's connections, SIGCHLD and the containers' own fds. Nothing a
 * client sends can stop it: a malformed message gets an error reply, a
 * header it cannot follow closes that connection only.
 */
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "log.h"

#define SRV_MAX_CONNS 256
#define SRV_MAX_OUT   (8u << 20) /* replies a client leaves unread before it is dropped */
#define SRV_LINGER_MS 2000	 /* after SHUTDOWN: time for the host to read the reply */

int srv_watch(struct agent *a, int fd, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;
		agent_log("epoll add fd %d: %s", fd, strerror(errno));
		return r;
	}
	return 0;
}

int srv_rewatch(struct agent *a, int fd, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };
	return epoll_ctl(a->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void srv_unwatch(struct agent *a, int fd)
{
	epoll_ctl(a->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int srv_init(struct agent *a)
{
	sigset_t set;

	a->listen_fd = a->sigfd = -1;
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0)
		return -errno;

	/* Every signal PID 1 cares about arrives here, never as a handler. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	a->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->sigfd < 0)
		return -errno;
	a->sig_w = (struct watch){ W_SIGNAL, NULL };
	if (srv_watch(a, a->sigfd, &a->sig_w, EPOLLIN) < 0)
		return -EIO;
	return 0;
}

int srv_listen(struct agent *a)
{
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK,
				    .svm_cid = VMADDR_CID_ANY,
				    .svm_port = PROTO_AGENT_PORT };

	a->listen_fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->listen_fd < 0 || bind(a->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(a->listen_fd, 64) < 0) {
		int r = -errno;
		agent_log("vsock port %u: %s", PROTO_AGENT_PORT, strerror(errno));
		return r;
	}
	a->listen_w = (struct watch){ W_LISTEN, NULL };
	return srv_watch(a, a->listen_fd, &a->listen_w, EPOLLIN);
}

struct conn *srv_conn_by_serial(struct agent *a, uint64_t serial)
{
	for (struct conn *c = a->conns; c; c = c->next)
		if (c->serial == serial)
			return c;
	return NULL;
}

static void srv_conn_close(struct agent *a, struct conn *c)
{
	for (struct conn **pp = &a->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->fd >= 0) {
		srv_unwatch(a, c->fd);
		close(c->fd);
	}
	proto_reader_free(&c->rd);
	free(c->out);
	free(c);
}

static unsigned srv_count(const struct agent *a, enum conn_kind kind, bool any)
{
	unsigned n = 0;
	for (const struct conn *c = a->conns; c; c = c->next)
		n += any || c->kind == kind;
	return n;
}

static void srv_flush(struct agent *a, struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			srv_rewatch(a, c->fd, &c->w, EPOLLIN | EPOLLOUT);
			return;
		}
		if (w <= 0) {
			srv_conn_close(a, c);
			return;
		}
		c->outoff += (size_t)w;
	}
	c->outoff = c->outlen = 0;
	if (c->kind != CONN_STREAM)
		srv_rewatch(a, c->fd, &c->w, EPOLLIN);
}

void srv_reply(struct agent *a, uint64_t serial, uint32_t id, uint16_t type, json_t *payload)
{
	struct conn *c = srv_conn_by_serial(a, serial);
	uint8_t *msg = NULL;
	size_t len = 0;

	if (c && proto_encode(type, id, payload, &msg, &len) == 0) {
		if (c->outlen + len > SRV_MAX_OUT) {
			agent_log("a client leaves %u bytes of replies unread: dropping it",
				  (unsigned)c->outlen);
			srv_conn_close(a, c);
		} else {
			uint8_t *grown = realloc(c->out, c->outlen + len);
			if (grown) {
				memcpy(grown + c->outlen, msg, len);
				c->out = grown;
				c->outlen += len;
				srv_flush(a, c);
			}
		}
	}
	free(msg);
	json_decref(payload);
}

void srv_reply_err(struct agent *a, uint64_t conn, uint32_t id, const struct husk_err *e)
{
	srv_reply(a, conn, id, PROTO_ERROR, proto_error_payload(e));
}

int srv_take_stream(struct agent *a, const char *cid, const char *eid, enum stream_kind kind)
{
	for (struct conn *c = a->conns; c; c = c->next)
		if (c->kind == CONN_STREAM && c->stream == kind && !strcmp(c->cid, cid) &&
		    !strcmp(c->eid, eid) && c->outlen == 0) {
			int fd = c->fd;
			srv_unwatch(a, fd);
			c->fd = -1; /* the process takes it: forget the rest */
			srv_conn_close(a, c);
			return fd;
		}
	return -1;
}

void srv_drop_streams(struct agent *a, const char *cid)
{
	struct conn *c = a->conns;
	while (c) {
		struct conn *next = c->next;
		if (c->kind == CONN_STREAM && !strcmp(c->cid, cid))
			srv_conn_close(a, c);
		c = next;
	}
}

static const char *const srv_stream_names[STREAM_KINDS] = { "stdin", "stdout", "stderr", "tty" };

/* A STREAM request: this connection becomes the named stream of a process to come. */
static void srv_attach_stream(struct agent *a, struct conn *c, const struct proto_msg *m)
{
	struct husk_err e = { 0 };
	const char *cid = NULL, *eid = "", *name = NULL;
	int kind = -1;

	if (proto_get_string(m->payload, "id", 1, &cid, &e) < 0 ||
	    proto_get_string(m->payload, "exec", 0, &eid, &e) < 0 ||
	    proto_get_string(m->payload, "stream", 1, &name, &e) < 0)
		goto fail;
	for (int i = 0; i < STREAM_KINDS; i++)
		if (!strcmp(name, srv_stream_names[i]))
			kind = i;
	if (kind < 0) {
		husk_err_set(&e, EINVAL, "\"stream\": \"%s\" is none of stdin, stdout, stderr, tty",
			     name);
		goto fail;
	}
	if (!spec_id_valid(cid) || (*eid && !spec_id_valid(eid))) {
		husk_err_set(&e, EINVAL, "stream: invalid container or exec id");
		goto fail;
	}
	for (struct conn *o = a->conns; o; o = o->next)
		if (o->kind == CONN_STREAM && (int)o->stream == kind && !strcmp(o->cid, cid) &&
		    !strcmp(o->eid, eid)) {
			husk_err_set(&e, EEXIST, "stream %s of %s/%s is already attached", name,
				     cid, eid);
			goto fail;
		}
	c->kind = CONN_STREAM;
	c->stream = kind;
	snprintf(c->cid, sizeof(c->cid), "%s", cid);
	snprintf(c->eid, sizeof(c->eid), "%s", eid);
	srv_reply(a, c->serial, m->hdr.id, PROTO_OK, json_object());
	return;
fail:
	srv_reply_err(a, c->serial, m->hdr.id, &e);
}

static void srv_message(struct agent *a, struct conn *c, const struct proto_msg *m)
{
	struct husk_err e = { 0 };

	if (m->hdr.type == PROTO_STREAM) {
		if (c->kind == CONN_NEW)
			srv_attach_stream(a, c, m); /* on failure it stays new */
		else
			srv_reply_err(a, c->serial, m->hdr.id,
				      (husk_err_set(&e, EPROTO,
						    "stream: only as the first "
						    "message of a connection"),
				       &e));
		return;
	}
	c->kind = CONN_CONTROL;
	if (m->hdr.type == PROTO_OK || m->hdr.type == PROTO_ERROR) {
		husk_err_set(&e, EPROTO, "%s: not a request", proto_type_name(m->hdr.type));
		srv_reply_err(a, c->serial, m->hdr.id, &e);
	} else if (m->hdr.type == PROTO_SHUTDOWN) {
		a->shutdown = true;
		/* the host may end the VM at the reply: nothing written is lost */
		if (a->ops->sync)
			a->ops->sync();
		srv_reply(a, c->serial, m->hdr.id, PROTO_OK, json_object());
	} else {
		req_handle(a, c->serial, m);
	}
}

/* How many bytes the reader needs to finish the current message. */
static size_t srv_want(const struct proto_reader *r)
{
	if (r->hdr_got < PROTO_HDR_SIZE)
		return PROTO_HDR_SIZE - r->hdr_got;
	return r->cur.len - r->payload_got;
}

static void srv_readable(struct agent *a, struct conn *c)
{
	uint8_t buf[16384];
	uint64_t serial = c->serial;

	for (int rounds = 0; rounds < 16; rounds++) {
		/*
		 * Until a connection has said what it is, read no further than
		 * its first message: a stream's bytes belong to its process.
		 */
		size_t want = sizeof(buf);
		if (c->kind == CONN_NEW && srv_want(&c->rd) < want)
			want = srv_want(&c->rd) ? srv_want(&c->rd) : 1;
		ssize_t n = recv(c->fd, buf, want, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			srv_conn_close(a, c);
			return;
		}
		size_t off = 0;
		while (off < (size_t)n) {
			struct proto_msg m = { 0 };
			struct husk_err e = { 0 };
			size_t used = 0;
			int r = proto_reader_feed(&c->rd, buf + off, (size_t)n - off, &used, &m,
						  &e);
			off += used;
			if (r < 0 && c->rd.broken) {
				/* a header we cannot follow: say why, then hang up */
				srv_reply_err(a, serial, m.hdr.id, &e);
				if ((c = srv_conn_by_serial(a, serial)))
					srv_conn_close(a, c);
				return;
			}
			if (r < 0)
				srv_reply_err(a, serial, m.hdr.id, &e);
			else if (r > 0)
				srv_message(a, c, &m);
			proto_msg_free(&m);
			if (!(c = srv_conn_by_serial(a, serial)))
				return;
			if (c->kind == CONN_STREAM) {
				/* no longer ours to read or watch: its process takes it */
				srv_unwatch(a, c->fd);
				return;
			}
			if (r == 0)
				break;
		}
	}
}

int srv_add_conn(struct agent *a, int fd)
{
	struct conn *c = srv_count(a, CONN_NEW, true) < SRV_MAX_CONNS ? calloc(1, sizeof(*c)) :
									NULL;
	if (!c) {
		agent_log("too many connections: refusing one");
		return -ENFILE;
	}
	c->serial = ++a->next_serial;
	c->fd = fd;
	c->kind = CONN_NEW;
	c->stream = STREAM_KINDS;
	c->w = (struct watch){ W_CONN, c };
	proto_reader_init(&c->rd);
	int r = srv_watch(a, fd, &c->w, EPOLLIN);
	if (r < 0) {
		free(c);
		return r;
	}
	c->next = a->conns;
	a->conns = c;
	return 0;
}

static void srv_accept(struct agent *a)
{
	for (;;) {
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (srv_add_conn(a, fd) < 0)
			close(fd);
	}
}

static void srv_signal(struct agent *a)
{
	struct signalfd_siginfo si;
	bool child = false;
	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si))
		child |= si.ssi_signo == SIGCHLD;
	if (child)
		procev_reap(a);
}

static int64_t srv_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void srv_step(struct agent *a, int timeout_ms)
{
	struct epoll_event ev;

	/*
	 * One event at a time: handling one may free what another event of
	 * the same batch points to.
	 */
	if (epoll_wait(a->epfd, &ev, 1, timeout_ms) != 1)
		return;
	struct watch *w = ev.data.ptr;
	switch (w->kind) {
	case W_LISTEN: srv_accept(a); break;
	case W_SIGNAL: srv_signal(a); break;
	case W_CONN: {
		struct conn *c = w->obj;
		uint64_t serial = c->serial;
		if (ev.events & EPOLLOUT)
			srv_flush(a, c);
		if ((c = srv_conn_by_serial(a, serial)) &&
		    (ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			srv_readable(a, c);
		break;
	}
	case W_SYNC: procev_sync(a, w->obj); break;
	case W_TTY_MASTER:
	case W_TTY_SOCK: tty_event(a, w->obj, w->kind, ev.events); break;
	}
}

void srv_run(struct agent *a)
{
	int64_t linger_until = -1;

	for (;;) {
		/*
		 * Run-once ends when the container has and no host is connected
		 * any more; a shutdown, once its reply had time to go out.
		 */
		unsigned hosts = srv_count(a, CONN_CONTROL, false);
		if (hosts == 0 && (a->shutdown || ctr_all_done(a)))
			return;
		if (a->shutdown && linger_until < 0)
			linger_until = srv_now_ms() + SRV_LINGER_MS;
		int timeout = linger_until < 0 ? -1 : (int)(linger_until - srv_now_ms());
		if (linger_until >= 0 && timeout <= 0)
			return;
		srv_step(a, timeout);
	}
}

void srv_fini(struct agent *a)
{
	while (a->conns)
		srv_conn_close(a, a->conns);
	int *fds[] = { &a->listen_fd, &a->sigfd, &a->epfd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}
