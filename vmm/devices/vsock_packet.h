/*
 * virtio-vsock packets (virtio 1.2, 5.10): the 44-byte header every packet
 * starts with, and its checks. Every field is written by the guest.
 */
#ifndef HUSK_DEVICES_VSOCK_PACKET_H
#define HUSK_DEVICES_VSOCK_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#define VSOCK_CID_HOST 2

#define VSOCK_TYPE_STREAM 1

enum vsock_op {
	VSOCK_OP_INVALID = 0,
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};

#define VSOCK_SHUTDOWN_RCV  1
#define VSOCK_SHUTDOWN_SEND 2

struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

#define VSOCK_HDR_SIZE 44

/* Largest payload husk-vmm accepts in one packet from the guest. */
#define VSOCK_MAX_PKT_PAYLOAD (64 * 1024)

/*
 * Check a header from the guest whose chain holds `readable` bytes in all:
 * a stream packet from guest_cid to the host, a known op, a payload that
 * fits (RW only). NULL if good, else what is wrong.
 */
const char *vsock_hdr_check(const struct vsock_hdr *h, uint64_t guest_cid, uint32_t readable);

#endif
