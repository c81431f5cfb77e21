#include "devices/vsock_packet.h"

#include <endian.h>
#include <stddef.h>

_Static_assert(sizeof(struct virtio_vsock_hdr) == VSOCK_HDR_SIZE, "vsock header layout");

const char *vsock_hdr_check(const struct virtio_vsock_hdr *h, uint64_t guest_cid, uint32_t readable)
{
	if (readable < VSOCK_HDR_SIZE)
		return "packet shorter than its header";
	uint16_t op = le16toh(h->op);
	uint32_t len = le32toh(h->len);
	if (le64toh(h->src_cid) != guest_cid)
		return "source CID is not the guest's";
	if (le64toh(h->dst_cid) != VMADDR_CID_HOST)
		return "destination is not the host";
	if (le16toh(h->type) != VIRTIO_VSOCK_TYPE_STREAM)
		return "not a stream packet";
	if (op < VIRTIO_VSOCK_OP_REQUEST || op > VIRTIO_VSOCK_OP_CREDIT_REQUEST)
		return "unknown operation";
	if (op == VIRTIO_VSOCK_OP_RW) {
		if (len > VSOCK_MAX_PKT_PAYLOAD)
			return "payload too large";
		if (len > readable - VSOCK_HDR_SIZE)
			return "payload longer than the buffers";
	} else if (len != 0) {
		return "payload on a control packet";
	}
	return NULL;
}
