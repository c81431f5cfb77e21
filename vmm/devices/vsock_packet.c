#include "devices/vsock_packet.h"

#include <stddef.h>

_Static_assert(sizeof(struct vsock_hdr) == VSOCK_HDR_SIZE, "vsock header layout");

const char *vsock_hdr_check(const struct vsock_hdr *h, uint64_t guest_cid, uint32_t readable)
{
	if (readable < VSOCK_HDR_SIZE)
		return "packet shorter than its header";
	if (h->src_cid != guest_cid)
		return "source CID is not the guest's";
	if (h->dst_cid != VSOCK_CID_HOST)
		return "destination is not the host";
	if (h->type != VSOCK_TYPE_STREAM)
		return "not a stream packet";
	if (h->op < VSOCK_OP_REQUEST || h->op > VSOCK_OP_CREDIT_REQUEST)
		return "unknown operation";
	if (h->op == VSOCK_OP_RW) {
		if (h->len > VSOCK_MAX_PKT_PAYLOAD)
			return "payload too large";
		if (h->len > readable - VSOCK_HDR_SIZE)
			return "payload longer than the buffers";
	} else if (h->len != 0) {
		return "payload on a control packet";
	}
	return NULL;
}
