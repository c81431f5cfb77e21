/*
 * bzImage loader on synthetic images: real-mode setup sectors with a setup
 * header at 0x1f1, then a protected-mode payload that must land at 16 MiB.
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/memmap.h"
#include "arch/x86_64/bzimage.h"
#include "guest_mem.h"
#include "unit.h"

#define RAM	    (64ULL << 20)
#define HDR_OFF	    0x1f1
#define SETUP_SECTS 4
#define SETUP_LEN   ((SETUP_SECTS + 1) * 512)
#define PAYLOAD_LEN 0x3000
#define IMG_MAX	    (SETUP_LEN + PAYLOAD_LEN)
#define INIT_SIZE   0x100000

struct image {
	uint8_t b[IMG_MAX];
	size_t len;
	struct setup_header h; /* edited, then stored by put_hdr() */
};

static struct guest_mem gm;

static void setup(void)
{
	ck_assert_int_eq(gm_init(&gm, RAM), 0);
}

static void teardown(void)
{
	gm_destroy(&gm);
}

static void put_hdr(struct image *im)
{
	memcpy(im->b + HDR_OFF, &im->h, sizeof(im->h));
}

static void make_image(struct image *im)
{
	memset(im, 0, sizeof(*im));
	im->len = IMG_MAX;
	for (size_t i = 0; i < SETUP_LEN; i++)
		im->b[i] = 0xee; /* setup code: must not be loaded */
	for (size_t i = 0; i < PAYLOAD_LEN; i++)
		im->b[SETUP_LEN + i] = (uint8_t)(i * 7 + 3);
	im->h.setup_sects = SETUP_SECTS;
	im->h.boot_flag = 0xaa55;
	im->h.header = 0x53726448; /* "HdrS" */
	im->h.version = 0x020f;
	im->h.loadflags = LOADED_HIGH;
	im->h.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	im->h.init_size = INIT_SIZE;
	im->h.kernel_alignment = 0x200000;
	im->h.relocatable_kernel = 1;
	im->h.cmdline_size = 2047;
	im->h.initrd_addr_max = 0x7fffffff;
	put_hdr(im);
}

static int load_n(const struct image *im, size_t len, struct boot_image *out, int via_magic)
{
	uint8_t *copy = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, im->b, len);
	int r = via_magic ? arch_boot_load_kernel(&gm, copy, len, out) :
			    bzimage_load(&gm, copy, len, out);
	free(copy);
	return r;
}

static int load(const struct image *im, struct boot_image *out)
{
	return load_n(im, im->len, out, 0);
}

static void check_payload(size_t payload_len)
{
	const uint8_t *p = gm_gpa_to_hva(&gm, MM_KERNEL_START, payload_len);
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < payload_len; i++)
		ck_assert_msg(p[i] == (uint8_t)(i * 7 + 3), "payload byte %zu is %#x", i, p[i]);
}

START_TEST(good_image_loads)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	memset(&k, 0xcc, sizeof(k));
	ck_assert_int_eq(load(&im, &k), 0);
	ck_assert_int_eq(k.kind, BOOT_NATIVE);
	ck_assert_uint_eq(k.entry, MM_KERNEL_START + 0x200);
	ck_assert_uint_eq(k.start, MM_KERNEL_START);
	ck_assert_uint_eq(k.end, MM_KERNEL_START + INIT_SIZE);
	ck_assert(k.arch.has_hdr);
	ck_assert_uint_eq(k.arch.hdr.version, 0x020f);
	ck_assert_uint_eq(k.arch.hdr.setup_sects, SETUP_SECTS);
	ck_assert_uint_eq(k.arch.hdr.init_size, INIT_SIZE);
	ck_assert_uint_eq(k.arch.hdr.cmdline_size, 2047);
	ck_assert_uint_eq(k.arch.hdr.initrd_addr_max, 0x7fffffff);
	ck_assert_uint_eq(k.initrd_end, 0x80000000); /* from initrd_addr_max */
	check_payload(PAYLOAD_LEN);
	/* nothing past the payload was written */
	const uint8_t *after = gm_gpa_to_hva(&gm, MM_KERNEL_START + PAYLOAD_LEN, 16);
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(after[i], 0);
}
END_TEST

START_TEST(good_image_loads_via_magic)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	ck_assert_int_eq(load_n(&im, im.len, &k, 1), 0);
	ck_assert_int_eq(k.kind, BOOT_NATIVE);
	ck_assert_uint_eq(k.entry, MM_KERNEL_START + 0x200);
	check_payload(PAYLOAD_LEN);
}
END_TEST

START_TEST(zero_setup_sects_means_four)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	im.h.setup_sects = 0;
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), 0);
	check_payload(PAYLOAD_LEN);
}
END_TEST

START_TEST(kernel_range_covers_payload_when_init_size_is_small)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	im.h.init_size = 0x10;
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), 0);
	ck_assert_uint_eq(k.end, MM_KERNEL_START + PAYLOAD_LEN);
}
END_TEST

START_TEST(too_short)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	ck_assert_int_eq(load_n(&im, HDR_OFF + sizeof(struct setup_header) - 1, &k, 0), -ENOEXEC);
	ck_assert_int_eq(load_n(&im, HDR_OFF + 10, &k, 0), -ENOEXEC);
	ck_assert_int_eq(load_n(&im, 0, &k, 0), -ENOEXEC);
	ck_assert_int_eq(load_n(&im, 0, &k, 1), -ENOEXEC);
	ck_assert_int_eq(load_n(&im, 2, &k, 1), -ENOEXEC);
}
END_TEST

START_TEST(no_setup_header)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	im.h.header = 0x53726449;
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	ck_assert_int_eq(load_n(&im, im.len, &k, 1), -ENOEXEC);
	make_image(&im);
	im.h.boot_flag = 0;
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	/* all zeros: neither ELF nor bzImage */
	memset(im.b, 0, sizeof(im.b));
	ck_assert_int_eq(load_n(&im, im.len, &k, 1), -ENOEXEC);
}
END_TEST

START_TEST(old_protocol_version)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	im.h.version = 0x020b;
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	im.h.version = 0x0100;
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	im.h.version = 0x020c; /* 2.12 is the oldest accepted */
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), 0);
}
END_TEST

START_TEST(no_64bit_entry)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	im.h.xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G;
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
}
END_TEST

START_TEST(not_loaded_high)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	im.h.loadflags = 0;
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
}
END_TEST

START_TEST(setup_covers_whole_file)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	im.h.setup_sects = 0xff; /* 128 KiB of setup in a 14 KiB file */
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	/* the file ends exactly where the setup sectors do */
	make_image(&im);
	ck_assert_int_eq(load_n(&im, SETUP_LEN, &k, 0), -ENOEXEC);
	/* a payload too short to hold the 64-bit entry at 0x200 */
	ck_assert_int_eq(load_n(&im, SETUP_LEN + 0x200, &k, 0), -ENOEXEC);
	ck_assert_int_eq(load_n(&im, SETUP_LEN + 0x201, &k, 0), 0);
}
END_TEST

START_TEST(init_size_bigger_than_ram)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	im.h.init_size = (uint32_t)(RAM - MM_KERNEL_START + 1);
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), -ENOMEM);
	make_image(&im);
	im.h.init_size = UINT32_MAX;
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), -ENOMEM);
	/* exactly the RAM above 16 MiB is enough */
	make_image(&im);
	im.h.init_size = (uint32_t)(RAM - MM_KERNEL_START);
	put_hdr(&im);
	ck_assert_int_eq(load(&im, &k), 0);
	ck_assert_uint_eq(k.end, RAM);
}
END_TEST

START_TEST(corrupted_header_does_not_crash)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x80, 0xff };
	struct image im;
	struct boot_image k;
	for (size_t off = HDR_OFF; off < HDR_OFF + sizeof(struct setup_header); off++) {
		for (size_t v = 0; v < sizeof(vals); v++) {
			make_image(&im);
			im.b[off] = vals[v];
			int r = load(&im, &k);
			ck_assert_msg(r == 0 || r == -ENOEXEC || r == -ENOMEM,
				      "byte %#zx = %#x: unexpected result %d", off, vals[v], r);
			if (r == 0) {
				ck_assert_uint_eq(k.entry, MM_KERNEL_START + 0x200);
				ck_assert_ptr_nonnull(gm_gpa_to_hva(&gm, k.start, k.end - k.start));
			}
		}
	}
}
END_TEST

static Suite *bzimage_suite(void)
{
	Suite *s = suite_create("bzimage");
	TCase *tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, good_image_loads);
	tcase_add_test(tc, good_image_loads_via_magic);
	tcase_add_test(tc, zero_setup_sects_means_four);
	tcase_add_test(tc, kernel_range_covers_payload_when_init_size_is_small);
	tcase_add_test(tc, too_short);
	tcase_add_test(tc, no_setup_header);
	tcase_add_test(tc, old_protocol_version);
	tcase_add_test(tc, no_64bit_entry);
	tcase_add_test(tc, not_loaded_high);
	tcase_add_test(tc, setup_covers_whole_file);
	tcase_add_test(tc, init_size_bigger_than_ram);
	tcase_add_test(tc, corrupted_header_does_not_crash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(bzimage_suite());
}
