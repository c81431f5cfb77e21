/* boot_place_initrd: page-aligned at the top of low RAM, above the kernel, below initrd_addr_max. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/memmap.h"
#include "boot/boot_image.h"
#include "guest_mem.h"
#include "unit.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void elf_kernel(struct boot_image *k, uint64_t end)
{
	memset(k, 0, sizeof(*k));
	k->kind = BOOT_ELF;
	k->entry = MM_KERNEL_START;
	k->start = MM_KERNEL_START;
	k->end = end;
}

static void bz_kernel(struct boot_image *k, uint64_t end, uint32_t initrd_addr_max)
{
	elf_kernel(k, end);
	k->kind = BOOT_NATIVE;
	k->arch.has_hdr = true;
	k->arch.hdr.initrd_addr_max = initrd_addr_max;
	k->initrd_end = initrd_addr_max ? (uint64_t)initrd_addr_max + 1 : 0; /* as bzimage_load */
}

static void check_placement(uint64_t gpa, uint64_t size, uint64_t top, uint64_t kernel_end)
{
	ck_assert_uint_eq(gpa & 0xfff, 0);
	ck_assert_uint_ge(gpa, kernel_end);
	ck_assert_uint_le(gpa + size, top);
	/* as high as possible: the next page up would not fit */
	ck_assert_uint_gt(gpa + 0x1000 + size, top);
}

START_TEST(fits_at_top_of_low_ram)
{
	struct guest_mem gm;
	struct boot_image k;
	uint64_t gpa = 0;
	ck_assert_int_eq(gm_init(&gm, 128 * MiB), 0);
	elf_kernel(&k, MM_KERNEL_START + 0x123456);

	uint64_t size = 1 * MiB + 123;
	ck_assert_int_eq(boot_place_initrd(&gm, &k, size, &gpa), 0);
	ck_assert_uint_eq(gpa, (128 * MiB - size) & ~0xfffULL);
	check_placement(gpa, size, 128 * MiB, k.end);

	/* a whole number of pages ends exactly at the top */
	ck_assert_int_eq(boot_place_initrd(&gm, &k, 8 * MiB, &gpa), 0);
	ck_assert_uint_eq(gpa, 120 * MiB);

	/* a one-byte initramfs uses the last page */
	ck_assert_int_eq(boot_place_initrd(&gm, &k, 1, &gpa), 0);
	ck_assert_uint_eq(gpa, 128 * MiB - 0x1000);
	gm_destroy(&gm);
}
END_TEST

START_TEST(largest_that_fits_starts_at_kernel_end)
{
	struct guest_mem gm;
	struct boot_image k;
	uint64_t gpa = 0;
	ck_assert_int_eq(gm_init(&gm, 64 * MiB), 0);
	elf_kernel(&k, 20 * MiB);
	ck_assert_int_eq(boot_place_initrd(&gm, &k, 44 * MiB, &gpa), 0);
	ck_assert_uint_eq(gpa, 20 * MiB);
	ck_assert_int_eq(boot_place_initrd(&gm, &k, 44 * MiB + 1, &gpa), -ENOMEM);
	gm_destroy(&gm);
}
END_TEST

START_TEST(too_large_is_enomem)
{
	struct guest_mem gm;
	struct boot_image k;
	uint64_t gpa = 0xdead;
	ck_assert_int_eq(gm_init(&gm, 128 * MiB), 0);
	elf_kernel(&k, MM_KERNEL_START + 16 * MiB);
	/* would overlap the kernel */
	ck_assert_int_eq(boot_place_initrd(&gm, &k, 100 * MiB, &gpa), -ENOMEM);
	/* more than all of RAM */
	ck_assert_int_eq(boot_place_initrd(&gm, &k, 200 * MiB, &gpa), -ENOMEM);
	ck_assert_int_eq(boot_place_initrd(&gm, &k, UINT64_MAX, &gpa), -ENOMEM);
	ck_assert_int_eq(boot_place_initrd(&gm, &k, 4 * GiB, &gpa), -ENOMEM);
	ck_assert_uint_eq(gpa, 0xdead); /* untouched on failure */
	gm_destroy(&gm);
}
END_TEST

START_TEST(respects_initrd_addr_max)
{
	struct guest_mem gm;
	struct boot_image k;
	uint64_t gpa = 0;
	ck_assert_int_eq(gm_init(&gm, 128 * MiB), 0);
	bz_kernel(&k, MM_KERNEL_START + 4 * MiB, (uint32_t)(64 * MiB - 1));
	uint64_t size = 3 * MiB + 5;
	ck_assert_int_eq(boot_place_initrd(&gm, &k, size, &gpa), 0);
	check_placement(gpa, size, 64 * MiB, k.end);

	/* an unaligned limit: the last byte may sit on initrd_addr_max itself */
	bz_kernel(&k, MM_KERNEL_START + 4 * MiB, (uint32_t)(64 * MiB + 0x1fff));
	ck_assert_int_eq(boot_place_initrd(&gm, &k, 0x1000, &gpa), 0);
	ck_assert_uint_eq(gpa, 64 * MiB + 0x1000);

	/* the limit leaves no room above the kernel */
	bz_kernel(&k, MM_KERNEL_START + 4 * MiB, (uint32_t)(MM_KERNEL_START + 5 * MiB - 1));
	ck_assert_int_eq(boot_place_initrd(&gm, &k, 2 * MiB, &gpa), -ENOMEM);
	gm_destroy(&gm);
}
END_TEST

START_TEST(limit_above_ram_or_absent_is_ignored)
{
	struct guest_mem gm;
	struct boot_image k;
	uint64_t gpa = 0;
	uint64_t size = 2 * MiB;
	ck_assert_int_eq(gm_init(&gm, 128 * MiB), 0);

	bz_kernel(&k, MM_KERNEL_START + 4 * MiB, 0x7fffffff);
	ck_assert_int_eq(boot_place_initrd(&gm, &k, size, &gpa), 0);
	ck_assert_uint_eq(gpa, 128 * MiB - size);

	bz_kernel(&k, MM_KERNEL_START + 4 * MiB, 0);
	ck_assert_int_eq(boot_place_initrd(&gm, &k, size, &gpa), 0);
	ck_assert_uint_eq(gpa, 128 * MiB - size);

	/* an ELF kernel has no setup header: a stray value there means nothing */
	elf_kernel(&k, MM_KERNEL_START + 4 * MiB);
	k.arch.hdr.initrd_addr_max = (uint32_t)(32 * MiB - 1);
	ck_assert_int_eq(boot_place_initrd(&gm, &k, size, &gpa), 0);
	ck_assert_uint_eq(gpa, 128 * MiB - size);
	gm_destroy(&gm);
}
END_TEST

START_TEST(stays_below_the_gap)
{
	struct guest_mem gm;
	struct boot_image k;
	uint64_t gpa = 0;
	uint64_t size = 5 * MiB + 77;
	ck_assert_int_eq(gm_init(&gm, 4 * GiB + 64 * MiB), 0);
	elf_kernel(&k, MM_KERNEL_START + 8 * MiB);
	ck_assert_int_eq(boot_place_initrd(&gm, &k, size, &gpa), 0);
	check_placement(gpa, size, MM_GAP_START, k.end);
	ck_assert_ptr_nonnull(gm_gpa_to_hva(&gm, gpa, size));

	bz_kernel(&k, MM_KERNEL_START + 8 * MiB, 0x37ffffff);
	ck_assert_int_eq(boot_place_initrd(&gm, &k, size, &gpa), 0);
	check_placement(gpa, size, 0x38000000, k.end);
	gm_destroy(&gm);
}
END_TEST

static Suite *initrd_suite(void)
{
	Suite *s = suite_create("initrd");
	TCase *tc = tcase_create("place");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, fits_at_top_of_low_ram);
	tcase_add_test(tc, largest_that_fits_starts_at_kernel_end);
	tcase_add_test(tc, too_large_is_enomem);
	tcase_add_test(tc, respects_initrd_addr_max);
	tcase_add_test(tc, limit_above_ram_or_absent_is_ignored);
	tcase_add_test(tc, stays_below_the_gap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(initrd_suite());
}
