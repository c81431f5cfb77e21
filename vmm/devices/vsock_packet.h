/*
 * virtio-vsock packets (virtio 1.2, 5.10): the 44-byte header every packet
 * starts with, and its checks. Every field is written by the guest.
 */
#ifndef HUSK_DEVICES_VSOCK_PACKET_H
#define HUSK_DEVICES_VSOCK_PACKET_H

#include <linux/virtio_vsock.h>
#include <linux/vm_sockets.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The header is the kernel's struct virtio_vsock_hdr, little-endian on the
 * wire: read its fields with le*toh, write them with htole*. Its type, op
 * and shutdown flag values are the kernel's VIRTIO_VSOCK_TYPE_*, _OP_* and
 * _SHUTDOWN_*; the host's CID is VMADDR_CID_HOST.
 */
#define VSOCK_HDR_SIZE 44

/* Largest payload husk-vmm accepts in one packet from the guest. */
#define VSOCK_MAX_PKT_PAYLOAD (64 * 1024)

/*
 * Check a header from the guest whose chain holds `readable` bytes in all:
 * a stream packet from guest_cid to the host, a known op, a payload that
 * fits (RW only). NULL if good, else what is wrong.
 */
const char *vsock_hdr_check(const struct virtio_vsock_hdr *h, uint64_t guest_cid,
			    uint32_t readable);

#endif
