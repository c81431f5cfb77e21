/*
 * gzip-compressed kernel and initramfs images: inflated on the host within
 * a bound, and a truncated, corrupt or oversized stream refused. The gzip
 * streams are made here with zlib.
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "arch/x86_64/memmap.h"
#include "boot/boot.h"
#include "boot/gunzip.h"
#include "config.h"
#include "elf_image.h"
#include "guest_mem.h"
#include "unit.h"

#define RAM (32ULL << 20)

/* gzip len bytes of src into a malloc'd buffer. */
static uint8_t *gz(const uint8_t *src, size_t len, size_t *out_len)
{
	z_stream zs = { 0 };
	ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	size_t cap = deflateBound(&zs, len) + 64;
	uint8_t *out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	zs.next_in = (Bytef *)src;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = cap - zs.avail_out;
	deflateEnd(&zs);
	return out;
}

static uint8_t *pattern(size_t len)
{
	uint8_t *p = malloc(len);
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 7) ^ (i >> 9));
	return p;
}

START_TEST(magic)
{
	static const uint8_t g[] = { 0x1f, 0x8b, 8 }, elf[] = { 0x7f, 'E', 'L', 'F' };
	ck_assert(gunzip_is_gzip(g, sizeof(g)));
	ck_assert(!gunzip_is_gzip(g, 1));
	ck_assert(!gunzip_is_gzip(elf, sizeof(elf)));
}
END_TEST

START_TEST(inflates_within_the_bound)
{
	size_t len = 3 << 20, zlen, olen;
	uint8_t *src = pattern(len), *z = gz(src, len, &zlen), *out;
	ck_assert_int_eq(gunzip_inflate(z, zlen, len, "test", &out, &olen), 0);
	ck_assert_uint_eq(olen, len);
	ck_assert_int_eq(memcmp(out, src, len), 0);
	free(out);
	/* one byte more than the bound: refused, nothing returned */
	ck_assert_int_eq(gunzip_inflate(z, zlen, len - 1, "test", &out, &olen), -EFBIG);
	ck_assert_ptr_null(out);
	free(z);
	free(src);
}
END_TEST

START_TEST(members_and_padding)
{
	size_t la = 1000, lb = 5000, za, zb, olen;
	uint8_t *a = pattern(la), *b = pattern(lb), *ga = gz(a, la, &za), *gb = gz(b, lb, &zb),
		*out;
	uint8_t *both = calloc(1, za + zb + 512); /* zero padding after the members */
	memcpy(both, ga, za);
	memcpy(both + za, gb, zb);
	ck_assert_int_eq(gunzip_inflate(both, za + zb + 512, 1 << 20, "test", &out, &olen), 0);
	ck_assert_uint_eq(olen, la + lb);
	ck_assert_int_eq(memcmp(out, a, la), 0);
	ck_assert_int_eq(memcmp(out + la, b, lb), 0);
	free(out);
	both[za + zb + 100] = 'x'; /* not padding: refused */
	ck_assert_int_eq(gunzip_inflate(both, za + zb + 512, 1 << 20, "test", &out, &olen),
			 -EINVAL);
	free(both), free(ga), free(gb), free(a), free(b);
}
END_TEST

START_TEST(truncated_and_corrupt_refused)
{
	size_t len = 200000, zlen, olen;
	uint8_t *src = pattern(len), *z = gz(src, len, &zlen), *out;
	/* cut in the middle of the data, and in the trailer */
	ck_assert_int_eq(gunzip_inflate(z, zlen / 2, len, "test", &out, &olen), -EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(gunzip_inflate(z, zlen - 3, len, "test", &out, &olen), -EINVAL);
	ck_assert_int_eq(gunzip_inflate(z, 2, len, "test", &out, &olen), -EINVAL);
	/* a wrong CRC in the trailer */
	z[zlen - 8] ^= 0xff;
	ck_assert_int_eq(gunzip_inflate(z, zlen, len, "test", &out, &olen), -EINVAL);
	z[zlen - 8] ^= 0xff;
	/* a bad header: not deflate */
	z[2] = 7;
	ck_assert_int_eq(gunzip_inflate(z, zlen, len, "test", &out, &olen), -EINVAL);
	ck_assert_ptr_null(out);
	free(z);
	free(src);
}
END_TEST

/* --- through boot_load: files on disk, as husk-vmm is given them ------------ */

static char dir[] = "/tmp/husk-gunzip-XXXXXX";

static void write_file(const char *name, const void *p, size_t len, char *path)
{
	snprintf(path, 256, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	fclose(f);
}

/* A one-segment ELF vmlinux whose text at MM_KERNEL_START is a pattern. */
#define TEXT_OFF  0x1000
#define TEXT_SIZE 0x3000
static uint8_t *elf_image(size_t *len)
{
	*len = TEXT_OFF + TEXT_SIZE;
	uint8_t *b = calloc(1, *len);
	ck_assert_ptr_nonnull(b);
	elf_image_header(b, MM_KERNEL_START, 1);
	*elf_image_phdr(b, 0) = (Elf64_Phdr){ .p_type = PT_LOAD,
					      .p_flags = PF_R | PF_X,
					      .p_offset = TEXT_OFF,
					      .p_paddr = MM_KERNEL_START,
					      .p_vaddr = 0xffffffff81000000ULL,
					      .p_filesz = TEXT_SIZE,
					      .p_memsz = TEXT_SIZE,
					      .p_align = 0x1000 };
	for (unsigned i = 0; i < TEXT_SIZE; i++)
		b[TEXT_OFF + i] = (uint8_t)(i * 13 + 1);
	return b;
}

START_TEST(boot_loads_gzipped_kernel_and_initrd)
{
	struct guest_mem gm;
	struct boot_loaded ld;
	char kpath[256], ipath[256];
	size_t klen, kz, ilen = 1 << 20, iz;
	uint8_t *k = elf_image(&klen), *kgz = gz(k, klen, &kz);
	uint8_t *ird = pattern(ilen), *igz = gz(ird, ilen, &iz);
	struct vmm_config cfg = { .kernel = kpath, .initrd = ipath };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file("vmlinux.gz", kgz, kz, kpath);
	write_file("initrd.gz", igz, iz, ipath);
	ck_assert_int_eq(gm_init(&gm, RAM), 0);
	ck_assert_int_eq(boot_load(&gm, &cfg, &ld), 0);
	ck_assert_uint_eq(ld.kernel.entry, MM_KERNEL_START);
	ck_assert_int_eq(
		memcmp(gm_gpa_to_hva(&gm, MM_KERNEL_START, TEXT_SIZE), k + TEXT_OFF, TEXT_SIZE), 0);
	ck_assert_uint_eq(ld.initrd_size, ilen);
	ck_assert_int_eq(memcmp(gm_gpa_to_hva(&gm, ld.initrd_gpa, ilen), ird, ilen), 0);

	/* an initramfs that inflates beyond the RAM above the kernel: refused */
	size_t big = RAM, bz;
	uint8_t *zeros = calloc(1, big), *bgz = gz(zeros, big, &bz);
	write_file("big.gz", bgz, bz, ipath);
	ck_assert_int_eq(boot_load(&gm, &cfg, &ld), -EFBIG);
	/* and a truncated one */
	write_file("cut.gz", igz, iz / 2, ipath);
	ck_assert_int_eq(boot_load(&gm, &cfg, &ld), -EINVAL);

	gm_destroy(&gm);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(zeros), free(bgz), free(k), free(kgz), free(ird), free(igz);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gunzip");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30); /* maps guest RAM, as test_elf */
	tcase_add_test(tc, magic);
	tcase_add_test(tc, inflates_within_the_bound);
	tcase_add_test(tc, members_and_padding);
	tcase_add_test(tc, truncated_and_corrupt_refused);
	tcase_add_test(tc, boot_loads_gzipped_kernel_and_initrd);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
