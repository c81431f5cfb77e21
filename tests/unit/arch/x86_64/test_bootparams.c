/* bp_build: the zero page's setup header, command line and initramfs fields, and e820 map. */
#include <asm/bootparam.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/memmap.h"
#include "arch/x86_64/bootparams.h"
#include "guest_mem.h"
#include "unit.h"

#define MiB	      (1ULL << 20)
#define GiB	      (1ULL << 30)
#define E820_RAM      1
#define E820_RESERVED 2

static void elf_kernel(struct boot_image *k)
{
	memset(k, 0, sizeof(*k));
	k->kind = BOOT_ELF;
	k->entry = k->start = MM_KERNEL_START;
	k->end = MM_KERNEL_START + 8 * MiB;
}

static void bz_kernel(struct boot_image *k)
{
	elf_kernel(k);
	k->kind = BOOT_NATIVE;
	k->entry = MM_KERNEL_START + 0x200;
	k->arch.has_hdr = true;
	k->arch.hdr.setup_sects = 27;
	k->arch.hdr.boot_flag = 0xaa55;
	k->arch.hdr.header = 0x53726448;
	k->arch.hdr.version = 0x020f;
	k->arch.hdr.loadflags = LOADED_HIGH | CAN_USE_HEAP;
	k->arch.hdr.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	k->arch.hdr.kernel_alignment = 0x200000;
	k->arch.hdr.relocatable_kernel = 1;
	k->arch.hdr.min_alignment = 21;
	k->arch.hdr.cmdline_size = 255;
	k->arch.hdr.initrd_addr_max = 0x7fffffff;
	k->arch.hdr.init_size = 0x2345000;
	k->arch.hdr.pref_address = 0x1000000;
	k->arch.hdr.syssize = 0x1234;
}

static void check_e820(const struct boot_params *bp, unsigned i, uint64_t addr, uint64_t size,
		       uint32_t type)
{
	ck_assert_uint_lt(i, bp->e820_entries);
	ck_assert_msg(bp->e820_table[i].addr == addr, "e820[%u].addr %#llx, want %#llx", i,
		      (unsigned long long)bp->e820_table[i].addr, (unsigned long long)addr);
	ck_assert_msg(bp->e820_table[i].size == size, "e820[%u].size %#llx, want %#llx", i,
		      (unsigned long long)bp->e820_table[i].size, (unsigned long long)size);
	ck_assert_uint_eq(bp->e820_table[i].type, type);
}

START_TEST(e820_for_128_mib)
{
	struct guest_mem gm;
	struct boot_image k;
	struct boot_params bp;
	struct boot_args a = { .cmdline_gpa = MM_CMDLINE, .cmdline_len = 10 };
	ck_assert_int_eq(gm_init(&gm, 128 * MiB), 0);
	elf_kernel(&k);
	memset(&bp, 0xa5, sizeof(bp)); /* everything not set must come out zero */
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), 0);
	ck_assert_uint_eq(bp.e820_entries, 3);
	check_e820(&bp, 0, 0, MM_EBDA_START, E820_RAM);
	check_e820(&bp, 1, MM_EBDA_START, MM_HIGH_RAM_START - MM_EBDA_START, E820_RESERVED);
	check_e820(&bp, 2, MM_HIGH_RAM_START, 128 * MiB - MM_HIGH_RAM_START, E820_RAM);
	ck_assert_uint_eq(bp.e820_table[3].addr | bp.e820_table[3].size, 0);
	ck_assert_uint_eq(bp.e820_table[3].type, 0);
	ck_assert_uint_eq(bp.ext_ramdisk_image, 0);
	ck_assert_uint_eq(bp.alt_mem_k, 0);
	gm_destroy(&gm);
}
END_TEST

START_TEST(e820_above_the_gap)
{
	struct guest_mem gm;
	struct boot_image k;
	struct boot_params bp;
	struct boot_args a = { .cmdline_gpa = MM_CMDLINE, .cmdline_len = 0 };
	uint64_t size = 4 * GiB + 64 * MiB;
	ck_assert_int_eq(gm_init(&gm, size), 0);
	elf_kernel(&k);
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), 0);
	ck_assert_uint_eq(bp.e820_entries, 4);
	check_e820(&bp, 0, 0, MM_EBDA_START, E820_RAM);
	check_e820(&bp, 1, MM_EBDA_START, MM_HIGH_RAM_START - MM_EBDA_START, E820_RESERVED);
	check_e820(&bp, 2, MM_HIGH_RAM_START, MM_GAP_START - MM_HIGH_RAM_START, E820_RAM);
	check_e820(&bp, 3, MM_GAP_END, size - MM_GAP_START, E820_RAM);
	/* the map covers exactly the guest's RAM plus the reserved BIOS area */
	uint64_t ram = 0;
	for (unsigned i = 0; i < bp.e820_entries; i++)
		if (bp.e820_table[i].type == E820_RAM)
			ram += bp.e820_table[i].size;
	ck_assert_uint_eq(ram, size - (MM_HIGH_RAM_START - MM_EBDA_START));
	gm_destroy(&gm);
}
END_TEST

START_TEST(header_for_elf_kernel)
{
	struct guest_mem gm;
	struct boot_image k;
	struct boot_params bp;
	struct boot_args a = { .cmdline_gpa = MM_CMDLINE, .cmdline_len = 42 };
	ck_assert_int_eq(gm_init(&gm, 64 * MiB), 0);
	elf_kernel(&k);
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), 0);
	ck_assert_uint_eq(bp.hdr.boot_flag, 0xaa55);
	ck_assert_uint_eq(bp.hdr.header, 0x53726448);
	ck_assert_uint_eq(bp.hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp.hdr.loadflags & LOADED_HIGH, LOADED_HIGH);
	ck_assert_uint_eq(bp.hdr.kernel_alignment, 0x1000000);
	ck_assert_uint_eq(bp.hdr.cmd_line_ptr, MM_CMDLINE);
	ck_assert_uint_eq(bp.ext_cmd_line_ptr, 0);
	ck_assert_uint_eq(bp.hdr.ramdisk_image, 0);
	ck_assert_uint_eq(bp.hdr.ramdisk_size, 0);
	ck_assert_uint_eq(bp.ext_ramdisk_image, 0);
	ck_assert_uint_eq(bp.ext_ramdisk_size, 0);
	gm_destroy(&gm);
}
END_TEST

START_TEST(bzimage_header_is_copied)
{
	struct guest_mem gm;
	struct boot_image k;
	struct boot_params bp;
	struct boot_args a = { .cmdline_gpa = MM_CMDLINE, .cmdline_len = 20 };
	ck_assert_int_eq(gm_init(&gm, 64 * MiB), 0);
	bz_kernel(&k);
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), 0);
	ck_assert_uint_eq(bp.hdr.setup_sects, 27);
	ck_assert_uint_eq(bp.hdr.version, 0x020f);
	ck_assert_uint_eq(bp.hdr.xloadflags, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G);
	ck_assert_uint_eq(bp.hdr.loadflags, LOADED_HIGH | CAN_USE_HEAP);
	ck_assert_uint_eq(bp.hdr.kernel_alignment, 0x200000); /* the kernel's, kept */
	ck_assert_uint_eq(bp.hdr.relocatable_kernel, 1);
	ck_assert_uint_eq(bp.hdr.min_alignment, 21);
	ck_assert_uint_eq(bp.hdr.cmdline_size, 255);
	ck_assert_uint_eq(bp.hdr.initrd_addr_max, 0x7fffffff);
	ck_assert_uint_eq(bp.hdr.init_size, 0x2345000);
	ck_assert_uint_eq(bp.hdr.pref_address, 0x1000000);
	ck_assert_uint_eq(bp.hdr.syssize, 0x1234);
	/* and the loader's own fields on top */
	ck_assert_uint_eq(bp.hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp.hdr.cmd_line_ptr, MM_CMDLINE);
	ck_assert_uint_eq(bp.hdr.boot_flag, 0xaa55);
	ck_assert_uint_eq(bp.hdr.header, 0x53726448);
	gm_destroy(&gm);
}
END_TEST

START_TEST(ramdisk_fields)
{
	struct guest_mem gm;
	struct boot_image k;
	struct boot_params bp;
	ck_assert_int_eq(gm_init(&gm, 128 * MiB), 0);
	bz_kernel(&k);

	struct boot_args a = { .cmdline_gpa = MM_CMDLINE,
			       .cmdline_len = 5,
			       .initrd_gpa = 0x7c00000,
			       .initrd_size = 0x3fff01 };
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), 0);
	ck_assert_uint_eq(bp.hdr.ramdisk_image, 0x7c00000);
	ck_assert_uint_eq(bp.hdr.ramdisk_size, 0x3fff01);
	ck_assert_uint_eq(bp.ext_ramdisk_image, 0);
	ck_assert_uint_eq(bp.ext_ramdisk_size, 0);

	/* addresses and sizes past 4 GiB are split into the ext_ fields */
	a.initrd_gpa = 0x123456000ULL;
	a.initrd_size = 0x200000010ULL;
	a.cmdline_gpa = 0x300020000ULL;
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), 0);
	ck_assert_uint_eq(bp.hdr.ramdisk_image, 0x23456000);
	ck_assert_uint_eq(bp.ext_ramdisk_image, 0x1);
	ck_assert_uint_eq(bp.hdr.ramdisk_size, 0x10);
	ck_assert_uint_eq(bp.ext_ramdisk_size, 0x2);
	ck_assert_uint_eq(bp.hdr.cmd_line_ptr, 0x00020000);
	ck_assert_uint_eq(bp.ext_cmd_line_ptr, 0x3);

	/* size 0: no initramfs, whatever the address says */
	a.initrd_size = 0;
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), 0);
	ck_assert_uint_eq(bp.hdr.ramdisk_image, 0);
	ck_assert_uint_eq(bp.ext_ramdisk_image, 0);
	gm_destroy(&gm);
}
END_TEST

START_TEST(cmdline_longer_than_kernel_accepts)
{
	struct guest_mem gm;
	struct boot_image k;
	struct boot_params bp;
	ck_assert_int_eq(gm_init(&gm, 64 * MiB), 0);
	bz_kernel(&k); /* cmdline_size 255 */
	struct boot_args a = { .cmdline_gpa = MM_CMDLINE, .cmdline_len = 255 };
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), 0);
	a.cmdline_len = 256;
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), -E2BIG);

	/* without a header, the limit is our own buffer's */
	elf_kernel(&k);
	a.cmdline_len = MM_CMDLINE_MAX - 1;
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), 0);
	a.cmdline_len = MM_CMDLINE_MAX;
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), -E2BIG);
	a.cmdline_len = UINT32_MAX;
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), -E2BIG);

	/* a kernel claiming more than our buffer is still held to our buffer */
	bz_kernel(&k);
	k.arch.hdr.cmdline_size = 0x10000;
	a.cmdline_len = MM_CMDLINE_MAX;
	ck_assert_int_eq(bp_build(&bp, &gm, &k, &a), -E2BIG);
	gm_destroy(&gm);
}
END_TEST

static Suite *bootparams_suite(void)
{
	Suite *s = suite_create("bootparams");
	TCase *tc = tcase_create("build");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, e820_for_128_mib);
	tcase_add_test(tc, e820_above_the_gap);
	tcase_add_test(tc, header_for_elf_kernel);
	tcase_add_test(tc, bzimage_header_is_copied);
	tcase_add_test(tc, ramdisk_fields);
	tcase_add_test(tc, cmdline_longer_than_kernel_accepts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(bootparams_suite());
}
