/* Split virtqueue: hand-built rings in a fake guest RAM, good chains and hostile ones. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "guest_mem.h"
#include "virtio/virtqueue.h"
#include "unit.h"

#define MiB   (1ULL << 20)
#define RAM   (64 * MiB)
#define QSIZE 16
#define DESC  0x10000ULL
#define AVAIL 0x11000ULL
#define USED  0x12000ULL
#define IND   0x13000ULL
#define BUF   0x100000ULL

static struct guest_mem gm;
static struct virtqueue vq;
static struct vq_chain ch;

static void *hva(uint64_t gpa)
{
	void *p = gm_gpa_to_hva(&gm, gpa, 1);
	ck_assert_ptr_nonnull(p);
	return p;
}

static void put_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };
	memcpy((uint8_t *)hva(table) + 16 * (size_t)i, &d, sizeof(d));
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	put_desc(DESC, i, addr, len, flags, next);
}

static uint16_t *avail16(unsigned i)
{
	return (uint16_t *)hva(AVAIL) + i;
}

/* The guest makes head available: ring entry first, then the index. */
static void offer(uint16_t head)
{
	uint16_t idx = *avail16(1);
	*avail16(2 + idx % vq.size) = head;
	*avail16(1) = (uint16_t)(idx + 1);
}

static uint16_t used_idx(void)
{
	return ((uint16_t *)hva(USED))[1];
}

static struct virtq_used_elem used_elem(unsigned slot)
{
	struct virtq_used_elem e;
	memcpy(&e, (uint8_t *)hva(USED) + 4 + 8 * slot, sizeof(e));
	return e;
}

static void setup(void)
{
	ck_assert_int_eq(gm_init(&gm, RAM), 0);
	vq_init(&vq, &gm);
	ck_assert_int_eq(vq_configure(&vq, QSIZE, VQ_SIZE_MAX, DESC, AVAIL, USED), 0);
	memset(&ch, 0, sizeof(ch));
}

static void teardown(void)
{
	gm_destroy(&gm);
}

/* The queue is broken with err, and stays so without reading the rings. */
static void assert_broken(int err)
{
	ck_assert(vq.broken);
	ck_assert_int_eq(vq.err, err);
	/* even a now-good ring is not looked at again */
	desc(0, BUF, 8, 0, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), err);
	ck_assert_int_eq(vq_push(&vq, 0, 0), err);
	ck_assert(!vq_should_interrupt(&vq));
	ck_assert(!vq_has_avail(&vq));
}

START_TEST(configure_checks_size_alignment_and_ram)
{
	struct virtqueue q;
	vq_init(&q, &gm);
	ck_assert_int_eq(vq_configure(&q, 0, 256, DESC, AVAIL, USED), -EINVAL);
	ck_assert_int_eq(vq_configure(&q, 3, 256, DESC, AVAIL, USED), -EINVAL);
	ck_assert_int_eq(vq_configure(&q, 32, 16, DESC, AVAIL, USED), -EINVAL);
	ck_assert_int_eq(vq_configure(&q, 512, 512, DESC, AVAIL, USED), -EINVAL);
	ck_assert_int_eq(vq_configure(&q, 16, 24, DESC, AVAIL, USED), -EINVAL);
	ck_assert_int_eq(vq_configure(&q, 16, 256, DESC + 8, AVAIL, USED), -EINVAL);
	ck_assert_int_eq(vq_configure(&q, 16, 256, DESC, AVAIL + 1, USED), -EINVAL);
	ck_assert_int_eq(vq_configure(&q, 16, 256, DESC, AVAIL, USED + 2), -EINVAL);
	/* the last byte of each ring must be in RAM too */
	ck_assert_int_eq(vq_configure(&q, 16, 256, RAM - 16 * 16 + 16, AVAIL, USED), -EFAULT);
	ck_assert_int_eq(vq_configure(&q, 16, 256, DESC, RAM - 6 - 2 * 16 + 2, USED), -EFAULT);
	ck_assert_int_eq(vq_configure(&q, 16, 256, DESC, AVAIL, RAM - 6 - 8 * 16 + 2), -EFAULT);
	ck_assert_int_eq(vq_configure(&q, 16, 256, DESC, AVAIL, ~0ULL & ~3ULL), -EFAULT);
	ck_assert_int_eq(vq_configure(&q, 16, 256, 0xc0000000ULL, AVAIL, USED), -EFAULT);
	ck_assert(!q.ready);
	ck_assert_int_eq(vq_pop(&q, &ch), 0);
	ck_assert_int_eq(vq_push(&q, 0, 0), -EINVAL);
	ck_assert(!vq_should_interrupt(&q));

	/* exactly at the end of RAM is fine; so is the largest size */
	ck_assert_int_eq(vq_configure(&q, 16, 256, RAM - 16 * 16, RAM - 4096 - 6 - 2 * 16,
				      RAM - 8192 - 6 - 8 * 16 - 2),
			 0);
	ck_assert(q.ready);
	ck_assert_int_eq(vq_configure(&q, 256, 256, DESC, AVAIL, USED), 0);
	ck_assert_uint_eq(q.size, 256);
	ck_assert_int_eq(vq_configure(&q, 1, 1, DESC, AVAIL, USED), 0);
	vq_reset(&q);
	ck_assert(!q.ready);
	ck_assert_ptr_eq(q.gm, &gm);
}
END_TEST

START_TEST(empty_queue_pops_nothing)
{
	ck_assert(!vq_has_avail(&vq));
	ck_assert_int_eq(vq_pop(&vq, &ch), 0);
	ck_assert_int_eq(vq_push(&vq, 0, 0), -EINVAL); /* nothing outstanding */
	ck_assert(!vq.broken);
}
END_TEST

START_TEST(single_buffer)
{
	desc(0, BUF, 100, 0, 0);
	offer(0);
	ck_assert(vq_has_avail(&vq));
	ck_assert_int_eq(vq_pop(&vq, &ch), 1);
	ck_assert_uint_eq(ch.head, 0);
	ck_assert_uint_eq(ch.nbufs, 1);
	ck_assert_ptr_eq(ch.buf[0].hva, hva(BUF));
	ck_assert_uint_eq(ch.buf[0].len, 100);
	ck_assert(!ch.buf[0].device_writes);
	ck_assert_uint_eq(ch.readable, 100);
	ck_assert_uint_eq(ch.writable, 0);
	ck_assert_int_eq(vq_pop(&vq, &ch), 0);

	ck_assert_uint_eq(used_idx(), 0);
	ck_assert_int_eq(vq_push(&vq, 0, 0), 0);
	ck_assert_uint_eq(used_idx(), 1);
	ck_assert_uint_eq(used_elem(0).id, 0);
	ck_assert_uint_eq(used_elem(0).len, 0);
	ck_assert_int_eq(vq_push(&vq, 0, 0), -EINVAL); /* pushed already */
	ck_assert_int_eq(vq_push(&vq, QSIZE, 0), -EINVAL);
	ck_assert(!vq.broken);
}
END_TEST

START_TEST(read_then_write_chain)
{
	/* out of order indices: 3 -> 5 -> 7 */
	desc(3, BUF, 16, VRING_DESC_F_NEXT, 5);
	desc(5, BUF + 0x1000, 32, VRING_DESC_F_NEXT, 7);
	desc(7, BUF + 0x2000, 64, VRING_DESC_F_WRITE, 0);
	offer(3);
	ck_assert_int_eq(vq_pop(&vq, &ch), 1);
	ck_assert_uint_eq(ch.head, 3);
	ck_assert_uint_eq(ch.nbufs, 3);
	ck_assert_ptr_eq(ch.buf[1].hva, hva(BUF + 0x1000));
	ck_assert(!ch.buf[0].device_writes);
	ck_assert(!ch.buf[1].device_writes);
	ck_assert(ch.buf[2].device_writes);
	ck_assert_uint_eq(ch.buf[2].len, 64);
	ck_assert_uint_eq(ch.readable, 48);
	ck_assert_uint_eq(ch.writable, 64);
	ck_assert_int_eq(vq_push(&vq, 3, 64), 0);
	ck_assert_uint_eq(used_elem(0).id, 3);
	ck_assert_uint_eq(used_elem(0).len, 64);

	/* write-only chains are fine as well */
	desc(1, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	desc(2, BUF + 8, 8, VRING_DESC_F_WRITE, 0);
	offer(1);
	ck_assert_int_eq(vq_pop(&vq, &ch), 1);
	ck_assert_uint_eq(ch.writable, 16);
	ck_assert_uint_eq(ch.readable, 0);
}
END_TEST

START_TEST(chains_in_order_across_index_wrap)
{
	/* more than 65536 round trips: both 16-bit indices wrap */
	for (unsigned i = 0; i < 65536 + 3 * QSIZE; i++) {
		uint16_t head = (uint16_t)(i % QSIZE);
		desc(head, BUF + head * 64, 64, VRING_DESC_F_WRITE, 0);
		offer(head);
		if (i % 3 == 2) {
			offer((uint16_t)((head + 1) % QSIZE));
			desc((head + 1) % QSIZE, BUF, 4, 0, 0);
		}
		int n;
		while ((n = vq_pop(&vq, &ch)) == 1)
			ck_assert_int_eq(vq_push(&vq, ch.head, ch.writable), 0);
		ck_assert_int_eq(n, 0);
	}
	ck_assert(!vq.broken);
	ck_assert_uint_eq(used_idx(), *avail16(1));
}
END_TEST

START_TEST(full_ring_and_chain_of_queue_size)
{
	/* a chain using every descriptor */
	for (uint16_t i = 0; i < QSIZE; i++)
		desc(i, BUF + i, 1, i + 1 < QSIZE ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), 1);
	ck_assert_uint_eq(ch.nbufs, QSIZE);
	ck_assert_uint_eq(ch.readable, QSIZE);
	ck_assert_int_eq(vq_push(&vq, 0, 0), 0);

	/* exactly a full ring of single buffers */
	for (uint16_t i = 0; i < QSIZE; i++) {
		desc(i, BUF, 1, 0, 0);
		offer(i);
	}
	for (uint16_t i = 0; i < QSIZE; i++) {
		ck_assert_int_eq(vq_pop(&vq, &ch), 1);
		ck_assert_uint_eq(ch.head, i);
	}
	ck_assert_int_eq(vq_pop(&vq, &ch), 0);
}
END_TEST

START_TEST(no_interrupt_flag)
{
	desc(0, BUF, 1, 0, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), 1);
	ck_assert_int_eq(vq_push(&vq, 0, 0), 0);
	ck_assert(vq_should_interrupt(&vq));
	*avail16(0) = VRING_AVAIL_F_NO_INTERRUPT;
	ck_assert(!vq_should_interrupt(&vq));
	*avail16(0) = 0;
	ck_assert(vq_should_interrupt(&vq));
}
END_TEST

START_TEST(two_descriptor_loop)
{
	desc(0, BUF, 8, VRING_DESC_F_NEXT, 1);
	desc(1, BUF, 8, VRING_DESC_F_NEXT, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), -ELOOP);
	assert_broken(-ELOOP);
}
END_TEST

START_TEST(self_loop)
{
	desc(5, BUF, 0, VRING_DESC_F_NEXT, 5); /* zero length too: still counted */
	offer(5);
	ck_assert_int_eq(vq_pop(&vq, &ch), -ELOOP);
	assert_broken(-ELOOP);
}
END_TEST

START_TEST(buffer_outside_ram)
{
	desc(0, BUF, 8, VRING_DESC_F_NEXT, 1);
	desc(1, RAM - 10, 20, VRING_DESC_F_WRITE, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), -EFAULT);
	assert_broken(-EFAULT);
}
END_TEST

START_TEST(buffer_wrapping_the_address_space)
{
	desc(0, ~0ULL - 7, 16, 0, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), -EFAULT);
	assert_broken(-EFAULT);
}
END_TEST

START_TEST(head_out_of_range)
{
	offer(QSIZE);
	ck_assert_int_eq(vq_pop(&vq, &ch), -EINVAL);
	assert_broken(-EINVAL);
}
END_TEST

START_TEST(next_out_of_range)
{
	desc(0, BUF, 8, VRING_DESC_F_NEXT, QSIZE);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), -EINVAL);
	assert_broken(-EINVAL);
}
END_TEST

START_TEST(zero_length_descriptors_are_skipped)
{
	/* its address is never translated, so it may be anything */
	desc(0, ~0ULL, 0, VRING_DESC_F_NEXT, 1);
	desc(1, BUF, 8, VRING_DESC_F_NEXT, 2);
	desc(2, ~0ULL, 0, VRING_DESC_F_WRITE, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), 1);
	ck_assert_uint_eq(ch.nbufs, 1);
	ck_assert_ptr_eq(ch.buf[0].hva, hva(BUF));
	ck_assert_uint_eq(ch.readable, 8);
	ck_assert_uint_eq(ch.writable, 0);

	desc(3, 0, 0, 0, 0);
	offer(3);
	ck_assert_int_eq(vq_pop(&vq, &ch), 1);
	ck_assert_uint_eq(ch.head, 3);
	ck_assert_uint_eq(ch.nbufs, 0);
	ck_assert_int_eq(vq_push(&vq, 0, 0), 0);
	ck_assert_int_eq(vq_push(&vq, 3, 0), 0);
	ck_assert(!vq.broken);
}
END_TEST

START_TEST(readable_after_writable)
{
	desc(0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc(1, BUF, 8, 0, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), -EINVAL);
	assert_broken(-EINVAL);
}
END_TEST

START_TEST(avail_index_running_away)
{
	desc(0, BUF, 8, 0, 0);
	*avail16(1) = QSIZE + 1;
	ck_assert_int_eq(vq_pop(&vq, &ch), -EINVAL);
	assert_broken(-EINVAL);
}
END_TEST

START_TEST(avail_index_going_backwards)
{
	desc(0, BUF, 8, 0, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), 1);
	*avail16(1) = 0; /* 0 - 1 = 65535 pending */
	ck_assert_int_eq(vq_pop(&vq, &ch), -EINVAL);
	assert_broken(-EINVAL);
}
END_TEST

START_TEST(indirect_table)
{
	put_desc(IND, 0, BUF, 10, VRING_DESC_F_NEXT, 2);
	put_desc(IND, 2, BUF + 0x100, 20, VRING_DESC_F_NEXT, 1);
	put_desc(IND, 1, BUF + 0x200, 30, VRING_DESC_F_WRITE, 0);
	/* the WRITE flag on the indirect descriptor itself is ignored */
	desc(4, IND, 3 * 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 9);
	offer(4);
	ck_assert_int_eq(vq_pop(&vq, &ch), 1);
	ck_assert_uint_eq(ch.head, 4);
	ck_assert_uint_eq(ch.nbufs, 3);
	ck_assert_ptr_eq(ch.buf[1].hva, hva(BUF + 0x100));
	ck_assert_uint_eq(ch.readable, 30);
	ck_assert_uint_eq(ch.writable, 30);
	ck_assert_int_eq(vq_push(&vq, 4, 30), 0);

	/* unaligned table, as many entries as the queue size */
	for (uint16_t i = 0; i < QSIZE; i++)
		put_desc(IND + 8, i, BUF, 1, i + 1 < QSIZE ? VRING_DESC_F_NEXT : 0,
			 (uint16_t)(i + 1));
	desc(0, IND + 8, QSIZE * 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), 1);
	ck_assert_uint_eq(ch.nbufs, QSIZE);
	ck_assert(!vq.broken);
}
END_TEST

/* One bad indirect set-up per case: the queue ends broken with the expected error. */
static const struct {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	int err;
} bad_indirect[] = {
	{ IND, 0, VRING_DESC_F_INDIRECT, -EINVAL },
	{ IND, 24, VRING_DESC_F_INDIRECT, -EINVAL },
	{ IND, (QSIZE + 1) * 16, VRING_DESC_F_INDIRECT, -EINVAL },
	{ IND, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, -EINVAL },
	{ RAM - 16, 32, VRING_DESC_F_INDIRECT, -EFAULT },
};

START_TEST(indirect_bad_descriptor)
{
	put_desc(IND, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	put_desc(IND, 1, BUF, 8, 0, 0);
	desc(1, 0, 0, 0, 0);
	desc(0, bad_indirect[_i].addr, bad_indirect[_i].len, bad_indirect[_i].flags, 1);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), bad_indirect[_i].err);
	assert_broken(bad_indirect[_i].err);
}
END_TEST

START_TEST(indirect_nested)
{
	put_desc(IND, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	put_desc(IND, 1, IND, 32, VRING_DESC_F_INDIRECT, 0);
	desc(0, IND, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), -EINVAL);
	assert_broken(-EINVAL);
}
END_TEST

START_TEST(indirect_not_at_head)
{
	put_desc(IND, 0, BUF, 8, 0, 0);
	desc(0, BUF, 8, VRING_DESC_F_NEXT, 1);
	desc(1, IND, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), -EINVAL);
	assert_broken(-EINVAL);
}
END_TEST

START_TEST(indirect_next_beyond_table)
{
	/* next 3 is inside the queue but outside the 2-entry table */
	put_desc(IND, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	put_desc(IND, 1, BUF, 8, VRING_DESC_F_NEXT, 3);
	put_desc(IND, 3, BUF, 8, 0, 0);
	desc(0, IND, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), -EINVAL);
	assert_broken(-EINVAL);
}
END_TEST

START_TEST(indirect_loop)
{
	put_desc(IND, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	put_desc(IND, 1, BUF, 8, VRING_DESC_F_NEXT, 0);
	desc(0, IND, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), -ELOOP);
	assert_broken(-ELOOP);
}
END_TEST

START_TEST(chain_over_4gib)
{
	/* 256 overlapping 64 MiB buffers add up to 16 GiB */
	ck_assert_int_eq(vq_configure(&vq, 256, 256, DESC, AVAIL, USED), 0);
	for (uint16_t i = 0; i < 256; i++)
		put_desc(IND, i, 0, (uint32_t)RAM, i < 255 ? VRING_DESC_F_NEXT : 0,
			 (uint16_t)(i + 1));
	desc(0, IND, 256 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), -EINVAL);
	ck_assert(vq.broken);
}
END_TEST

START_TEST(reset_clears_broken)
{
	offer(QSIZE);
	ck_assert_int_eq(vq_pop(&vq, &ch), -EINVAL);
	ck_assert(vq.broken);
	vq_reset(&vq);
	ck_assert(!vq.broken);
	ck_assert(!vq.ready);
	ck_assert_int_eq(vq_pop(&vq, &ch), 0);
	memset(hva(AVAIL), 0, 4096);
	ck_assert_int_eq(vq_configure(&vq, QSIZE, QSIZE, DESC, AVAIL, USED), 0);
	desc(0, BUF, 8, 0, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), 1);
}
END_TEST

START_TEST(bad_push_does_not_break)
{
	desc(0, BUF, 8, 0, 0);
	offer(0);
	ck_assert_int_eq(vq_pop(&vq, &ch), 1);
	ck_assert_int_eq(vq_push(&vq, QSIZE, 0), -EINVAL);
	ck_assert(!vq.broken);
	ck_assert_int_eq(vq_push(&vq, 0, 8), 0);
}
END_TEST

static Suite *virtqueue_suite(void)
{
	Suite *su = suite_create("virtqueue");
	TCase *tc = tcase_create("split");
	tcase_set_timeout(tc, 30); /* each test maps guest RAM: slow under ASan on a busy host */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, configure_checks_size_alignment_and_ram);
	tcase_add_test(tc, empty_queue_pops_nothing);
	tcase_add_test(tc, single_buffer);
	tcase_add_test(tc, read_then_write_chain);
	tcase_add_test(tc, chains_in_order_across_index_wrap);
	tcase_add_test(tc, full_ring_and_chain_of_queue_size);
	tcase_add_test(tc, no_interrupt_flag);
	tcase_add_test(tc, two_descriptor_loop);
	tcase_add_test(tc, self_loop);
	tcase_add_test(tc, buffer_outside_ram);
	tcase_add_test(tc, buffer_wrapping_the_address_space);
	tcase_add_test(tc, head_out_of_range);
	tcase_add_test(tc, next_out_of_range);
	tcase_add_test(tc, zero_length_descriptors_are_skipped);
	tcase_add_test(tc, readable_after_writable);
	tcase_add_test(tc, avail_index_running_away);
	tcase_add_test(tc, avail_index_going_backwards);
	tcase_add_test(tc, indirect_table);
	tcase_add_loop_test(tc, indirect_bad_descriptor, 0,
			    (int)(sizeof(bad_indirect) / sizeof(bad_indirect[0])));
	tcase_add_test(tc, indirect_nested);
	tcase_add_test(tc, indirect_not_at_head);
	tcase_add_test(tc, indirect_next_beyond_table);
	tcase_add_test(tc, indirect_loop);
	tcase_add_test(tc, chain_over_4gib);
	tcase_add_test(tc, reset_clears_broken);
	tcase_add_test(tc, bad_push_does_not_break);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return unit_run(virtqueue_suite());
}
