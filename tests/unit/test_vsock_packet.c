/* vsock packet header checks: every field of a guest's packet is hostile. */
#include <string.h>

#include "devices/vsock_packet.h"
#include "unit.h"

static struct vsock_hdr good(uint16_t op, uint32_t len)
{
	struct vsock_hdr h;
	memset(&h, 0, sizeof(h));
	h.src_cid = 3;
	h.dst_cid = VSOCK_CID_HOST;
	h.src_port = 1025;
	h.dst_port = 5000;
	h.type = VSOCK_TYPE_STREAM;
	h.op = op;
	h.len = len;
	h.buf_alloc = 262144;
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
	struct vsock_hdr h;
	memset(wire, 0xee, sizeof(wire));
	put_le(wire + 0, 3, 8);			   /* src_cid */
	put_le(wire + 8, VSOCK_CID_HOST, 8);	   /* dst_cid */
	put_le(wire + 16, 0x11223344, 4);	   /* src_port */
	put_le(wire + 20, 5000, 4);		   /* dst_port */
	put_le(wire + 24, 4, 4);		   /* len */
	put_le(wire + 28, VSOCK_TYPE_STREAM, 2);   /* type */
	put_le(wire + 30, VSOCK_OP_RW, 2);	   /* op */
	put_le(wire + 32, VSOCK_SHUTDOWN_SEND, 4); /* flags */
	put_le(wire + 36, 262144, 4);		   /* buf_alloc */
	put_le(wire + 40, 0xa5a5a5a5, 4);	   /* fwd_cnt */
	memcpy(&h, wire, sizeof(h));
	ck_assert_uint_eq(h.src_cid, 3);
	ck_assert_uint_eq(h.dst_cid, VSOCK_CID_HOST);
	ck_assert_uint_eq(h.src_port, 0x11223344);
	ck_assert_uint_eq(h.dst_port, 5000);
	ck_assert_uint_eq(h.len, 4);
	ck_assert_uint_eq(h.type, VSOCK_TYPE_STREAM);
	ck_assert_uint_eq(h.op, VSOCK_OP_RW);
	ck_assert_uint_eq(h.flags, VSOCK_SHUTDOWN_SEND);
	ck_assert_uint_eq(h.buf_alloc, 262144);
	ck_assert_uint_eq(h.fwd_cnt, 0xa5a5a5a5);
	ck_assert_ptr_null(vsock_hdr_check(&h, 3, sizeof(wire)));
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, sizeof(wire) - 1));
}
END_TEST

START_TEST(good_packets_pass)
{
	struct vsock_hdr h = good(VSOCK_OP_REQUEST, 0);
	ck_assert_ptr_null(vsock_hdr_check(&h, 3, 44));
	h = good(VSOCK_OP_RW, 100);
	ck_assert_ptr_null(vsock_hdr_check(&h, 3, 144));
	h = good(VSOCK_OP_RW, VSOCK_MAX_PKT_PAYLOAD);
	ck_assert_ptr_null(vsock_hdr_check(&h, 3, 44 + VSOCK_MAX_PKT_PAYLOAD));
	for (uint16_t op = VSOCK_OP_REQUEST; op <= VSOCK_OP_CREDIT_REQUEST; op++) {
		if (op == VSOCK_OP_RW)
			continue;
		h = good(op, 0);
		ck_assert_ptr_null(vsock_hdr_check(&h, 3, 44));
	}
}
END_TEST

START_TEST(bad_packets_are_named)
{
	struct vsock_hdr h = good(VSOCK_OP_RW, 10);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 43));     /* short */
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 44 + 9)); /* payload beyond buffers */
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 4, 54));     /* spoofed source CID */
	h.dst_cid = 7;
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 54)); /* not to the host */
	h = good(VSOCK_OP_RW, 10);
	h.type = 2;
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 54)); /* seqpacket */
	h = good(0, 0);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 44));
	h = good(8, 0);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 44));
	h = good(VSOCK_OP_RW, VSOCK_MAX_PKT_PAYLOAD + 1);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, UINT32_MAX)); /* too large */
	h = good(VSOCK_OP_REQUEST, 4);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 48)); /* payload on control */
	h = good(VSOCK_OP_RW, UINT32_MAX);
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
