/*
 * virtio-net driven through the virtio-mmio transport, rings in a fake RAM;
 * a SOCK_SEQPACKET socketpair stands in for the tap (one message per frame,
 * header included). One test uses a real tap, in a network namespace of its
 * own, where the test may make one.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio_net.h"
#include "event_loop.h"
#include "guest_mem.h"
#include "virtio/mmio.h"
#include "virtio/virtqueue.h"
#include "mmio_driver.h"
#include "unit.h"

#define MiB   (1ULL << 20)
#define RAM   (64 * MiB)
#define QSIZE 16
#define RXBUF 0x100000ULL /* receive buffers, 0x1000 apart */
#define TXBUF 0x200000ULL /* transmit buffers, 0x1000 apart */
#define HDR   12

enum { RXQ = 0, TXQ = 1 };

#define F(b)	  (1ULL << (b))
#define F_MRG	  F(VIRTIO_NET_F_MRG_RXBUF)
#define ALL_TUN	  (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)
#define NO_FEATS  0ULL
#define ALL_FEATS (~0ULL)

static struct guest_mem gm;
static struct virtio_mmio t;
static struct virtio_net net;
static struct event_loop el;
static int irqs;
static int peer = -1; /* the test's end of the stand-in */
static uint16_t next_head[2];
static bool started, net_closed;
static const uint64_t ring[2][3] = { { 0x10000, 0x11000, 0x12000 }, { 0x20000, 0x21000, 0x22000 } };

static void *hva(uint64_t gpa, uint64_t len)
{
	void *p = gm_gpa_to_hva(&gm, gpa, len);
	ck_assert_ptr_nonnull(p);
	return p;
}

static uint8_t pattern(size_t i, unsigned seed)
{
	return (uint8_t)(i * 13 + seed * 7 + (i >> 8));
}

/* A frame with its header: flags/gso zero, then an Ethernet-looking payload. */
static size_t make_frame(uint8_t *buf, size_t len, unsigned seed)
{
	memset(buf, 0, HDR);
	for (size_t i = HDR; i < len; i++)
		buf[i] = pattern(i, seed);
	return len;
}

/* Bring the device up with the offered features that are also in want. */
static void start_with(int fd, bool is_tap, unsigned offloads, uint64_t want)
{
	const struct net_config c = { .tap = "test0",
				      .mac = { 0x02, 0x68, 0x75, 0x73, 0x6b, 0x07 },
				      .mtu = 1400 };
	ck_assert_int_eq(el_init(&el), 0);
	started = true;
	ck_assert_int_eq(virtio_net_init(&net, &c, fd, is_tap, offloads, &el), 0);
	ck_assert_int_eq(virtio_mmio_init(&t, &gm, &net.ops, &net, mmio_count_irq, &irqs), 0);
	uint64_t offered = mmio_offered(&t);
	mmio_negotiate(&t, (offered & want) | F(VIRTIO_F_VERSION_1));
	ck_assert_uint_eq(mmio_rd(&t, STATUS) & VIRTIO_CONFIG_S_FEATURES_OK,
			  VIRTIO_CONFIG_S_FEATURES_OK);
	for (uint32_t q = 0; q < 2; q++) {
		mmio_wr(&t, QSEL, q);
		ck_assert_uint_ge(mmio_rd(&t, QNUM_MAX), QSIZE);
		mmio_queue(&t, QSIZE, ring[q][0], ring[q][1], ring[q][2]);
	}
	mmio_wr(&t, STATUS, ALL_OK);
	ck_assert_uint_eq(mmio_rd(&t, STATUS), ALL_OK);
	ck_assert(net.active);
}

/* The stand-in back end: a socketpair, the device takes one end. */
static void start(unsigned offloads, uint64_t want)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	peer = sv[1];
	start_with(sv[0], false, offloads, want);
}

/* A chain in consecutive descriptors of queue q, made available; returns its head. */
static uint16_t offer(unsigned q, const struct seg *sg, unsigned n)
{
	return mmio_offer(&gm, ring[q][0], ring[q][1], QSIZE, &next_head[q], sg, n);
}

/* n receive chains of len bytes each, one buffer each, in slots from..from+n-1; a kick. */
static void rx_buffers(unsigned from, unsigned n, uint32_t len)
{
	for (unsigned i = from; i < from + n; i++) {
		struct seg s = { RXBUF + 0x1000ULL * i, len, true };
		memset(hva(s.gpa, 0x1000), 0xcc, 0x1000);
		offer(RXQ, &s, 1);
	}
	mmio_wr(&t, QNOTIFY, RXQ);
}

static uint16_t used_idx(unsigned q)
{
	return ((uint16_t *)hva(ring[q][2], VQ_USED_BYTES(QSIZE)))[1];
}

static struct virtq_used_elem used(unsigned q, unsigned i)
{
	struct virtq_used_elem e;
	memcpy(&e, (uint8_t *)hva(ring[q][2], VQ_USED_BYTES(QSIZE)) + 4 + 8 * i, sizeof(e));
	return e;
}

static bool needs_reset(void)
{
	return mmio_rd(&t, STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(gm_init(&gm, RAM), 0);
	irqs = 0;
	peer = -1;
	next_head[0] = next_head[1] = 0;
}

static void teardown(void)
{
	if (started) {
		virtio_mmio_destroy(&t);
		if (!net_closed)
			virtio_net_close(&net);
		el_destroy(&el);
	}
	if (peer >= 0)
		close(peer);
	gm_destroy(&gm);
}

START_TEST(config_space_and_features)
{
	start(ALL_TUN, ALL_FEATS);
	ck_assert_uint_eq(mmio_rd(&t, DEVICE_ID), 1);
	uint8_t d[8];
	virtio_mmio_read(&t, CONFIG, d, 4);
	virtio_mmio_read(&t, CONFIG + 4, d + 4, 2);
	const uint8_t mac[6] = { 0x02, 0x68, 0x75, 0x73, 0x6b, 0x07 };
	ck_assert_mem_eq(d, mac, 6);
	virtio_mmio_read(&t, CONFIG + 6, d, 2);
	ck_assert_uint_eq(d[0] | d[1] << 8, VIRTIO_NET_S_LINK_UP);
	virtio_mmio_read(&t, CONFIG + 10, d, 2);
	ck_assert_uint_eq(d[0] | d[1] << 8, 1400);
	virtio_mmio_read(&t, CONFIG + 12, d, 2); /* past the end: zeros */
	ck_assert_uint_eq(d[0] | d[1], 0);
	uint64_t want = F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_MTU) | F_MRG | F(VIRTIO_NET_F_STATUS) |
			F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
			F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) |
			F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
			F(VIRTIO_F_VERSION_1);
	ck_assert_uint_eq(net.ops.features & want, want & ~F(VIRTIO_F_VERSION_1));
	ck_assert_uint_eq(net.ops.features & F(VIRTIO_NET_F_CTRL_VQ), 0);
	/* everything accepted: the back end gets every offload */
	ck_assert_uint_eq(net.tun_offload, ALL_TUN);
}
END_TEST

/* Offloads follow the back end, and the guest's choice. */
START_TEST(offload_agreement)
{
	start(TUN_F_CSUM, ALL_FEATS);
	ck_assert_uint_eq(net.ops.features & F(VIRTIO_NET_F_GUEST_CSUM),
			  F(VIRTIO_NET_F_GUEST_CSUM));
	ck_assert_uint_eq(net.ops.features & F(VIRTIO_NET_F_GUEST_TSO4), 0);
	ck_assert_uint_eq(net.tun_offload, TUN_F_CSUM);
	mmio_wr(&t, STATUS, 0);
	ck_assert(!net.active);
	ck_assert_uint_eq(net.tun_offload, 0);
}
END_TEST

START_TEST(offload_follows_guest)
{
	/* TSO without checksum offload is not a thing the tap takes */
	start(ALL_TUN, F(VIRTIO_NET_F_GUEST_TSO4) | F_MRG);
	ck_assert_uint_eq(net.tun_offload, 0);
}
END_TEST

START_TEST(offload_none_offered)
{
	start(0, ALL_FEATS);
	ck_assert_uint_eq(net.ops.features & F(VIRTIO_NET_F_GUEST_CSUM), 0);
	ck_assert_uint_eq(net.tun_offload, 0);
}
END_TEST

/* A frame in three readable buffers (header alone, then the payload in two) reaches the peer. */
START_TEST(transmit)
{
	start(ALL_TUN, ALL_FEATS);
	static uint8_t frame[1600], got[2000];
	make_frame(frame, 1000, 1);
	memcpy(hva(TXBUF, HDR), frame, HDR);
	memcpy(hva(TXBUF + 0x1000, 500), frame + HDR, 500);
	memcpy(hva(TXBUF + 0x2000, 488), frame + HDR + 500, 488);
	struct seg sg[] = { { TXBUF, HDR, false },
			    { TXBUF + 0x1000, 500, false },
			    { TXBUF + 0x2000, 488, false } };
	uint16_t head = offer(TXQ, sg, 3);
	mmio_wr(&t, QNOTIFY, TXQ);
	ck_assert_int_eq(recv(peer, got, sizeof(got), MSG_DONTWAIT), 1000);
	ck_assert_mem_eq(got, frame, 1000);
	ck_assert_uint_eq(used_idx(TXQ), 1);
	ck_assert_uint_eq(used(TXQ, 0).id, head);
	ck_assert_uint_eq(used(TXQ, 0).len, 0);
	ck_assert_int_eq(irqs, 1);
	ck_assert_uint_eq(net.stats.tx_frames, 1);

	/* two more in one kick */
	struct seg one = { TXBUF + 0x3000, 100, false };
	make_frame(hva(one.gpa, 100), 100, 2);
	offer(TXQ, &one, 1);
	one.gpa = TXBUF + 0x4000;
	make_frame(hva(one.gpa, 100), 100, 3);
	offer(TXQ, &one, 1);
	mmio_wr(&t, QNOTIFY, TXQ);
	ck_assert_int_eq(recv(peer, got, sizeof(got), MSG_DONTWAIT), 100);
	ck_assert_uint_eq(got[HDR], pattern(HDR, 2));
	ck_assert_int_eq(recv(peer, got, sizeof(got), MSG_DONTWAIT), 100);
	ck_assert_uint_eq(got[HDR], pattern(HDR, 3));
	ck_assert_uint_eq(used_idx(TXQ), 3);
	ck_assert_uint_eq(net.stats.tx_frames, 3);
	ck_assert(!needs_reset());
}
END_TEST

/* A back end that refuses writes (full, or gone): frames are dropped, the queue goes on. */
START_TEST(transmit_backend_errors)
{
	start(ALL_TUN, ALL_FEATS);
	int small = 4096;
	ck_assert_int_eq(setsockopt(net.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	struct seg one = { TXBUF, 1500, false };
	make_frame(hva(one.gpa, 1500), 1500, 4);
	unsigned sent = 0;
	for (unsigned round = 0; round < 3; round++) {
		next_head[TXQ] = 0;
		for (unsigned i = 0; i < QSIZE; i++)
			offer(TXQ, &one, 1);
		mmio_wr(&t, QNOTIFY, TXQ);
		sent += QSIZE;
		ck_assert_uint_eq(used_idx(TXQ), sent); /* every chain came back */
	}
	ck_assert_uint_gt(net.stats.tx_dropped, 0); /* EAGAIN: the peer reads nothing */
	ck_assert_uint_eq(net.stats.tx_frames + net.stats.tx_dropped, sent);

	close(peer); /* EPIPE from now on */
	peer = -1;
	uint64_t dropped = net.stats.tx_dropped;
	next_head[TXQ] = 0;
	offer(TXQ, &one, 1);
	mmio_wr(&t, QNOTIFY, TXQ);
	ck_assert_uint_eq(used_idx(TXQ), sent + 1);
	ck_assert_uint_eq(net.stats.tx_dropped, dropped + 1);
	ck_assert(!needs_reset());
}
END_TEST

/* A frame that fits one buffer: header with num_buffers 1, then the frame. */
START_TEST(receive_one_buffer)
{
	start(ALL_TUN, ALL_FEATS);
	rx_buffers(0, 4, 2048);
	ck_assert(net.rx_watch); /* buffers: the back end is read */
	static uint8_t frame[200];
	make_frame(frame, 100, 5);
	ck_assert_int_eq(send(peer, frame, 100, 0), 100);
	virtio_net_rx(&net);
	ck_assert_uint_eq(used_idx(RXQ), 1);
	ck_assert_uint_eq(used(RXQ, 0).id, 0);
	ck_assert_uint_eq(used(RXQ, 0).len, 100);
	uint8_t *b = hva(RXBUF, 2048);
	ck_assert_uint_eq(b[10] | b[11] << 8, 1);
	ck_assert_mem_eq(b + HDR, frame + HDR, 100 - HDR);
	ck_assert_uint_eq(b[100], 0xcc); /* nothing past the frame */
	ck_assert_int_eq(irqs, 1);
	ck_assert_uint_eq(net.stats.rx_frames, 1);
	ck_assert(net.rx_watch);
}
END_TEST

/* Mergeable buffers: one frame over four chains, num_buffers 4. */
START_TEST(receive_mergeable)
{
	start(ALL_TUN, ALL_FEATS);
	rx_buffers(0, 8, 256);
	static uint8_t frame[1100];
	make_frame(frame, 1000, 6);
	ck_assert_int_eq(send(peer, frame, 1000, 0), 1000);
	make_frame(frame, 50 + HDR, 7);
	ck_assert_int_eq(send(peer, frame, 50 + HDR, 0), 50 + HDR);
	virtio_net_rx(&net);
	ck_assert_uint_eq(used_idx(RXQ), 5);
	static const uint32_t lens[] = { 256, 256, 256, 232, 62 };
	for (unsigned i = 0; i < 5; i++) {
		ck_assert_uint_eq(used(RXQ, i).id, i);
		ck_assert_uint_eq(used(RXQ, i).len, lens[i]);
	}
	uint8_t *b0 = hva(RXBUF, 256);
	ck_assert_uint_eq(b0[10] | b0[11] << 8, 4);
	make_frame(frame, 1000, 6);
	for (unsigned i = 0, off = 0; i < 4; off += lens[i++]) {
		uint8_t *b = hva(RXBUF + 0x1000ULL * i, 256);
		ck_assert_mem_eq(b + (i ? 0 : HDR), frame + off + (i ? 0 : HDR),
				 lens[i] - (i ? 0 : HDR));
	}
	uint8_t *b4 = hva(RXBUF + 0x4000, 256);
	ck_assert_uint_eq(b4[10] | b4[11] << 8, 1);
	ck_assert_uint_eq(b4[HDR], pattern(HDR, 7));
	ck_assert_int_eq(irqs, 1); /* one interrupt for the lot */
	ck_assert_uint_eq(net.stats.rx_frames, 2);
}
END_TEST

/* Not enough buffers yet: the frame waits, the back end is not read, a kick delivers it. */
START_TEST(receive_waits_for_buffers)
{
	start(ALL_TUN, ALL_FEATS);
	rx_buffers(0, 2, 256);
	static uint8_t frame[1100];
	make_frame(frame, 1000, 8);
	ck_assert_int_eq(send(peer, frame, 1000, 0), 1000);
	ck_assert_int_eq(send(peer, frame, 100, 0), 100);
	virtio_net_rx(&net);
	ck_assert_uint_eq(used_idx(RXQ), 0);
	ck_assert(net.rx_pending);
	ck_assert(!net.rx_watch);
	ck_assert_int_eq(irqs, 0);
	rx_buffers(2, 2, 256); /* the kick delivers the held frame */
	ck_assert_uint_eq(used_idx(RXQ), 4);
	ck_assert_uint_eq(used(RXQ, 3).len, 232);
	ck_assert(!net.rx_pending);
	ck_assert(!net.rx_watch); /* no buffer left for the second frame */
	ck_assert_int_eq(irqs, 1);
	rx_buffers(4, 1, 256); /* and this one reads the back end again */
	ck_assert_uint_eq(used_idx(RXQ), 5);
	ck_assert_uint_eq(used(RXQ, 4).len, 100);
	ck_assert_uint_eq(net.stats.rx_frames, 2);
	ck_assert(!needs_reset());
}
END_TEST

/* Larger than every buffer the queue holds: dropped and counted; the buffers serve the next. */
START_TEST(receive_too_big)
{
	start(ALL_TUN, ALL_FEATS);
	rx_buffers(0, QSIZE, 64); /* 1 KiB in all */
	static uint8_t frame[2100];
	make_frame(frame, 2000, 9);
	ck_assert_int_eq(send(peer, frame, 2000, 0), 2000);
	make_frame(frame, 60, 10);
	ck_assert_int_eq(send(peer, frame, 60, 0), 60);
	virtio_net_rx(&net);
	ck_assert_uint_eq(net.stats.rx_dropped, 1);
	ck_assert_uint_eq(used_idx(RXQ), 1);
	ck_assert_uint_eq(used(RXQ, 0).id, 0);
	ck_assert_uint_eq(used(RXQ, 0).len, 60);
	ck_assert_uint_eq(((uint8_t *)hva(RXBUF, 64))[HDR], pattern(HDR, 10));
	ck_assert(!needs_reset());
}
END_TEST

/* Without mergeable buffers a frame must fit one chain. */
START_TEST(receive_without_mergeable)
{
	start(ALL_TUN, ALL_FEATS & ~F_MRG);
	rx_buffers(0, 2, 256);
	static uint8_t frame[1100];
	make_frame(frame, 1000, 11);
	ck_assert_int_eq(send(peer, frame, 1000, 0), 1000);
	ck_assert_int_eq(send(peer, frame, 200, 0), 200);
	virtio_net_rx(&net);
	ck_assert_uint_eq(net.stats.rx_dropped, 1);
	ck_assert_uint_eq(used_idx(RXQ), 1);
	ck_assert_uint_eq(used(RXQ, 0).len, 200);
	uint8_t *b = hva(RXBUF, 256);
	ck_assert_uint_eq(b[10] | b[11] << 8, 1);
}
END_TEST

/* The ring reused: buffers returned and offered again carry the frames that waited. */
START_TEST(receive_refill)
{
	start(ALL_TUN, ALL_FEATS);
	static uint8_t frame[100];
	make_frame(frame, 80, 12);
	for (unsigned i = 0; i < QSIZE + 4; i++)
		ck_assert_int_eq(send(peer, frame, 80, 0), 80);
	rx_buffers(0, QSIZE, 128);
	virtio_net_rx(&net);
	ck_assert_uint_eq(used_idx(RXQ), QSIZE);
	ck_assert(!net.rx_watch); /* buffers ran out first */
	next_head[RXQ] = 0;
	rx_buffers(0, 4, 128);
	mmio_wr(&t, QNOTIFY, RXQ);
	ck_assert_uint_eq(used_idx(RXQ), QSIZE + 4);
	ck_assert_uint_eq(net.stats.rx_frames, QSIZE + 4);
}
END_TEST

/* Bounded work: one event handles at most NET_RX_BUDGET frames, then the loop comes back. */
START_TEST(receive_budget)
{
	start(ALL_TUN, ALL_FEATS);
	rx_buffers(0, 1, 256);
	uint8_t runt[HDR + 4] = { 0 };
	for (unsigned i = 0; i < NET_RX_BUDGET + 6; i++)
		ck_assert_int_eq(send(peer, runt, sizeof(runt), 0), (ssize_t)sizeof(runt));
	virtio_net_rx(&net);
	ck_assert_uint_eq(net.stats.rx_dropped, NET_RX_BUDGET);
	ck_assert(net.rx_watch); /* still readable, buffers left: watched */
	virtio_net_rx(&net);
	ck_assert_uint_eq(net.stats.rx_dropped, NET_RX_BUDGET + 6);
	ck_assert_uint_eq(used_idx(RXQ), 0);
}
END_TEST

/* Chains of the wrong shape break the queue (DEVICE_NEEDS_RESET); the device lives on. */
START_TEST(malformed_tx)
{
	int kind = _i;
	start(ALL_TUN, ALL_FEATS);
	if (kind == 0) { /* a device-writable buffer on the transmit queue */
		struct seg sg[] = { { TXBUF, HDR, false }, { TXBUF + 0x1000, 100, true } };
		offer(TXQ, sg, 2);
	} else if (kind == 1) { /* shorter than the header */
		struct seg s = { TXBUF, HDR - 1, false };
		offer(TXQ, &s, 1);
	} else { /* a descriptor loop */
		struct seg sg[] = { { TXBUF, HDR, false }, { TXBUF + 0x1000, 100, false } };
		offer(TXQ, sg, 2);
		struct virtq_desc *d = hva(ring[TXQ][0], VQ_DESC_BYTES(QSIZE));
		d[1].flags = VRING_DESC_F_NEXT;
		d[1].next = 0;
	}
	mmio_wr(&t, QNOTIFY, TXQ);
	ck_assert(needs_reset());
	ck_assert_uint_eq(used_idx(TXQ), 0);
	char got[64];
	ck_assert_int_eq(recv(peer, got, sizeof(got), MSG_DONTWAIT), -1);
	/* a reset and a fresh start serve again */
	mmio_wr(&t, STATUS, 0);
	ck_assert(!needs_reset());
	ck_assert(!net.active);
}
END_TEST

START_TEST(malformed_rx)
{
	int kind = _i;
	start(ALL_TUN, ALL_FEATS);
	if (kind == 0) { /* a device-readable buffer on the receive queue */
		struct seg s = { RXBUF, 256, false };
		offer(RXQ, &s, 1);
	} else { /* too small for the header */
		struct seg s = { RXBUF, HDR - 4, true };
		offer(RXQ, &s, 1);
	}
	static uint8_t frame[100];
	make_frame(frame, 60, 13);
	ck_assert_int_eq(send(peer, frame, 60, 0), 60);
	virtio_net_rx(&net);
	ck_assert(needs_reset());
	ck_assert_uint_eq(used_idx(RXQ), 0);
	ck_assert(!net.rx_watch);
	virtio_net_rx(&net); /* a broken queue is left alone */
	ck_assert_uint_eq(used_idx(RXQ), 0);
}
END_TEST

/* Runts are dropped; a back end that closes stops being read, transmit drops. */
START_TEST(backend_runt_and_close)
{
	start(ALL_TUN, ALL_FEATS);
	rx_buffers(0, 2, 256);
	uint8_t runt[10] = { 0 };
	ck_assert_int_eq(send(peer, runt, sizeof(runt), 0), (ssize_t)sizeof(runt));
	virtio_net_rx(&net);
	ck_assert_uint_eq(net.stats.rx_dropped, 1);
	ck_assert_uint_eq(used_idx(RXQ), 0);
	close(peer);
	peer = -1;
	virtio_net_rx(&net);
	ck_assert_int_eq(net.fd, -1);
	ck_assert(!net.rx_watch);
	struct seg one = { TXBUF, 100, false };
	make_frame(hva(one.gpa, 100), 100, 14);
	offer(TXQ, &one, 1);
	mmio_wr(&t, QNOTIFY, TXQ);
	ck_assert_uint_eq(used_idx(TXQ), 1);
	ck_assert_uint_eq(net.stats.tx_dropped, 1);
	ck_assert(!needs_reset());
}
END_TEST

/* SIOCSIFFLAGS on name in this namespace. */
static void link_set_up(const char *name, bool up)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags = (short)(up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP);
	ck_assert_int_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

/*
 * A real tap, in a network namespace of this test's own (Check runs each
 * test in a child): down, a frame is refused (EIO) and dropped; up, it goes
 * out. Skipped where the test may not make a namespace or a tap.
 */
START_TEST(real_tap_down_then_up)
{
	unsigned offloads = 0;
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "real_tap_down_then_up: skipped (unshare: %s)\n", strerror(errno));
		return;
	}
	int fd = virtio_net_tap_open("husktest0", &offloads);
	if (fd < 0) {
		fprintf(stderr, "real_tap_down_then_up: skipped (no tap: %s)\n", strerror(-fd));
		return;
	}
	ck_assert_uint_ne(if_nametoindex("husktest0"), 0);
	ck_assert_uint_eq(offloads & TUN_F_CSUM, TUN_F_CSUM);
	start_with(fd, true, offloads, ALL_FEATS);
	ck_assert_uint_eq(net.tun_offload, offloads);
	struct seg one = { TXBUF, 60 + HDR, false };
	uint8_t *f = hva(one.gpa, 60 + HDR);
	make_frame(f, 60 + HDR, 15);
	memset(f + HDR, 0xff, 6); /* broadcast */
	memcpy(f + HDR + 6, net.mac, 6);
	f[HDR + 12] = 0x88, f[HDR + 13] = 0xb5; /* local experimental EtherType */
	offer(TXQ, &one, 1);
	mmio_wr(&t, QNOTIFY, TXQ);
	ck_assert_uint_eq(used_idx(TXQ), 1);
	ck_assert_uint_eq(net.stats.tx_dropped, 1); /* EIO: the tap is down */
	link_set_up("husktest0", true);
	offer(TXQ, &one, 1);
	mmio_wr(&t, QNOTIFY, TXQ);
	ck_assert_uint_eq(used_idx(TXQ), 2);
	ck_assert_uint_eq(net.stats.tx_frames, 1);
	ck_assert(!needs_reset());
	mmio_wr(&t, STATUS, 0);
	virtio_net_close(&net);
	net_closed = true;
	ck_assert_uint_eq(if_nametoindex("husktest0"), 0); /* not persistent */
}
END_TEST

static Suite *net_suite(void)
{
	Suite *s = suite_create("virtio_net");
	TCase *tc = tcase_create("device");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_space_and_features);
	tcase_add_test(tc, offload_agreement);
	tcase_add_test(tc, offload_follows_guest);
	tcase_add_test(tc, offload_none_offered);
	tcase_add_test(tc, transmit);
	tcase_add_test(tc, transmit_backend_errors);
	tcase_add_test(tc, receive_one_buffer);
	tcase_add_test(tc, receive_mergeable);
	tcase_add_test(tc, receive_waits_for_buffers);
	tcase_add_test(tc, receive_too_big);
	tcase_add_test(tc, receive_without_mergeable);
	tcase_add_test(tc, receive_refill);
	tcase_add_test(tc, receive_budget);
	tcase_add_loop_test(tc, malformed_tx, 0, 3);
	tcase_add_loop_test(tc, malformed_rx, 0, 2);
	tcase_add_test(tc, backend_runt_and_close);
	tcase_add_test(tc, real_tap_down_then_up);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(net_suite());
}
