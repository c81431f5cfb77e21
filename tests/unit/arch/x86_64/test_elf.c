/*
 * ELF vmlinux loader: a small well-formed image, then one broken field at a
 * time. Images are handed to the loader in a heap buffer of exactly their
 * length, so that a sanitizer build catches reads past the end.
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/memmap.h"
#include "boot/boot_image.h"
#include "elf_image.h"
#include "guest_mem.h"
#include "unit.h"

#define RAM	  (64ULL << 20)
#define TEXT_OFF  0x1000
#define TEXT_SIZE 0x100
#define DATA_OFF  (TEXT_OFF + TEXT_SIZE)
#define DATA_SIZE 0x10
#define BSS_SIZE  0x1000
#define IMG_LEN	  (DATA_OFF + DATA_SIZE)
#define TEXT_GPA  MM_KERNEL_START
#define DATA_GPA  (MM_KERNEL_START + 0x2000)
#define ENTRY	  (TEXT_GPA + 0x40)

struct image {
	_Alignas(8) uint8_t b[IMG_LEN];
	size_t len;
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

static Elf64_Ehdr *ehdr(struct image *im)
{
	return (Elf64_Ehdr *)im->b;
}

static Elf64_Phdr *phdr(struct image *im, unsigned i)
{
	return elf_image_phdr(im->b, i);
}

/* Two PT_LOAD segments: text (R+X) at 16 MiB, data (RW) with a bss tail. */
static void make_image(struct image *im)
{
	memset(im, 0, sizeof(*im));
	im->len = IMG_LEN;
	elf_image_header(im->b, ENTRY, 2);

	*phdr(im, 0) = (Elf64_Phdr){ .p_type = PT_LOAD,
				     .p_flags = PF_R | PF_X,
				     .p_offset = TEXT_OFF,
				     .p_vaddr = 0xffffffff81000000ULL,
				     .p_paddr = TEXT_GPA,
				     .p_filesz = TEXT_SIZE,
				     .p_memsz = TEXT_SIZE,
				     .p_align = 0x1000 };
	*phdr(im, 1) = (Elf64_Phdr){ .p_type = PT_LOAD,
				     .p_flags = PF_R | PF_W,
				     .p_offset = DATA_OFF,
				     .p_vaddr = 0xffffffff81002000ULL,
				     .p_paddr = DATA_GPA,
				     .p_filesz = DATA_SIZE,
				     .p_memsz = DATA_SIZE + BSS_SIZE,
				     .p_align = 0x1000 };
	for (unsigned i = 0; i < TEXT_SIZE; i++)
		im->b[TEXT_OFF + i] = (uint8_t)(0x90 + i);
	for (unsigned i = 0; i < DATA_SIZE; i++)
		im->b[DATA_OFF + i] = (uint8_t)(0xd0 + i);
}

/* Load from an exact-size copy of the first len bytes. */
static int load_n(const struct image *im, size_t len, struct boot_image *out, int via_magic)
{
	uint8_t *copy = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, im->b, len);
	int r = via_magic ? arch_boot_load_kernel(&gm, copy, len, out) :
			    elf_load(&gm, copy, len, out);
	free(copy);
	return r;
}

static int load(const struct image *im, struct boot_image *out)
{
	return load_n(im, im->len, out, 0);
}

static void check_loaded(const struct boot_image *k)
{
	ck_assert_int_eq(k->kind, BOOT_ELF);
	ck_assert_uint_eq(k->entry, ENTRY);
	ck_assert_uint_eq(k->start, TEXT_GPA);
	ck_assert_uint_eq(k->end, DATA_GPA + DATA_SIZE + BSS_SIZE);
	ck_assert(!k->arch.has_hdr);
	ck_assert_uint_eq(k->initrd_end, 0); /* no limit of its own */

	const uint8_t *text = gm_gpa_to_hva(&gm, TEXT_GPA, TEXT_SIZE);
	const uint8_t *data = gm_gpa_to_hva(&gm, DATA_GPA, DATA_SIZE + BSS_SIZE);
	for (unsigned i = 0; i < TEXT_SIZE; i++)
		ck_assert_uint_eq(text[i], (uint8_t)(0x90 + i));
	for (unsigned i = 0; i < DATA_SIZE; i++)
		ck_assert_uint_eq(data[i], (uint8_t)(0xd0 + i));
	for (unsigned i = DATA_SIZE; i < DATA_SIZE + BSS_SIZE; i++)
		ck_assert_msg(data[i] == 0, "bss byte %u is %#x, not zero", i, data[i]);
}

START_TEST(good_image_loads)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	/* dirty the bss so that zeroing it is observable */
	memset(gm_gpa_to_hva(&gm, DATA_GPA, DATA_SIZE + BSS_SIZE), 0xaa, DATA_SIZE + BSS_SIZE);
	ck_assert_int_eq(load(&im, &k), 0);
	check_loaded(&k);
}
END_TEST

START_TEST(good_image_loads_via_magic)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	memset(gm_gpa_to_hva(&gm, DATA_GPA, DATA_SIZE + BSS_SIZE), 0x55, DATA_SIZE + BSS_SIZE);
	ck_assert_int_eq(load_n(&im, im.len, &k, 1), 0);
	check_loaded(&k);
}
END_TEST

START_TEST(non_load_segments_are_ignored)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	/* a PT_NOTE pointing anywhere, and an empty PT_LOAD, change nothing */
	phdr(&im, 1)->p_type = PT_NOTE;
	phdr(&im, 1)->p_offset = UINT64_MAX;
	phdr(&im, 1)->p_paddr = UINT64_MAX;
	ck_assert_int_eq(load(&im, &k), 0);
	ck_assert_uint_eq(k.end, TEXT_GPA + TEXT_SIZE);
	make_image(&im);
	phdr(&im, 1)->p_memsz = 0;
	phdr(&im, 1)->p_filesz = 0;
	phdr(&im, 1)->p_paddr = UINT64_MAX;
	ck_assert_int_eq(load(&im, &k), 0);
	ck_assert_uint_eq(k.end, TEXT_GPA + TEXT_SIZE);
}
END_TEST

START_TEST(truncated_header)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	ck_assert_int_eq(load_n(&im, sizeof(Elf64_Ehdr) - 1, &k, 0), -ENOEXEC);
	ck_assert_int_eq(load_n(&im, 16, &k, 0), -ENOEXEC);
	ck_assert_int_eq(load_n(&im, 0, &k, 0), -ENOEXEC);
	ck_assert_int_eq(load_n(&im, sizeof(Elf64_Ehdr) - 1, &k, 1), -ENOEXEC);
	ck_assert_int_eq(load_n(&im, 4, &k, 1), -ENOEXEC);
	ck_assert_int_eq(load_n(&im, 3, &k, 1), -ENOEXEC);
	/* header complete but the program headers cut off */
	ck_assert_int_eq(load_n(&im, sizeof(Elf64_Ehdr) + 8, &k, 0), -ENOEXEC);
	/* segment data cut off */
	ck_assert_int_eq(load_n(&im, IMG_LEN - 1, &k, 0), -ENOEXEC);
}
END_TEST

START_TEST(bad_identification)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	im.b[1] = 'X';
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	ehdr(&im)->e_ident[EI_CLASS] = ELFCLASS32;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	ck_assert_int_eq(load_n(&im, im.len, &k, 1), -ENOEXEC);
	make_image(&im);
	ehdr(&im)->e_ident[EI_DATA] = ELFDATA2MSB;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	ehdr(&im)->e_machine = EM_386;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	ehdr(&im)->e_machine = EM_AARCH64;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	ehdr(&im)->e_type = ET_REL;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
}
END_TEST

START_TEST(program_headers_outside_file)
{
	struct image im;
	struct boot_image k;
	static const uint64_t offs[] = { IMG_LEN,    IMG_LEN - 8,     IMG_LEN + 1,
					 UINT64_MAX, UINT64_MAX - 55, 1ULL << 63 };
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		make_image(&im);
		ehdr(&im)->e_phoff = offs[i];
		ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	}
	make_image(&im);
	ehdr(&im)->e_phnum = 0xffff;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	ehdr(&im)->e_phnum = 0;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	ehdr(&im)->e_phentsize = sizeof(Elf64_Phdr) - 8;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
}
END_TEST

START_TEST(segment_outside_file)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	phdr(&im, 0)->p_offset = IMG_LEN + 1;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	phdr(&im, 0)->p_offset = UINT64_MAX - 0x10;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	phdr(&im, 1)->p_offset = IMG_LEN - 4; /* 16 bytes from 4 before the end */
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	phdr(&im, 1)->p_filesz = UINT64_MAX;
	phdr(&im, 1)->p_memsz = UINT64_MAX;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
}
END_TEST

START_TEST(filesz_larger_than_memsz)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	phdr(&im, 0)->p_memsz = TEXT_SIZE - 1;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
}
END_TEST

START_TEST(segment_outside_guest_ram)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	phdr(&im, 1)->p_paddr = RAM - 0x10; /* straddles the end of RAM */
	ck_assert_int_eq(load(&im, &k), -ENOMEM);
	make_image(&im);
	phdr(&im, 1)->p_paddr = RAM;
	ck_assert_int_eq(load(&im, &k), -ENOMEM);
	make_image(&im);
	phdr(&im, 1)->p_paddr = MM_GAP_START;
	ck_assert_int_eq(load(&im, &k), -ENOMEM);
	make_image(&im);
	phdr(&im, 1)->p_memsz = RAM; /* bss far past the end */
	ck_assert_int_eq(load(&im, &k), -ENOMEM);
}
END_TEST

START_TEST(segment_address_wraps)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	phdr(&im, 1)->p_paddr = UINT64_MAX - 0x7;
	ck_assert_int_eq(load(&im, &k), -ENOMEM);
	make_image(&im);
	phdr(&im, 1)->p_paddr = 0x1000;
	phdr(&im, 1)->p_memsz = UINT64_MAX - 0x800; /* 0x1000 + memsz wraps */
	ck_assert_int_eq(load(&im, &k), -ENOMEM);
	make_image(&im);
	phdr(&im, 0)->p_paddr = UINT64_MAX - TEXT_SIZE + 1; /* ends exactly at 2^64 */
	ck_assert_int_eq(load(&im, &k), -ENOMEM);
}
END_TEST

START_TEST(entry_outside_executable_segment)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	ehdr(&im)->e_entry = DATA_GPA; /* loaded, but not executable */
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	ehdr(&im)->e_entry = TEXT_GPA + TEXT_SIZE; /* one past the text */
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	ehdr(&im)->e_entry = TEXT_GPA - 1;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	ehdr(&im)->e_entry = 0;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	ehdr(&im)->e_entry = 0xffffffff81000040ULL; /* virtual, not physical */
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	/* the last byte of the text is a valid entry */
	make_image(&im);
	ehdr(&im)->e_entry = TEXT_GPA + TEXT_SIZE - 1;
	ck_assert_int_eq(load(&im, &k), 0);
	ck_assert_uint_eq(k.entry, TEXT_GPA + TEXT_SIZE - 1);
}
END_TEST

START_TEST(no_loadable_segment)
{
	struct image im;
	struct boot_image k;
	make_image(&im);
	phdr(&im, 0)->p_type = PT_NOTE;
	phdr(&im, 1)->p_type = PT_DYNAMIC;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
	make_image(&im);
	phdr(&im, 0)->p_memsz = phdr(&im, 0)->p_filesz = 0;
	phdr(&im, 1)->p_memsz = phdr(&im, 1)->p_filesz = 0;
	ck_assert_int_eq(load(&im, &k), -ENOEXEC);
}
END_TEST

/* Every single header byte set to a few bad values: an error or a load, never a crash. */
START_TEST(corrupted_headers_do_not_crash)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
	struct image im;
	struct boot_image k;
	size_t hdrs = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
	for (size_t off = 0; off < hdrs; off++) {
		for (size_t v = 0; v < sizeof(vals); v++) {
			make_image(&im);
			im.b[off] = vals[v];
			int r = load(&im, &k);
			ck_assert_msg(r == 0 || r == -ENOEXEC || r == -ENOMEM,
				      "byte %zu = %#x: unexpected result %d", off, vals[v], r);
			if (r == 0)
				ck_assert_ptr_nonnull(gm_gpa_to_hva(&gm, k.start, k.end - k.start));
		}
	}
}
END_TEST

static Suite *elf_suite(void)
{
	Suite *s = suite_create("elf");
	TCase *tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, good_image_loads);
	tcase_add_test(tc, good_image_loads_via_magic);
	tcase_add_test(tc, non_load_segments_are_ignored);
	tcase_add_test(tc, truncated_header);
	tcase_add_test(tc, bad_identification);
	tcase_add_test(tc, program_headers_outside_file);
	tcase_add_test(tc, segment_outside_file);
	tcase_add_test(tc, filesz_larger_than_memsz);
	tcase_add_test(tc, segment_outside_guest_ram);
	tcase_add_test(tc, segment_address_wraps);
	tcase_add_test(tc, entry_outside_executable_segment);
	tcase_add_test(tc, no_loadable_segment);
	tcase_add_test(tc, corrupted_headers_do_not_crash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(elf_suite());
}
