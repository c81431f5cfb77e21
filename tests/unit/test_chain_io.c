/* Reading and writing a descriptor chain as two byte streams. */
#include <string.h>

#include "unit.h"
#include "virtio/chain_io.h"

static uint8_t r1[5], r2[7], w1[3], w2[9];
static struct vq_chain c;

static void setup(void)
{
	memset(&c, 0, sizeof(c));
	for (unsigned i = 0; i < sizeof(r1); i++)
		r1[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(r2); i++)
		r2[i] = (uint8_t)(5 + i);
	memset(w1, 0, sizeof(w1));
	memset(w2, 0, sizeof(w2));
	c.buf[0] = (struct vq_buf){ r1, sizeof(r1), false };
	c.buf[1] = (struct vq_buf){ r2, sizeof(r2), false };
	c.buf[2] = (struct vq_buf){ w1, sizeof(w1), true };
	c.buf[3] = (struct vq_buf){ w2, sizeof(w2), true };
	c.nbufs = 4;
	c.readable = 12;
	c.writable = 12;
}

START_TEST(read_crosses_buffers)
{
	uint8_t out[12];
	ck_assert_uint_eq(chain_read(&c, 0, out, 12), 12);
	for (unsigned i = 0; i < 12; i++)
		ck_assert_uint_eq(out[i], i);
	ck_assert_uint_eq(chain_read(&c, 3, out, 4), 4);
	ck_assert_uint_eq(out[0], 3);
	ck_assert_uint_eq(out[3], 6);
	/* past the end: only what is there */
	ck_assert_uint_eq(chain_read(&c, 10, out, 10), 2);
	ck_assert_uint_eq(chain_read(&c, 12, out, 1), 0);
	ck_assert_uint_eq(chain_read(&c, 1000, out, 1), 0);
}
END_TEST

START_TEST(write_goes_to_writable_buffers_only)
{
	uint8_t in[12];
	for (unsigned i = 0; i < 12; i++)
		in[i] = (uint8_t)(100 + i);
	/* offset 0 of the written stream is w1[0], however many readable bytes precede it */
	ck_assert_uint_eq(chain_write(&c, 2, in, 5), 5);
	ck_assert_uint_eq(w1[1], 0);
	ck_assert_uint_eq(w1[2], 100);
	ck_assert_uint_eq(w2[0], 101);
	ck_assert_uint_eq(w2[3], 104);
	ck_assert_uint_eq(w2[4], 0); /* no further than asked */
	ck_assert_uint_eq(chain_write(&c, 0, in, 12), 12);
	ck_assert_uint_eq(w1[0], 100);
	ck_assert_uint_eq(w2[8], 111);
	/* the readable buffers keep every byte the guest put there */
	for (unsigned i = 0; i < sizeof(r1); i++)
		ck_assert_uint_eq(r1[i], i);
	for (unsigned i = 0; i < sizeof(r2); i++)
		ck_assert_uint_eq(r2[i], 5 + i);
	ck_assert_uint_eq(chain_write(&c, 11, in, 5), 1);
	ck_assert_uint_eq(w2[8], 100);
}
END_TEST

START_TEST(pieces_respect_the_limit)
{
	struct chain_piece p[4];
	ck_assert_uint_eq(chain_writable_pieces(&c, 1, 100, p, 4), 2);
	ck_assert_ptr_eq(p[0].base, w1 + 1);
	ck_assert_uint_eq(p[0].len, 2);
	ck_assert_uint_eq(p[1].len, 9);
	ck_assert_uint_eq(chain_readable_pieces(&c, 0, 6, p, 1), 1); /* max 1 piece */
	ck_assert_uint_eq(p[0].len, 5);
	ck_assert_uint_eq(chain_readable_pieces(&c, 0, 0, p, 4), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chain_io");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, read_crosses_buffers);
	tcase_add_test(tc, write_goes_to_writable_buffers_only);
	tcase_add_test(tc, pieces_respect_the_limit);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
