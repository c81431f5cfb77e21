/*
 * The host side of vsock connections: the VM's listening socket and the
 * "CONNECT <port>" handshake, connects to "<uds>_<port>" for the guest,
 * and the bounded buffer of guest data the host socket has not taken yet.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/vsock.h"
#include "husk/uds.h"
#include "log.h"
#include "virtio/chain_io.h"

#define VSOCK_EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

struct vsock_conn *vsock_conn_find(struct vsock *v, uint32_t local_port, uint32_t peer_port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conns[i];
		if (c->state >= VSOCK_HOST_REQUESTED && c->local_port == local_port &&
		    c->peer_port == peer_port)
			return c;
	}
	return NULL;
}

static void vsock_on_conn(void *ctx, uint32_t events);

struct vsock_conn *vsock_conn_new(struct vsock *v, int fd, enum vsock_conn_state st)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conns[i];
		if (c->state != VSOCK_FREE)
			continue;
		memset(c, 0, sizeof(*c));
		c->owner = v;
		c->fd = fd;
		c->state = st;
		if (el_add(v->el, fd, VSOCK_EVENTS, vsock_on_conn, c) < 0) {
			c->state = VSOCK_FREE;
			return NULL;
		}
		return c;
	}
	log_err("vsock", "more than %d connections", VSOCK_MAX_CONNS);
	return NULL;
}

void vsock_conn_close(struct vsock *v, struct vsock_conn *c)
{
	if (c->state == VSOCK_FREE)
		return;
	el_remove(v->el, c->fd);
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->owner = v;
}

void vsock_queue_rst(struct vsock *v, uint32_t local_port, uint32_t peer_port)
{
	if (v->nrst == VSOCK_RST_QUEUE) {
		/* drop the oldest: that guest socket times out instead */
		memmove(v->rst, v->rst + 1, sizeof(v->rst[0]) * (VSOCK_RST_QUEUE - 1));
		v->nrst--;
	}
	v->rst[v->nrst++] = (struct vsock_rst){ local_port, peer_port };
}

uint32_t vsock_conn_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

void vsock_conn_guest_connect(struct vsock *v, const struct virtio_vsock_hdr *h)
{
	uint32_t dst_port = le32toh(h->dst_port), src_port = le32toh(h->src_port);
	char path[sizeof(v->uds_path) + 16];
	int n = snprintf(path, sizeof(path), "%s_%u", v->uds_path, dst_port);
	int fd = -1;

	if (vsock_conn_find(v, dst_port, src_port))
		goto refuse; /* the guest reused a live port pair */
	if (n < 0 || (size_t)n >= sizeof(path))
		goto refuse;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || uds_connect(fd, path) < 0)
		goto refuse; /* nobody listens there: the guest gets ECONNRESET */
	struct vsock_conn *c = vsock_conn_new(v, fd, VSOCK_ESTABLISHED);
	if (!c)
		goto refuse;
	c->local_port = dst_port;
	c->peer_port = src_port;
	c->peer_buf_alloc = le32toh(h->buf_alloc);
	c->peer_fwd_cnt = le32toh(h->fwd_cnt);
	c->pending |= VSOCK_PEND_RESPONSE;
	return;
refuse:
	if (fd >= 0)
		close(fd);
	vsock_queue_rst(v, dst_port, src_port);
}

/* Write from p to the host socket; returns bytes written, or -1 if it failed for good. */
static ssize_t vsock_host_write(int fd, const void *p, size_t n)
{
	ssize_t w;
	do
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (w < 0 && errno == EINTR);
	if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return w;
}

bool vsock_conn_to_host(struct vsock *v, struct vsock_conn *c, const struct vq_chain *chain,
			uint32_t len)
{
	if (c->buf_len + (uint64_t)len > VSOCK_BUF_ALLOC)
		return false; /* more than the credit we gave */
	if (!c->buf) {
		c->buf = malloc(VSOCK_BUF_ALLOC);
		if (!c->buf)
			return false;
	}
	/* keep it simple and bounded: append, then write out what the socket takes */
	chain_read(chain, VSOCK_HDR_SIZE, c->buf + c->buf_len, len);
	c->buf_len += len;
	vsock_conn_flush(v, c);
	return true;
}

void vsock_conn_flush(struct vsock *v, struct vsock_conn *c)
{
	if (c->buf_len) {
		ssize_t w = vsock_host_write(c->fd, c->buf, c->buf_len);
		if (w < 0) {
			c->pending |= VSOCK_PEND_RST; /* the host side went away */
			c->buf_len = 0;
			return;
		}
		memmove(c->buf, c->buf + w, c->buf_len - (size_t)w);
		c->buf_len -= (uint32_t)w;
		c->fwd_cnt += (uint32_t)w;
		/* tell the guest about freed room before it runs dry */
		if (c->fwd_cnt - c->fwd_cnt_sent >= VSOCK_BUF_ALLOC / 4 ||
		    (c->buf_len == 0 && c->fwd_cnt != c->fwd_cnt_sent))
			c->pending |= VSOCK_PEND_CREDIT;
	}
	if (!c->buf_len && c->guest_shut_send && !c->host_shut_wr_done) {
		shutdown(c->fd, SHUT_WR);
		c->host_shut_wr_done = true;
	}
	/* the guest is done both ways and the host has all it sent: as Linux does, RST */
	if (!c->buf_len && c->guest_shut_send && c->guest_shut_rcv)
		c->pending |= VSOCK_PEND_RST;
	(void)v;
}

/* "CONNECT <port>\n" from a host client, read without taking stream bytes after it. */
static void vsock_host_handshake(struct vsock *v, struct vsock_conn *c)
{
	char peek[VSOCK_LINE_MAX];
	ssize_t n = recv(c->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		vsock_conn_close(v, c);
		return;
	}
	if (n < 0)
		return;
	char *nl = memchr(peek, '\n', (size_t)n);
	if (!nl) {
		if (n == (ssize_t)sizeof(peek))
			goto bad; /* no newline within the longest valid line */
		return;		  /* wait for the rest of the line */
	}
	size_t len = (size_t)(nl - peek) + 1;
	if (recv(c->fd, c->line, len, MSG_DONTWAIT) != (ssize_t)len)
		goto bad;
	c->line[len - 1] = '\0';
	unsigned port;
	char extra;
	if (sscanf(c->line, "CONNECT %u%c", &port, &extra) != 1)
		goto bad;
	c->local_port = v->next_host_port++;
	if (v->next_host_port < VSOCK_FIRST_HOST_PORT)
		v->next_host_port = VSOCK_FIRST_HOST_PORT;
	c->peer_port = port;
	c->state = VSOCK_HOST_REQUESTED;
	c->pending |= VSOCK_PEND_REQUEST;
	c->readable = true; /* stream bytes may have come with the line */
	vsock_rx_kick(v);
	return;
bad:
	vsock_host_write(c->fd, "ERROR bad CONNECT line\n", 23);
	vsock_conn_close(v, c);
}

static void vsock_on_conn(void *ctx, uint32_t events)
{
	struct vsock_conn *c = ctx;
	struct vsock *v = c->owner;

	pthread_mutex_lock(&v->lock);
	if (c->state == VSOCK_HOST_HANDSHAKE) {
		vsock_host_handshake(v, c);
	} else if (c->state != VSOCK_FREE) {
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			c->readable = true;
		if (events & EPOLLOUT)
			vsock_conn_flush(v, c);
		vsock_rx_kick(v);
	}
	pthread_mutex_unlock(&v->lock);
}

static void vsock_on_listen(void *ctx, uint32_t events)
{
	struct vsock *v = ctx;
	(void)events;
	pthread_mutex_lock(&v->lock);
	for (;;) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		if (!v->active || !vsock_conn_new(v, fd, VSOCK_HOST_HANDSHAKE))
			close(fd); /* no driver yet, or no room: the client sees EOF */
	}
	pthread_mutex_unlock(&v->lock);
}

int vsock_listen(struct vsock *v)
{
	v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (v->listen_fd < 0)
		return -errno;
	int e = uds_bind(v->listen_fd, v->uds_path);
	if (e == 0 && listen(v->listen_fd, 128) < 0)
		e = -errno;
	if (e < 0) {
		log_err("vsock", "cannot listen on %s: %s", v->uds_path, strerror(-e));
		close(v->listen_fd);
		v->listen_fd = -1;
		return e;
	}
	return el_add(v->el, v->listen_fd, EPOLLIN, vsock_on_listen, v);
}
