/* guest_mem: region layout around the MMIO gap and the one gpa -> hva translation. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "guest_mem.h"
#include "unit.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

START_TEST(small_ram_is_one_region)
{
	struct guest_mem gm;
	ck_assert_int_eq(gm_init(&gm, 64 * MiB), 0);
	ck_assert_int_ge(gm.memfd, 0);
	ck_assert_ptr_nonnull(gm.base);
	ck_assert_uint_eq(gm.size, 64 * MiB);
	ck_assert_uint_eq(gm.nregions, 1);
	ck_assert_uint_eq(gm.regions[0].gpa, 0);
	ck_assert_uint_eq(gm.regions[0].size, 64 * MiB);
	ck_assert_ptr_eq(gm.regions[0].hva, gm.base);
	ck_assert_uint_eq(gm_low_end(&gm), 64 * MiB);
	gm_destroy(&gm);
	ck_assert_ptr_null(gm.base);
	ck_assert_int_eq(gm.memfd, -1);
	ck_assert_uint_eq(gm.nregions, 0);
}
END_TEST

START_TEST(exactly_gap_start_is_one_region)
{
	struct guest_mem gm;
	ck_assert_int_eq(gm_init(&gm, ARCH_RAM_GAP_START), 0);
	ck_assert_uint_eq(gm.nregions, 1);
	ck_assert_uint_eq(gm_low_end(&gm), ARCH_RAM_GAP_START);
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, ARCH_RAM_GAP_END, 1));
	gm_destroy(&gm);
}
END_TEST

START_TEST(large_ram_is_split_around_the_gap)
{
	struct guest_mem gm;
	uint64_t size = 4 * GiB + 64 * MiB;
	ck_assert_int_eq(gm_init(&gm, size), 0);
	ck_assert_uint_eq(gm.size, size);
	ck_assert_uint_eq(gm.nregions, 2);
	ck_assert_uint_eq(gm.regions[0].gpa, 0);
	ck_assert_uint_eq(gm.regions[0].size, ARCH_RAM_GAP_START);
	ck_assert_uint_eq(gm.regions[1].gpa, ARCH_RAM_GAP_END);
	ck_assert_uint_eq(gm.regions[1].size, size - ARCH_RAM_GAP_START);
	ck_assert_ptr_eq(gm.regions[1].hva, gm.base + ARCH_RAM_GAP_START);
	ck_assert_uint_eq(gm_low_end(&gm), ARCH_RAM_GAP_START);
	gm_destroy(&gm);
}
END_TEST

START_TEST(bounds_below_the_gap)
{
	struct guest_mem gm;
	uint64_t size = 64 * MiB;
	ck_assert_int_eq(gm_init(&gm, size), 0);

	ck_assert_ptr_eq(gm_gpa_to_hva(&gm, 0, 1), gm.base);
	ck_assert_ptr_eq(gm_gpa_to_hva(&gm, 0, size), gm.base);
	ck_assert_ptr_eq(gm_gpa_to_hva(&gm, 0x1234, 16), gm.base + 0x1234);
	/* last byte, and a range ending exactly at the end */
	ck_assert_ptr_eq(gm_gpa_to_hva(&gm, size - 1, 1), gm.base + size - 1);
	ck_assert_ptr_eq(gm_gpa_to_hva(&gm, size - 16, 16), gm.base + size - 16);
	/* one past the end */
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, size, 1));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, size - 16, 17));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, 0, size + 1));
	/* far away and wrapping around the 64-bit space */
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, ARCH_RAM_GAP_START, 1));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, UINT64_MAX, 1));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, UINT64_MAX, 2));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, UINT64_MAX - 15, 32));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, 16, UINT64_MAX));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, 1, UINT64_MAX - 0x10));
	gm_destroy(&gm);
}
END_TEST

START_TEST(bounds_around_the_gap)
{
	struct guest_mem gm;
	uint64_t size = 4 * GiB + 64 * MiB;
	uint64_t high_end = ARCH_RAM_GAP_END + (size - ARCH_RAM_GAP_START);
	ck_assert_int_eq(gm_init(&gm, size), 0);

	ck_assert_ptr_eq(gm_gpa_to_hva(&gm, ARCH_RAM_GAP_START - 1, 1),
			 gm.base + ARCH_RAM_GAP_START - 1);
	ck_assert_ptr_eq(gm_gpa_to_hva(&gm, ARCH_RAM_GAP_END, 1), gm.base + ARCH_RAM_GAP_START);
	ck_assert_ptr_eq(gm_gpa_to_hva(&gm, high_end - 1, 1), gm.base + size - 1);
	ck_assert_ptr_eq(gm_gpa_to_hva(&gm, ARCH_RAM_GAP_END, size - ARCH_RAM_GAP_START),
			 gm.base + ARCH_RAM_GAP_START);
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, high_end, 1));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, high_end - 1, 2));
	/* inside the gap, and ranges crossing into or over it */
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, ARCH_RAM_GAP_START, 1));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, ARCH_MMIO_START, 4));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, ARCH_RAM_GAP_END - 1, 1));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, ARCH_RAM_GAP_START - 1, 2));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, ARCH_RAM_GAP_END - 1, 2));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, 0, size));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, ARCH_RAM_GAP_START - 16, ARCH_RAM_GAP_END));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, UINT64_MAX, 2));
	ck_assert_ptr_null(gm_gpa_to_hva(&gm, ARCH_RAM_GAP_END + 1, UINT64_MAX));
	gm_destroy(&gm);
}
END_TEST

START_TEST(writes_land_in_the_shared_memfd)
{
	struct guest_mem gm;
	uint64_t size = 4 * GiB + 64 * MiB;
	static const char low[] = "below the gap", high[] = "above 4 GiB";
	char back[32];

	ck_assert_int_eq(gm_init(&gm, size), 0);
	ck_assert_int_eq(gm_write(&gm, 0x20000, low, sizeof(low)), 0);
	ck_assert_int_eq(gm_write(&gm, ARCH_RAM_GAP_END + 0x1000, high, sizeof(high)), 0);

	/* The memfd holds low RAM first, then the RAM above 4 GiB. */
	ck_assert_int_eq(pread(gm.memfd, back, sizeof(low), 0x20000), (ssize_t)sizeof(low));
	ck_assert_mem_eq(back, low, sizeof(low));
	ck_assert_int_eq(pread(gm.memfd, back, sizeof(high), (off_t)(ARCH_RAM_GAP_START + 0x1000)),
			 (ssize_t)sizeof(high));
	ck_assert_mem_eq(back, high, sizeof(high));
	gm_destroy(&gm);
}
END_TEST

START_TEST(write_outside_ram_is_efault)
{
	struct guest_mem gm;
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	ck_assert_int_eq(gm_init(&gm, 64 * MiB), 0);
	ck_assert_int_eq(gm_write(&gm, 64 * MiB - 4, buf, sizeof(buf)), -EFAULT);
	ck_assert_int_eq(gm_write(&gm, ARCH_RAM_GAP_END, buf, sizeof(buf)), -EFAULT);
	ck_assert_int_eq(gm_write(&gm, UINT64_MAX - 3, buf, sizeof(buf)), -EFAULT);
	/* nothing written by the refused call at the end of RAM */
	uint8_t *tail = gm_gpa_to_hva(&gm, 64 * MiB - 4, 4);
	ck_assert_ptr_nonnull(tail);
	ck_assert_uint_eq(tail[0] | tail[1] | tail[2] | tail[3], 0);
	ck_assert_int_eq(gm_write(&gm, 64 * MiB - 8, buf, sizeof(buf)), 0);
	ck_assert_mem_eq(gm_gpa_to_hva(&gm, 64 * MiB - 8, 8), buf, sizeof(buf));
	gm_destroy(&gm);
}
END_TEST

START_TEST(zero_clears_whole_pages_and_edges)
{
	struct guest_mem gm;
	ck_assert_int_eq(gm_init(&gm, 64 * MiB), 0);
	uint8_t *p = gm_gpa_to_hva(&gm, 0x100000, 5 * 4096);
	ck_assert_ptr_nonnull(p);
	memset(p, 0xee, 5 * 4096);

	/* from the middle of the first page to the middle of the fifth */
	ck_assert_int_eq(gm_zero(&gm, 0x100000 + 100, 4 * 4096), 0);
	ck_assert_uint_eq(p[99], 0xee);
	for (size_t i = 100; i < 100 + 4 * 4096; i++)
		ck_assert_uint_eq(p[i], 0);
	ck_assert_uint_eq(p[100 + 4 * 4096], 0xee);

	/* a write after a punched page is read back through the mapping */
	static const char msg[] = "after the hole";
	ck_assert_int_eq(gm_write(&gm, 0x101000, msg, sizeof(msg)), 0);
	ck_assert_mem_eq(p + 4096, msg, sizeof(msg));
	ck_assert_int_eq(gm_zero(&gm, 64 * MiB - 8, 16), -EFAULT);
	ck_assert_int_eq(gm_zero(&gm, 0x100000, 0), 0);
	gm_destroy(&gm);
}
END_TEST

START_TEST(too_little_ram_is_rejected)
{
	static const uint64_t sizes[] = { 0, 1, 4096, 16 * MiB, ARCH_MIN_RAM - 1 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct guest_mem gm;
		memset(&gm, 0xa5, sizeof(gm));
		ck_assert_int_eq(gm_init(&gm, sizes[i]), -EINVAL);
		ck_assert_ptr_null(gm.base);
		ck_assert_int_eq(gm.memfd, -1);
		ck_assert_uint_eq(gm.nregions, 0);
		ck_assert_ptr_null(gm_gpa_to_hva(&gm, 0, 1));
		gm_destroy(&gm); /* safe on a failed init */
	}
	struct guest_mem gm;
	ck_assert_int_eq(gm_init(&gm, ARCH_MIN_RAM), 0);
	ck_assert_uint_eq(gm_low_end(&gm), ARCH_MIN_RAM);
	gm_destroy(&gm);
	gm_destroy(&gm); /* and twice */
}
END_TEST

static Suite *guest_mem_suite(void)
{
	Suite *s = suite_create("guest_mem");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, small_ram_is_one_region);
	tcase_add_test(tc, exactly_gap_start_is_one_region);
	tcase_add_test(tc, large_ram_is_split_around_the_gap);
	tcase_add_test(tc, bounds_below_the_gap);
	tcase_add_test(tc, bounds_around_the_gap);
	tcase_add_test(tc, writes_land_in_the_shared_memfd);
	tcase_add_test(tc, write_outside_ram_is_efault);
	tcase_add_test(tc, zero_clears_whole_pages_and_edges);
	tcase_add_test(tc, too_little_ram_is_rejected);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(guest_mem_suite());
}
