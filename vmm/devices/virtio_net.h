/*
 * virtio-net (device 1) served in user space on a tap: one receive and one
 * transmit queue, the 12-byte virtio_net_hdr_mrg_rxbuf on every frame both
 * ways (the tap is opened with IFF_VNET_HDR, so the header passes through
 * unchanged), mergeable receive buffers, the MAC, MTU and link status in
 * config space, and the checksum and TSO offloads the tap and the guest
 * agree on (TUNSETOFFLOAD follows the guest's accepted GUEST_* features).
 *
 * Transmit: each chain is written to the tap with one writev; a write that
 * fails (EIO while the tap is down, EAGAIN, EINVAL for a header the tap
 * refuses) drops that frame and the queue goes on. Receive: the tap is read
 * (non-blocking, from the event loop) only while the guest has receive
 * buffers; a frame that does not fit in buffers the queue can ever hold is
 * dropped and counted; at most NET_RX_BUDGET frames per event.
 *
 * Threads: queue notifications and tap events both run under n->lock (the
 * event thread, or a vCPU for a QueueNotify write); reset() takes it too.
 */
#ifndef HUSK_DEVICES_VIRTIO_NET_H
#define HUSK_DEVICES_VIRTIO_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "event_loop.h"
#include "virtio/mmio.h"

#define NET_RX_BUDGET 64
/* The largest frame a tap hands over (a 64 KiB GSO frame), with its header. */
#define NET_FRAME_MAX (12 + 65536 + 14 + 4)

struct net_stats {
	uint64_t tx_frames, tx_dropped; /* dropped: the tap refused the write */
	uint64_t rx_frames, rx_dropped; /* dropped: larger than the guest's buffers */
};

struct virtio_net {
	pthread_mutex_t lock;
	int fd;	     /* the tap, or a stand-in with its message boundaries */
	bool is_tap; /* TUNSETOFFLOAD applies */
	uint8_t mac[6];
	uint16_t mtu;
	struct event_loop *el;
	struct virtio_device_ops ops; /* this device's, with the features the tap allows */
	struct virtio_queues q;
	bool active;
	uint64_t features;    /* accepted by the driver */
	unsigned tun_offload; /* TUN_F_* in force on the tap */
	bool rx_watch;	      /* the tap's EPOLLIN is watched */
	bool rx_pending;      /* rx_frame holds a frame waiting for buffers */
	uint32_t rx_len;
	struct net_stats stats;
	uint8_t rx_frame[NET_FRAME_MAX]; /* header and frame, as read from the tap */
};

/*
 * Open (creating it if absent) tap `name` in the current network namespace,
 * non-persistent, with IFF_VNET_HDR and the 12-byte header; *offloads gets
 * the TUN_F_* the tap accepts. Returns the fd (non-blocking) or -errno.
 */
int virtio_net_tap_open(const char *name, unsigned *offloads);

/*
 * Serve fd (a tap from virtio_net_tap_open with is_tap, or a stand-in with
 * the same framing) as the device c describes; offloads are the TUN_F_*
 * the back end takes. Watches fd on el (not yet for input). The device owns
 * fd from here on, even on failure. fd -1: no back end (transmitted frames
 * are dropped and counted, nothing is received).
 */
int virtio_net_init(struct virtio_net *n, const struct net_config *c, int fd, bool is_tap,
		    unsigned offloads, struct event_loop *el);
/* Open c->tap and serve it. */
int virtio_net_open(struct virtio_net *n, const struct net_config *c, struct event_loop *el);
/* After the event loop has stopped. */
void virtio_net_close(struct virtio_net *n);

/* The back end may have frames: deliver what the receive buffers take (the tap's handler). */
void virtio_net_rx(struct virtio_net *n);

#endif
