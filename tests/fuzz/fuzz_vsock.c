/*
 * libFuzzer target for the guest-to-host side of vsock packet parsing: the
 * input is cut into a descriptor chain (each buffer: 1 byte of flags and
 * length, then its bytes), whose readable stream is read as a packet the
 * way the device does: header, checks, payload.
 */
#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "devices/vsock_packet.h"
#include "virtio/chain_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vq_chain chain;
static uint8_t payload[VSOCK_MAX_PKT_PAYLOAD];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t copy[1 << 16];
	if (size > sizeof(copy))
		return 0;
	memcpy(copy, data, size);

	memset(&chain, 0, sizeof(chain));
	size_t off = 0;
	while (off < size && chain.nbufs < VQ_SIZE_MAX) {
		uint8_t ctl = copy[off++];
		uint32_t len = (uint32_t)(ctl & 0x7f) * 4;
		if (len > size - off)
			len = (uint32_t)(size - off);
		struct vq_buf *b = &chain.buf[chain.nbufs++];
		b->hva = copy + off;
		b->len = len;
		b->device_writes = ctl & 0x80;
		if (b->device_writes)
			chain.writable += len;
		else
			chain.readable += len;
		off += len;
	}

	struct virtio_vsock_hdr h;
	memset(&h, 0, sizeof(h));
	if (chain_read(&chain, 0, &h, sizeof(h)) != sizeof(h))
		return 0;
	if (vsock_hdr_check(&h, 3, chain.readable) == NULL && le16toh(h.op) == VIRTIO_VSOCK_OP_RW) {
		size_t n = chain_read(&chain, VSOCK_HDR_SIZE, payload, le32toh(h.len));
		if (n != le32toh(h.len))
			__builtin_trap(); /* the check promised the payload is there */
	}
	/* the device writes replies into writable buffers */
	chain_write(&chain, 0, &h, sizeof(h));
	return 0;
}
