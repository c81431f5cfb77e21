/* vsock packet header checks: every field of a guest's packet is hostile. */
#include <endian.h>
#include <string.h>

#include "devices/vsock_packet.h"
#include "unit.h"

static struct virtio_vsock_hdr good(uint16_t op, uint32_t len)
{
	struct virtio_vsock_hdr h;
	memset(&h, 0, sizeof(h));
	h.src_cid = htole64(3);
	h.dst_cid = htole64(VMADDR_CID_HOST);
	h.src_port = htole32(1025);
	h.dst_port = htole32(5000);
	h.type = htole16(VIRTIO_VSOCK_TYPE_STREAM);
	h.op = htole16(op);
	h.len = htole32(len);
	h.buf_alloc = htole32(262144);
	return h;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A header as a guest lays it out (virtio 1.2, 5.10.6), read field by field. */
START_TEST(header_reads_the_wire_layout)
{
	uint8_t wire[VSOCK_HDR_SIZE + 4];
	struct virtio_vsock_hdr h;
	memset(wire, 0xee, sizeof(wire));
	put_le(wire + 0, 3, 8);				  /* src_cid */
	put_le(wire + 8, VMADDR_CID_HOST, 8);		  /* dst_cid */
	put_le(wire + 16, 0x11223344, 4);		  /* src_port */
	put_le(wire + 20, 5000, 4);			  /* dst_port */
	put_le(wire + 24, 4, 4);			  /* len */
	put_le(wire + 28, VIRTIO_VSOCK_TYPE_STREAM, 2);	  /* type */
	put_le(wire + 30, VIRTIO_VSOCK_OP_RW, 2);	  /* op */
	put_le(wire + 32, VIRTIO_VSOCK_SHUTDOWN_SEND, 4); /* flags */
	put_le(wire + 36, 262144, 4);			  /* buf_alloc */
	put_le(wire + 40, 0xa5a5a5a5, 4);		  /* fwd_cnt */
	memcpy(&h, wire, sizeof(h));
	ck_assert_uint_eq(le64toh(h.src_cid), 3);
	ck_assert_uint_eq(le64toh(h.dst_cid), VMADDR_CID_HOST);
	ck_assert_uint_eq(le32toh(h.src_port), 0x11223344);
	ck_assert_uint_eq(le32toh(h.dst_port), 5000);
	ck_assert_uint_eq(le32toh(h.len), 4);
	ck_assert_uint_eq(le16toh(h.type), VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_uint_eq(le16toh(h.op), VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(le32toh(h.flags), VIRTIO_VSOCK_SHUTDOWN_SEND);
	ck_assert_uint_eq(le32toh(h.buf_alloc), 262144);
	ck_assert_uint_eq(le32toh(h.fwd_cnt), 0xa5a5a5a5);
	ck_assert_ptr_null(vsock_hdr_check(&h, 3, sizeof(wire)));
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, sizeof(wire) - 1));
}
END_TEST

START_TEST(good_packets_pass)
{
	struct virtio_vsock_hdr h = good(VIRTIO_VSOCK_OP_REQUEST, 0);
	ck_assert_ptr_null(vsock_hdr_check(&h, 3, 44));
	h = good(VIRTIO_VSOCK_OP_RW, 100);
	ck_assert_ptr_null(vsock_hdr_check(&h, 3, 144));
	h = good(VIRTIO_VSOCK_OP_RW, VSOCK_MAX_PKT_PAYLOAD);
	ck_assert_ptr_null(vsock_hdr_check(&h, 3, 44 + VSOCK_MAX_PKT_PAYLOAD));
	for (uint16_t op = VIRTIO_VSOCK_OP_REQUEST; op <= VIRTIO_VSOCK_OP_CREDIT_REQUEST; op++) {
		if (op == VIRTIO_VSOCK_OP_RW)
			continue;
		h = good(op, 0);
		ck_assert_ptr_null(vsock_hdr_check(&h, 3, 44));
	}
}
END_TEST

START_TEST(bad_packets_are_named)
{
	struct virtio_vsock_hdr h = good(VIRTIO_VSOCK_OP_RW, 10);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 43));     /* short */
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 44 + 9)); /* payload beyond buffers */
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 4, 54));     /* spoofed source CID */
	h.dst_cid = htole64(7);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 54)); /* not to the host */
	h = good(VIRTIO_VSOCK_OP_RW, 10);
	h.type = htole16(VIRTIO_VSOCK_TYPE_SEQPACKET);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 54)); /* seqpacket */
	h = good(0, 0);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 44));
	h = good(8, 0);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 44));
	h = good(VIRTIO_VSOCK_OP_RW, VSOCK_MAX_PKT_PAYLOAD + 1);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, UINT32_MAX)); /* too large */
	h = good(VIRTIO_VSOCK_OP_REQUEST, 4);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 48)); /* payload on control */
	h = good(VIRTIO_VSOCK_OP_RW, UINT32_MAX);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 44)); /* no wrap-around */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vsock_packet");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, header_reads_the_wire_layout);
	tcase_add_test(tc, good_packets_pass);
	tcase_add_test(tc, bad_packets_are_named);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
