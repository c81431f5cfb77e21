/*
 * virtio-vsock device: the tx queue carries the guest's packets to host
 * sockets, the rx queue the host's packets to the guest. The event queue
 * is never used (no transport resets are announced).
 */
#include "devices/vsock.h"

#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/device_module.h"
#include "devices/devmgr.h"
#include "husk/path.h"
#include "husk/uds.h"
#include "log.h"
#include "virtio/chain_io.h"
#include "virtio/process.h"

enum { VSOCK_RXQ = 0, VSOCK_TXQ = 1, VSOCK_EVQ = 2 };

/*
 * Remove a socket left at path by a VM that is gone; refuse anything else
 * there: a file that is not a socket, or a socket some VM still serves.
 */
static int vsock_clear_stale(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("vsock", "%s exists and is not a socket", path);
		return -EEXIST;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int r = uds_connect(fd, path);
	close(fd);
	if (r == -ENAMETOOLONG)
		return r;
	int live = r == 0;
	if (live) {
		log_err("vsock", "%s is in use by another VM", path);
		return -EADDRINUSE;
	}
	unlink(path);
	return 0;
}

int vsock_init(struct vsock *v, const struct vsock_config *c, struct event_loop *el)
{
	uint64_t guest_cid = c->cid;
	const char *uds_path = c->uds_path;

	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->lock, NULL);
	v->listen_fd = -1;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		v->conns[i].fd = -1;
		v->conns[i].owner = v;
	}
	if (guest_cid < 3 || guest_cid > UINT32_MAX) {
		log_err("vsock", "guest CID %llu: must be 3 to 4294967295",
			(unsigned long long)guest_cid);
		return -EINVAL;
	}
	struct husk_err e = { 0 };
	if (path_fmt(&e, v->uds_path, sizeof(v->uds_path), "%s", uds_path) < 0) {
		log_err("vsock", "socket %s", e.msg);
		return -ENAMETOOLONG;
	}
	v->guest_cid = guest_cid;
	v->el = el;
	v->next_host_port = VSOCK_FIRST_HOST_PORT;
	int r = vsock_clear_stale(uds_path);
	return r < 0 ? r : vsock_listen(v);
}

void vsock_destroy(struct vsock *v)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		vsock_conn_close(v, &v->conns[i]);
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->uds_path);
	}
	v->listen_fd = -1;
	pthread_mutex_destroy(&v->lock);
}

/* --- host to guest ------------------------------------------------------ */

static void vsock_fill_hdr(const struct vsock *v, const struct vsock_conn *c,
			   struct virtio_vsock_hdr *h, uint16_t op, uint32_t local_port,
			   uint32_t peer_port)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = htole64(VMADDR_CID_HOST);
	h->dst_cid = htole64(v->guest_cid);
	h->src_port = htole32(local_port);
	h->dst_port = htole32(peer_port);
	h->type = htole16(VIRTIO_VSOCK_TYPE_STREAM);
	h->op = htole16(op);
	if (c) {
		h->buf_alloc = htole32(VSOCK_BUF_ALLOC);
		h->fwd_cnt = htole32(c->fwd_cnt);
	}
}

/* Put one packet (header, then payload already in the chain) on the rx queue. */
static void vsock_rx_push(struct vsock *v, const struct vq_chain *chain, struct virtio_vsock_hdr *h)
{
	chain_write(chain, 0, h, sizeof(*h));
	vq_push(&v->q.vq[VSOCK_RXQ], chain->head, VSOCK_HDR_SIZE + le32toh(h->len));
}

/* Next control packet, if any: true and *h filled. */
static bool vsock_next_control(struct vsock *v, struct virtio_vsock_hdr *h)
{
	if (v->nrst) {
		vsock_fill_hdr(v, NULL, h, VIRTIO_VSOCK_OP_RST, v->rst[0].local_port,
			       v->rst[0].peer_port);
		memmove(v->rst, v->rst + 1, sizeof(v->rst[0]) * --v->nrst);
		return true;
	}
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conns[i];
		if (c->state < VSOCK_HOST_REQUESTED || !c->pending)
			continue;
		uint16_t op;
		if (c->pending & VSOCK_PEND_RST)
			op = VIRTIO_VSOCK_OP_RST;
		else if (c->pending & VSOCK_PEND_REQUEST)
			op = VIRTIO_VSOCK_OP_REQUEST;
		else if (c->pending & VSOCK_PEND_RESPONSE)
			op = VIRTIO_VSOCK_OP_RESPONSE;
		else if (c->pending & VSOCK_PEND_CREDIT)
			op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
		else
			op = VIRTIO_VSOCK_OP_SHUTDOWN;
		vsock_fill_hdr(v, c, h, op, c->local_port, c->peer_port);
		c->fwd_cnt_sent = c->fwd_cnt;
		if (op == VIRTIO_VSOCK_OP_RST) {
			vsock_conn_close(v, c);
			return true;
		}
		if (op == VIRTIO_VSOCK_OP_SHUTDOWN)
			h->flags = htole32(VIRTIO_VSOCK_SHUTDOWN_SEND |
					   (c->guest_shut_send ? VIRTIO_VSOCK_SHUTDOWN_RCV : 0));
		c->pending &= op == VIRTIO_VSOCK_OP_REQUEST	  ? ~VSOCK_PEND_REQUEST :
			      op == VIRTIO_VSOCK_OP_RESPONSE	  ? ~VSOCK_PEND_RESPONSE :
			      op == VIRTIO_VSOCK_OP_CREDIT_UPDATE ? ~VSOCK_PEND_CREDIT :
								    ~VSOCK_PEND_SHUTDOWN;
		return true;
	}
	return false;
}

/* The host socket may have data and the guest can take some. */
static bool vsock_conn_can_send(const struct vsock_conn *c)
{
	return c->state == VSOCK_ESTABLISHED && c->readable && !c->host_eof &&
	       vsock_conn_credit(c) > 0;
}

/*
 * Read host socket data straight into the chain after the header: true if
 * a packet was made. EOF from the host becomes a SHUTDOWN to the guest.
 */
static bool vsock_rx_data(struct vsock *v, const struct vq_chain *chain)
{
	/* round robin, so that one busy connection cannot starve the others */
	for (unsigned k = 0; k < VSOCK_MAX_CONNS; k++) {
		unsigned i = (v->rx_next + k) % VSOCK_MAX_CONNS;
		struct vsock_conn *c = &v->conns[i];
		if (!vsock_conn_can_send(c))
			continue; /* without credit: wait for the guest's CREDIT_UPDATE */
		uint32_t room = chain->writable - VSOCK_HDR_SIZE;
		uint32_t want = vsock_conn_credit(c);
		if (want > room)
			want = room;
		if (want > VSOCK_MAX_PKT_PAYLOAD)
			want = VSOCK_MAX_PKT_PAYLOAD;
		if (want == 0)
			continue; /* a buffer with room for the header only */
		struct chain_piece p[VQ_SIZE_MAX];
		struct iovec iov[VQ_SIZE_MAX];
		unsigned n = chain_writable_pieces(chain, VSOCK_HDR_SIZE, want, p, VQ_SIZE_MAX);
		for (unsigned j = 0; j < n; j++)
			iov[j] = (struct iovec){ p[j].base, p[j].len };
		ssize_t r = readv(c->fd, iov, (int)n);
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			c->readable = errno == EINTR; /* EAGAIN: wait for the next edge */
			continue;
		}
		struct virtio_vsock_hdr h;
		if (r <= 0) {
			/* EOF or error: no more data from the host */
			c->host_eof = true;
			c->readable = false;
			c->pending |= r < 0 ? VSOCK_PEND_RST : VSOCK_PEND_SHUTDOWN;
			continue;
		}
		vsock_fill_hdr(v, c, &h, VIRTIO_VSOCK_OP_RW, c->local_port, c->peer_port);
		h.len = htole32((uint32_t)r);
		c->tx_cnt += (uint32_t)r;
		c->fwd_cnt_sent = c->fwd_cnt;
		vsock_rx_push(v, chain, &h);
		v->rx_next = (i + 1) % VSOCK_MAX_CONNS;
		return true;
	}
	return false;
}

void vsock_rx_kick(struct vsock *v)
{
	struct virtqueue *vq = &v->q.vq[VSOCK_RXQ];
	struct vq_chain *chain = NULL;
	static __thread struct vq_chain chain_buf;
	int pushed = 0;

	if (!v->active || !vq->ready)
		return;
	chain = &chain_buf;
	while (vq_has_avail(vq)) {
		struct virtio_vsock_hdr h;
		bool control = vsock_next_control(v, &h);
		bool work = control;
		if (!control) {
			/* is there data to read? peek before taking a buffer */
			for (unsigned i = 0; i < VSOCK_MAX_CONNS && !work; i++) {
				struct vsock_conn *c = &v->conns[i];
				work = vsock_conn_can_send(c);
			}
			if (!work)
				break;
		}
		int r = vq_pop(vq, chain);
		if (r < 0) {
			log_err("vsock", "bad rx descriptor chain: %s", strerror(-r));
			v->q.queue_broken(v->q.transport, VSOCK_RXQ);
			return;
		}
		if (r == 0)
			break;
		if (chain->writable < VSOCK_HDR_SIZE || chain->readable) {
			log_err("vsock", "rx buffer too small or not device-writable");
			v->q.queue_broken(v->q.transport, VSOCK_RXQ);
			return;
		}
		if (control) {
			vsock_rx_push(v, chain, &h);
			pushed++;
		} else if (vsock_rx_data(v, chain)) {
			pushed++;
		} else if (vsock_next_control(v, &h)) {
			/* the read found EOF or an error: that became a control packet */
			vsock_rx_push(v, chain, &h);
			pushed++;
		} else {
			/* the socket had nothing after all: the buffer goes back unused */
			vq_unpop(vq);
		}
	}
	if (pushed)
		v->q.notify_used(v->q.transport, VSOCK_RXQ);
}

/* --- guest to host ------------------------------------------------------ */

static void vsock_tx_packet(struct vsock *v, const struct vq_chain *chain)
{
	struct virtio_vsock_hdr h;
	memset(&h, 0, sizeof(h));
	chain_read(chain, 0, &h, sizeof(h));
	const char *bad = vsock_hdr_check(&h, v->guest_cid, chain->readable);
	uint16_t op = le16toh(h.op);
	uint32_t src_port = le32toh(h.src_port), dst_port = le32toh(h.dst_port);
	if (bad) {
		log_err("vsock", "dropped a packet from the guest: %s", bad);
		if (chain->readable >= VSOCK_HDR_SIZE && op != VIRTIO_VSOCK_OP_RST)
			vsock_queue_rst(v, dst_port, src_port);
		return;
	}
	if (op == VIRTIO_VSOCK_OP_REQUEST) {
		vsock_conn_guest_connect(v, &h);
		return;
	}
	struct vsock_conn *c = vsock_conn_find(v, dst_port, src_port);
	if (!c) {
		if (op != VIRTIO_VSOCK_OP_RST)
			vsock_queue_rst(v, dst_port, src_port);
		return;
	}
	c->peer_buf_alloc = le32toh(h.buf_alloc);
	c->peer_fwd_cnt = le32toh(h.fwd_cnt);
	switch (op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != VSOCK_HOST_REQUESTED) {
			c->pending |= VSOCK_PEND_RST;
			break;
		}
		c->state = VSOCK_ESTABLISHED;
		char ok[32];
		int n = snprintf(ok, sizeof(ok), "OK %u\n", c->local_port);
		if (send(c->fd, ok, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
			c->pending |= VSOCK_PEND_RST;
		break;
	case VIRTIO_VSOCK_OP_RST: vsock_conn_close(v, c); break;
	case VIRTIO_VSOCK_OP_RW:
		if (c->state != VSOCK_ESTABLISHED || c->guest_shut_send ||
		    !vsock_conn_to_host(v, c, chain, le32toh(h.len))) {
			log_err("vsock", "port %u: data beyond the credit or after shutdown",
				c->local_port);
			c->pending |= VSOCK_PEND_RST;
		}
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST: c->pending |= VSOCK_PEND_CREDIT; break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (le32toh(h.flags) & VIRTIO_VSOCK_SHUTDOWN_SEND)
			c->guest_shut_send = true;
		if (le32toh(h.flags) & VIRTIO_VSOCK_SHUTDOWN_RCV)
			c->guest_shut_rcv = true;
		vsock_conn_flush(v, c); /* ends with RST once the guest is done both ways */
		break;
	default: /* CREDIT_UPDATE: the credit fields were all it carried */ break;
	}
}

static int64_t vsock_tx_one(void *ctx, const struct vq_chain *chain)
{
	vsock_tx_packet(ctx, chain);
	return 0;
}

static void vsock_tx_kick(struct vsock *v)
{
	virtio_process_queue(&v->q, VSOCK_TXQ, "virtio-vsock", vsock_tx_one, v);
	vsock_rx_kick(v); /* responses, credit updates, data the credit now allows */
}

/* --- device ops ----------------------------------------------------------- */

static void vsock_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
	struct vsock *v = dev;
	struct virtio_vsock_config cfg = { .guest_cid = htole64(v->guest_cid) };
	memcpy(data, (const uint8_t *)&cfg + off, len);
}

static int vsock_activate(void *dev, uint64_t features, const struct virtio_queues *q)
{
	struct vsock *v = dev;
	(void)features;
	pthread_mutex_lock(&v->lock);
	v->q = *q;
	v->active = true;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

static void vsock_queue_notify(void *dev, unsigned queue)
{
	struct vsock *v = dev;
	pthread_mutex_lock(&v->lock);
	if (v->active) {
		if (queue == VSOCK_TXQ)
			vsock_tx_kick(v);
		else if (queue == VSOCK_RXQ)
			vsock_rx_kick(v);
	}
	pthread_mutex_unlock(&v->lock);
}

/* The driver reset the device: every connection ends, the listener stays. */
static void vsock_reset(void *dev)
{
	struct vsock *v = dev;
	pthread_mutex_lock(&v->lock);
	v->active = false;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		vsock_conn_close(v, &v->conns[i]);
	v->nrst = 0;
	pthread_mutex_unlock(&v->lock);
}

/*
 * No connection is carried over a snapshot: the restored VM's host socket is
 * another one, and what a host client and the guest were saying is lost. A
 * device with one (or a reset the guest has not been told yet) is not saved;
 * a template's guest only listens. No state of its own.
 */
static int vsock_save(void *dev, void **blob, size_t *len)
{
	struct vsock *v = dev;
	unsigned live = 0;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		live += v->conns[i].state != VSOCK_FREE;
	unsigned nrst = v->nrst;
	pthread_mutex_unlock(&v->lock);
	if (live || nrst) {
		log_err("vsock",
			"cannot be saved with %u live connection(s) and %u reset(s) not "
			"yet sent to the guest: no connection is carried into a snapshot",
			live, nrst);
		return -EBUSY;
	}
	*blob = NULL;
	*len = 0;
	return 0;
}

const struct virtio_device_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.num_queues = 3,
	.queue_max_size = 256,
	.features = 0,
	.config_size = 8,
	.config_read = vsock_config_read,
	.activate = vsock_activate,
	.queue_notify = vsock_queue_notify,
	.reset = vsock_reset,
	.save = vsock_save,
};

/* --- the module: --vsock-uds PATH, --vsock-cid N ------------------------ */

struct vsock_module_state {
	struct virtio_mmio t;
	struct vsock v;
};

enum { VSOCK_OPT_UDS, VSOCK_OPT_CID };

static const struct option vsock_opts[] = {
	{ "vsock-uds", required_argument, NULL, VSOCK_OPT_UDS },
	{ "vsock-cid", required_argument, NULL, VSOCK_OPT_CID },
	{ 0 },
};

static void vsock_defaults(struct vmm_config *c)
{
	c->vsock.cid = 3;
}

static int vsock_parse(struct vmm_config *c, int val, const char *arg)
{
	if (val == VSOCK_OPT_UDS) {
		c->vsock.uds_path = arg;
		return 0;
	}
	unsigned cid;
	if (config_parse_count(arg, &cid) < 0 || cid < 3) {
		log_err("config", "--vsock-cid '%s': a number from 3 up", arg);
		return -EINVAL;
	}
	c->vsock.cid = cid;
	return 0;
}

static int vsock_add(const struct vmm_config *c, const struct device_env *env, void **state)
{
	if (!c->vsock.uds_path)
		return 0;
	struct vsock_module_state *s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	*state = s;
	int r = vsock_init(&s->v, &c->vsock, env->el);
	if (r < 0)
		return r;
	return devmgr_add(env->dm, &s->t, &vsock_ops, &s->v);
}

static void vsock_stop(void *state)
{
	struct vsock_module_state *s = state;
	if (s)
		vsock_destroy(&s->v);
}

const struct device_module vsock_module = {
	.name = "virtio-vsock",
	.opts = vsock_opts,
	.usage = "  --vsock-uds PATH     a virtio-vsock device bridged to Unix sockets:\n"
		 "                       clients of PATH send \"CONNECT <port>\\n\"; the guest's\n"
		 "                       connects to host port P reach PATH_P\n"
		 "  --vsock-cid N        the guest's vsock CID (default 3)\n",
	.defaults = vsock_defaults,
	.parse = vsock_parse,
	.add = vsock_add,
	.stop = vsock_stop,
	.destroy = free,
};
