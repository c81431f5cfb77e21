/*
 * virtio-vsock (device 19) bridged to host Unix sockets, with the
 * "hybrid vsock" convention of Firecracker:
 *  - host to guest: a client connects to the VM's socket (uds_path), sends
 *    "CONNECT <port>\n", gets "OK <host-port>\n", then a byte stream with
 *    the guest's listener on <port>;
 *  - guest to host: connect(VMADDR_CID_HOST, P) reaches a listener at
 *    "<uds_path>_P".
 * Credit-based flow control both ways: the guest may never have more than
 * VSOCK_BUF_ALLOC bytes in flight per connection that the host has not
 * taken, and the VMM reads a host socket only as far as the guest has
 * credit, so neither side makes the VMM buffer without bound.
 *
 * All work runs on the event-loop thread (queue notifications and socket
 * events) under v->lock; reset() may come from a vCPU thread and takes it.
 */
#ifndef HUSK_DEVICES_VSOCK_H
#define HUSK_DEVICES_VSOCK_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "devices/vsock_packet.h"
#include "event_loop.h"
#include "virtio/mmio.h"

#define VSOCK_BUF_ALLOC	      (256 * 1024) /* per connection, each way */
#define VSOCK_MAX_CONNS	      1024
#define VSOCK_RST_QUEUE	      64
#define VSOCK_LINE_MAX	      32
#define VSOCK_FIRST_HOST_PORT (1u << 30)

enum vsock_conn_state {
	VSOCK_FREE = 0,
	VSOCK_HOST_HANDSHAKE, /* host client connected, waiting for "CONNECT <port>\n" */
	VSOCK_HOST_REQUESTED, /* REQUEST sent to the guest, waiting for RESPONSE */
	VSOCK_ESTABLISHED,
};

/* Control packets waiting for an rx buffer. */
#define VSOCK_PEND_REQUEST  (1u << 0)
#define VSOCK_PEND_RESPONSE (1u << 1)
#define VSOCK_PEND_CREDIT   (1u << 2)
#define VSOCK_PEND_SHUTDOWN (1u << 3)
#define VSOCK_PEND_RST	    (1u << 4)

struct vsock;

struct vsock_conn {
	struct vsock *owner;
	enum vsock_conn_state state;
	int fd;		      /* host Unix socket */
	uint32_t local_port;  /* the host's port in packets */
	uint32_t peer_port;   /* the guest's port */
	unsigned pending;     /* VSOCK_PEND_* */
	bool readable;	      /* the host socket may have data (edge-triggered) */
	bool host_eof;	      /* the host side will send no more */
	bool guest_shut_send; /* the guest will send no more */
	bool guest_shut_rcv;  /* the guest will receive no more */
	bool host_shut_wr_done;
	/* guest -> host: what the host socket has not taken yet */
	uint8_t *buf;
	uint32_t buf_len;
	uint32_t fwd_cnt;      /* bytes written to the host socket */
	uint32_t fwd_cnt_sent; /* fwd_cnt as last told to the guest */
	/* host -> guest: the guest's credit */
	uint32_t peer_buf_alloc;
	uint32_t peer_fwd_cnt;
	uint32_t tx_cnt; /* bytes sent to the guest */
	char line[VSOCK_LINE_MAX];
	uint32_t line_len;
};

struct vsock_rst {
	uint32_t local_port, peer_port;
};

struct vsock {
	pthread_mutex_t lock;
	uint64_t guest_cid;
	char uds_path[PATH_MAX - 16];
	int listen_fd;
	struct event_loop *el;
	struct virtio_queues q;
	bool active;
	uint32_t next_host_port;
	unsigned rx_next; /* where the next data scan starts */
	struct vsock_conn conns[VSOCK_MAX_CONNS];
	struct vsock_rst rst[VSOCK_RST_QUEUE];
	unsigned nrst;
};

extern const struct virtio_device_ops vsock_ops;

/* Bind the VM's listening socket at c->uds_path; its events go to el. */
int vsock_init(struct vsock *v, const struct vsock_config *c, struct event_loop *el);
/* After the event loop has stopped: close every socket, unlink uds_path. */
void vsock_destroy(struct vsock *v);

/* vsock_conn.c: the host side of connections. */
struct vsock_conn *vsock_conn_find(struct vsock *v, uint32_t local_port, uint32_t peer_port);
struct vsock_conn *vsock_conn_new(struct vsock *v, int fd, enum vsock_conn_state st);
void vsock_conn_close(struct vsock *v, struct vsock_conn *c);
void vsock_queue_rst(struct vsock *v, uint32_t local_port, uint32_t peer_port);
/* A guest REQUEST for host port `port`: connect to "<uds>_<port>". */
void vsock_conn_guest_connect(struct vsock *v, const struct virtio_vsock_hdr *h);
/* Payload for the host socket (an RW packet); false if the guest broke credit. */
bool vsock_conn_to_host(struct vsock *v, struct vsock_conn *c, const struct vq_chain *chain,
			uint32_t len);
/* Write what is buffered; shut down the write side once the guest is done. */
void vsock_conn_flush(struct vsock *v, struct vsock_conn *c);
/* Bytes the guest can take now. */
uint32_t vsock_conn_credit(const struct vsock_conn *c);
int vsock_listen(struct vsock *v);

/* vsock.c: host-side events ask the device to move data to the guest. */
void vsock_rx_kick(struct vsock *v);

#endif
