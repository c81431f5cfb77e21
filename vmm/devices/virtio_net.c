/*
 * virtio-net on a tap. Every frame carries the 12-byte virtio_net_hdr_mrg_rxbuf
 * both ways: the tap reads and writes it (IFF_VNET_HDR, TUNSETVNETHDRSZ), so
 * the device copies it through and only sets num_buffers on receive.
 */
#include "devices/virtio_net.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/device_module.h"
#include "devices/devmgr.h"
#include "log.h"
#include "virtio/chain_io.h"
#include "virtio/process.h"

enum { NET_RXQ = 0, NET_TXQ = 1 };

#define NET_HDR	    sizeof(struct virtio_net_hdr_mrg_rxbuf)
#define NET_NUMBUFS offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers)
#define NET_CONFIG  (offsetof(struct virtio_net_config, mtu) + 2)
#define BIT(f)	    (1ULL << (f))

_Static_assert(NET_HDR == 12, "virtio 1.x net header");

/* What the device offers whatever the back end: TX offloads the tap always takes. */
#define NET_FEATURES                                                                       \
	(BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_MTU) | BIT(VIRTIO_NET_F_MRG_RXBUF) |     \
	 BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4) | \
	 BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_RING_F_INDIRECT_DESC))

int virtio_net_tap_open(const char *name, unsigned *offloads)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = -errno;
		log_err("virtio-net", "cannot open /dev/net/tun: %s", strerror(errno));
		return e;
	}
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int hdr = (int)NET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		int e = -errno;
		log_err("virtio-net", "tap %s: %s", name, strerror(errno));
		close(fd);
		return e;
	}
	/* What the tap may hand us; none of it until the guest accepts it. */
	static const unsigned tries[] = { TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, TUN_F_CSUM };
	*offloads = 0;
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]) && !*offloads; i++)
		if (ioctl(fd, TUNSETOFFLOAD, tries[i]) == 0)
			*offloads = tries[i];
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		int e = -errno;
		log_err("virtio-net", "tap %s: TUNSETOFFLOAD: %s", name, strerror(errno));
		close(fd);
		return e;
	}
	return fd;
}

/* --- receive: back end to guest ------------------------------------------ */

static void net_watch(struct virtio_net *n, bool on)
{
	if (n->fd < 0 || n->rx_watch == on)
		return;
	if (el_modify(n->el, n->fd, on ? EPOLLIN : 0) == 0)
		n->rx_watch = on;
}

/* The back end ended (EOF or an error from a stand-in): stop watching it for good. */
static void net_backend_gone(struct virtio_net *n, const char *why)
{
	if (n->fd < 0)
		return;
	log_err("virtio-net", "back end %s: receive stops", why);
	el_remove(n->el, n->fd);
	n->rx_watch = false;
	close(n->fd);
	n->fd = -1;
}

/* One frame from the back end into rx_frame: 1, 0 if there is none now, -1 if one was dropped. */
static int net_rx_read(struct virtio_net *n)
{
	ssize_t r;
	while ((r = read(n->fd, n->rx_frame, sizeof(n->rx_frame))) < 0 && errno == EINTR)
		;
	if (r < 0 && errno == EAGAIN)
		return 0;
	if (r <= 0) {
		net_backend_gone(n, r < 0 ? strerror(errno) : "closed");
		return 0;
	}
	if ((size_t)r < NET_HDR + ETH_HLEN) {
		n->stats.rx_dropped++; /* a runt: nothing a guest could use */
		return -1;
	}
	n->rx_len = (uint32_t)r;
	n->rx_pending = true;
	return 1;
}

static void net_rx_rewind(struct virtqueue *vq, unsigned popped)
{
	while (popped--)
		vq_unpop(vq);
}

static void net_rx_broken(struct virtio_net *n, struct virtqueue *vq, int err, const char *why)
{
	log_err("virtio-net", "receive queue: %s", why);
	vq_mark_broken(vq, err);
	n->q.queue_broken(n->q.transport, NET_RXQ);
	n->rx_pending = false;
}

/*
 * Copy rx_frame into as many receive chains as it needs (one without
 * mergeable buffers), then return them all: 1 when the frame is gone
 * (delivered or dropped), 0 if the guest must give more buffers first, -1
 * if the queue broke. Nothing is returned to the guest unless the whole
 * frame fits: the chains taken so far go back unused.
 */
static int net_rx_deliver(struct virtio_net *n, unsigned *pushed)
{
	static __thread struct vq_chain chain;
	struct virtqueue *vq = &n->q.vq[NET_RXQ];
	bool mrg = n->features & BIT(VIRTIO_NET_F_MRG_RXBUF);
	unsigned max = mrg ? vq->size : 1;
	uint16_t heads[VQ_SIZE_MAX];
	uint32_t lens[VQ_SIZE_MAX];
	struct chain_piece nb[2]; /* where num_buffers lands in the first chain */
	unsigned nnb = 0, k = 0;
	size_t off = 0;

	while (off < n->rx_len) {
		if (k == max) {
			net_rx_rewind(vq, k); /* larger than anything the queue can hold */
			n->stats.rx_dropped++;
			n->rx_pending = false;
			return 1;
		}
		int r = vq_pop(vq, &chain);
		if (r < 0) {
			n->q.queue_broken(n->q.transport, NET_RXQ);
			n->rx_pending = false;
			return -1;
		}
		if (r == 0) {
			net_rx_rewind(vq, k);
			return 0;
		}
		if (chain.readable || chain.writable < NET_HDR) {
			net_rx_broken(n, vq, -EINVAL,
				      "buffer not device-writable or under 12 bytes");
			return -1;
		}
		size_t take = n->rx_len - off;
		if (take > chain.writable)
			take = chain.writable;
		chain_write(&chain, 0, n->rx_frame + off, take);
		if (k == 0)
			nnb = chain_writable_pieces(&chain, NET_NUMBUFS, 2, nb, 2);
		heads[k] = chain.head;
		lens[k++] = (uint32_t)take;
		off += take;
	}
	uint8_t num[2] = { (uint8_t)k, (uint8_t)(k >> 8) }; /* little-endian */
	for (unsigned i = 0, at = 0; i < nnb; at += (unsigned)nb[i++].len)
		memcpy(nb[i].base, num + at, nb[i].len);
	for (unsigned i = 0; i < k; i++)
		vq_push(vq, heads[i], lens[i]);
	*pushed += k;
	n->stats.rx_frames++;
	n->rx_pending = false;
	return 1;
}

/* Under n->lock. */
static void net_rx_locked(struct virtio_net *n)
{
	struct virtqueue *vq = &n->q.vq[NET_RXQ];
	unsigned pushed = 0;

	if (!n->active || !vq->ready || vq->broken || n->fd < 0) {
		net_watch(n, false);
		return;
	}
	for (unsigned budget = NET_RX_BUDGET; budget; budget--) {
		if (!n->rx_pending) {
			if (!vq_has_avail(vq))
				break;
			int r = net_rx_read(n);
			if (r == 0)
				break;
			if (r < 0)
				continue; /* dropped: it counts against the budget all the same */
		}
		if (net_rx_deliver(n, &pushed) <= 0)
			break;
	}
	/* More is read only once the guest has buffers and any held frame is delivered. */
	net_watch(n, n->fd >= 0 && !vq->broken && !n->rx_pending && vq_has_avail(vq));
	if (pushed)
		n->q.notify_used(n->q.transport, NET_RXQ);
}

void virtio_net_rx(struct virtio_net *n)
{
	pthread_mutex_lock(&n->lock);
	net_rx_locked(n);
	pthread_mutex_unlock(&n->lock);
}

static void net_on_backend(void *ctx, uint32_t events)
{
	struct virtio_net *n = ctx;
	pthread_mutex_lock(&n->lock);
	if ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
		net_backend_gone(n, "hung up");
	else
		net_rx_locked(n);
	pthread_mutex_unlock(&n->lock);
}

/* --- transmit: guest to back end ------------------------------------------ */

static int64_t net_tx_one(void *ctx, const struct vq_chain *c)
{
	struct virtio_net *n = ctx;
	struct chain_piece p[VQ_SIZE_MAX];
	struct iovec iov[VQ_SIZE_MAX];

	if (c->writable || c->readable < NET_HDR)
		return -1; /* not a frame: the queue is broken */
	unsigned np = chain_readable_pieces(c, 0, c->readable, p, VQ_SIZE_MAX);
	for (unsigned i = 0; i < np; i++)
		iov[i] = (struct iovec){ .iov_base = p[i].base, .iov_len = p[i].len };
	ssize_t r = -1;
	while (n->fd >= 0 && (r = writev(n->fd, iov, (int)np)) < 0 && errno == EINTR)
		;
	/* A tap that is down (EIO), full (EAGAIN) or refusing the header: the frame is lost. */
	if (r < 0)
		n->stats.tx_dropped++;
	else
		n->stats.tx_frames++;
	return 0;
}

/* --- device ops --------------------------------------------------------- */

static void net_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
	struct virtio_net *n = dev;
	struct virtio_net_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.mac, n->mac, sizeof(cfg.mac));
	cfg.status = htole16(VIRTIO_NET_S_LINK_UP);
	cfg.max_virtqueue_pairs = htole16(1);
	cfg.mtu = htole16((uint16_t)n->mtu);
	memcpy(data, (const uint8_t *)&cfg + off, len);
}

/* The TUN_F_* that match what the guest takes (TSO needs checksum offload). */
static unsigned net_tun_flags(uint64_t features, unsigned offloads)
{
	unsigned f = 0;
	if (!(features & BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	f = TUN_F_CSUM;
	if (features & BIT(VIRTIO_NET_F_GUEST_TSO4))
		f |= TUN_F_TSO4;
	if (features & BIT(VIRTIO_NET_F_GUEST_TSO6))
		f |= TUN_F_TSO6;
	return f & offloads;
}

static int net_set_offload(struct virtio_net *n, unsigned flags)
{
	if (n->is_tap && n->fd >= 0 && ioctl(n->fd, TUNSETOFFLOAD, flags) < 0) {
		int e = -errno;
		log_err("virtio-net", "TUNSETOFFLOAD %#x: %s", flags, strerror(errno));
		return e;
	}
	n->tun_offload = flags;
	return 0;
}

static unsigned net_offloads_offered(const struct virtio_net *n)
{
	unsigned o = 0;
	if (n->ops.features & BIT(VIRTIO_NET_F_GUEST_CSUM))
		o |= TUN_F_CSUM;
	if (n->ops.features & BIT(VIRTIO_NET_F_GUEST_TSO4))
		o |= TUN_F_TSO4;
	if (n->ops.features & BIT(VIRTIO_NET_F_GUEST_TSO6))
		o |= TUN_F_TSO6;
	return o;
}

static int net_activate(void *dev, uint64_t features, const struct virtio_queues *q)
{
	struct virtio_net *n = dev;
	pthread_mutex_lock(&n->lock);
	int r = net_set_offload(n, net_tun_flags(features, net_offloads_offered(n)));
	if (r == 0) {
		n->q = *q;
		n->features = features;
		n->active = true;
		net_rx_locked(n);
	}
	pthread_mutex_unlock(&n->lock);
	return r;
}

static void net_queue_notify(void *dev, unsigned queue)
{
	struct virtio_net *n = dev;
	pthread_mutex_lock(&n->lock);
	if (n->active && queue == NET_TXQ)
		virtio_process_queue(&n->q, NET_TXQ, "virtio-net", net_tx_one, n);
	else if (n->active && queue == NET_RXQ)
		net_rx_locked(n); /* new buffers: a held frame, or the tap again */
	pthread_mutex_unlock(&n->lock);
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;
	pthread_mutex_lock(&n->lock);
	n->active = false;
	n->features = 0;
	n->rx_pending = false;
	net_watch(n, false);
	net_set_offload(n, 0);
	pthread_mutex_unlock(&n->lock);
}

static const struct virtio_device_ops net_ops_template = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.num_queues = 2,
	.queue_max_size = 256,
	.features = NET_FEATURES,
	.config_size = NET_CONFIG,
	.config_read = net_config_read,
	.activate = net_activate,
	.queue_notify = net_queue_notify,
	.reset = net_reset,
};

int virtio_net_init(struct virtio_net *n, const struct net_config *c, int fd, bool is_tap,
		    unsigned offloads, struct event_loop *el)
{
	memset(n, 0, sizeof(*n));
	pthread_mutex_init(&n->lock, NULL);
	n->fd = fd;
	n->is_tap = is_tap;
	n->el = el;
	memcpy(n->mac, c->mac, sizeof(n->mac));
	n->mtu = (uint16_t)c->mtu;
	n->ops = net_ops_template;
	if (offloads & TUN_F_CSUM) {
		n->ops.features |= BIT(VIRTIO_NET_F_GUEST_CSUM);
		if (offloads & TUN_F_TSO4)
			n->ops.features |= BIT(VIRTIO_NET_F_GUEST_TSO4);
		if (offloads & TUN_F_TSO6)
			n->ops.features |= BIT(VIRTIO_NET_F_GUEST_TSO6);
	}
	if (fd < 0)
		return 0; /* no back end: frames sent are dropped, none arrive */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int e = -errno;
		log_err("virtio-net", "back end: %s", strerror(errno));
		return e;
	}
	return el_add(el, fd, 0, net_on_backend, n);
}

int virtio_net_open(struct virtio_net *n, const struct net_config *c, struct event_loop *el)
{
	unsigned offloads = 0;
	if (!c->tap[0])
		return virtio_net_init(n, c, -1, false, 0, el);
	int fd = virtio_net_tap_open(c->tap, &offloads);
	int r = virtio_net_init(n, c, fd, true, offloads, el);
	return fd < 0 ? fd : r;
}

void virtio_net_close(struct virtio_net *n)
{
	if (n->fd >= 0) {
		el_remove(n->el, n->fd);
		close(n->fd);
	}
	n->fd = -1;
	pthread_mutex_destroy(&n->lock);
}

/* --- the module: --net tap=NAME|none[,mac=MAC][,mtu=N] ------------------ */

struct net_module_state {
	struct virtio_mmio t[CONFIG_MAX_NET];
	struct virtio_net net[CONFIG_MAX_NET]; /* each holds a frame buffer */
	unsigned n;			       /* opened, or tried */
};

static const struct option net_opts[] = {
	{ "net", required_argument, NULL, 0 },
	{ 0 },
};

static int net_parse(struct vmm_config *c, int val, const char *arg)
{
	(void)val;
	if (c->nnet == CONFIG_MAX_NET) {
		log_err("config", "at most %d --net options", CONFIG_MAX_NET);
		return -EINVAL;
	}
	if (config_parse_net(arg, c->nnet, &c->net[c->nnet]) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < c->nnet; i++)
		if (c->net[i].tap[0] && !strcmp(c->net[i].tap, c->net[c->nnet].tap)) {
			log_err("config", "--net: tap %s given twice", c->net[i].tap);
			return -EINVAL;
		}
	c->nnet++;
	return 0;
}

static int net_add(const struct vmm_config *c, const struct device_env *env, void **state)
{
	if (!c->nnet)
		return 0;
	struct net_module_state *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*state = s;
	for (unsigned i = 0; i < c->nnet; i++) {
		int r = virtio_net_open(&s->net[i], &c->net[i], env->el);
		s->n++;
		if (r < 0 || (r = devmgr_add(env->dm, &s->t[i], &s->net[i].ops, &s->net[i])) < 0)
			return r;
	}
	return 0;
}

static void net_stop(void *state)
{
	struct net_module_state *s = state;
	for (unsigned i = 0; s && i < s->n; i++)
		virtio_net_close(&s->net[i]);
}

const struct device_module virtio_net_module = {
	.name = "virtio-net",
	.opts = net_opts,
	.usage = "  --net tap=NAME[,mac=MAC][,mtu=N]\n"
		 "                       a virtio-net device on tap NAME (created if absent,\n"
		 "                       gone with husk-vmm); MAC XX:XX:XX:XX:XX:XX (default\n"
		 "                       02:68:75:73:6b:<index>), MTU 68-65535 (default 1500)\n"
		 "                       (repeatable, up to 4)\n"
		 "  --net none[,mac=MAC][,mtu=N]\n"
		 "                       a virtio-net device with no back end: frames the\n"
		 "                       guest sends are dropped, none arrive (for a VM to\n"
		 "                       be saved; the restore gives it its tap)\n",
	.parse = net_parse,
	.add = net_add,
	.stop = net_stop,
	.destroy = free,
};
