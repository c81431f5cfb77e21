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

START_TEST(header_is_44_bytes)
{
	ck_assert_uint_eq(sizeof(struct vsock_hdr), 44);
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
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 43));      /* short */
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 44 + 9));  /* payload beyond buffers */
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 4, 54));      /* spoofed source CID */
	h.dst_cid = 7;
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 54));      /* not to the host */
	h = good(VSOCK_OP_RW, 10);
	h.type = 2;
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 54));      /* seqpacket */
	h = good(0, 0);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 44));
	h = good(8, 0);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 44));
	h = good(VSOCK_OP_RW, VSOCK_MAX_PKT_PAYLOAD + 1);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, UINT32_MAX)); /* too large */
	h = good(VSOCK_OP_REQUEST, 4);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 48));      /* payload on control */
	h = good(VSOCK_OP_RW, UINT32_MAX);
	ck_assert_ptr_nonnull(vsock_hdr_check(&h, 3, 44));      /* no wrap-around */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vsock_packet");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, header_is_44_bytes);
	tcase_add_test(tc, good_packets_pass);
	tcase_add_test(tc, bad_packets_are_named);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
