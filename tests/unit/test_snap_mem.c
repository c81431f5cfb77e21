/*
 * Guest RAM saved as a sparse file and loaded back (vmm/snapshot/snap_mem.c):
 * the same bytes come back, the file holds only the non-zero pages, a file
 * of another size is refused. Prints how long a save and a load took (not
 * asserted).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest_mem.h"
#include "snapshot/snap_mem.h"
#include "unit.h"

#define MiB  (1ULL << 20)
#define PAGE 4096ULL

static char dir[64];
static char path[96];

static void setup(void)
{
	strcpy(dir, "/tmp/husk-snapmem-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/memory", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Pages of the memfd that hold data (SEEK_DATA/SEEK_HOLE), in pages. */
static uint64_t data_pages(int fd, uint64_t size)
{
	uint64_t pages = 0;
	off_t off = 0;

	for (;;) {
		off_t d = lseek(fd, off, SEEK_DATA);
		if (d < 0)
			break;
		off_t h = lseek(fd, d, SEEK_HOLE);
		ck_assert_int_ge(h, d);
		pages += ((uint64_t)h - (uint64_t)d) / PAGE;
		off = h;
		if ((uint64_t)off >= size)
			break;
	}
	return pages;
}

/*
 * A guest that used a few places: the first page, a 1 MiB run, one byte at
 * the end of a page, the last page; and a page written and then zeroed again
 * (data in the memfd, nothing in the file).
 */
static void scribble(struct guest_mem *gm)
{
	memset(gm->base, 0xa5, PAGE);
	for (uint64_t i = 0; i < MiB; i++)
		gm->base[16 * MiB + i] = (uint8_t)(i * 13 + 1);
	gm->base[20 * MiB + PAGE - 1] = 1;
	memset(gm->base + gm->size - PAGE, 0x5a, PAGE);
	memset(gm->base + 30 * MiB, 0xff, 2 * PAGE);
	memset(gm->base + 30 * MiB, 0, 2 * PAGE);
}

#define WRITTEN_PAGES (1 + MiB / PAGE + 1 + 1)

START_TEST(round_trip_is_sparse)
{
	struct guest_mem gm, back;
	struct husk_err e = { 0 };
	struct stat st;

	ck_assert_int_eq(gm_init(&gm, 64 * MiB), 0);
	scribble(&gm);
	ck_assert_uint_eq(data_pages(gm.memfd, gm.size), WRITTEN_PAGES + 2);
	ck_assert_int_eq(snap_mem_save(&gm, path, &e), 0);

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, 64 * MiB);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	/* the non-zero pages and a little file system metadata, not 64 MiB */
	ck_assert_uint_ge((uint64_t)st.st_blocks * 512, WRITTEN_PAGES * PAGE);
	ck_assert_uint_le((uint64_t)st.st_blocks * 512, WRITTEN_PAGES * PAGE + 64 * 1024);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(lseek(fd, 30 * MiB, SEEK_DATA), (off_t)(gm.size - PAGE)); /* zeroed page */
	close(fd);

	ck_assert_int_eq(gm_init(&back, 64 * MiB), 0);
	ck_assert_int_eq(snap_mem_load(&back, path, &e), 0);
	/* what was a hole in the file is none of the new RAM's pages (checked before reading
	 * the mapping: a read of a memfd's hole through it allocates the page) */
	ck_assert_uint_eq(data_pages(back.memfd, back.size), WRITTEN_PAGES);
	ck_assert_int_eq(memcmp(back.base, gm.base, gm.size), 0);
	gm_destroy(&back);

	/* saving again replaces the file, and no temporary file is left */
	gm.base[40 * MiB] = 7;
	ck_assert_int_eq(snap_mem_save(&gm, path, &e), 0);
	ck_assert_int_eq(gm_init(&back, 64 * MiB), 0);
	ck_assert_int_eq(snap_mem_load(&back, path, &e), 0);
	ck_assert_int_eq(back.base[40 * MiB], 7);
	gm_destroy(&back);
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
	ck_assert_int_eq(access(tmp, F_OK), -1);
	gm_destroy(&gm);
}
END_TEST

START_TEST(untouched_ram_is_an_empty_file)
{
	struct guest_mem gm, back;
	struct husk_err e = { 0 };
	struct stat st;

	ck_assert_int_eq(gm_init(&gm, 64 * MiB), 0);
	ck_assert_int_eq(snap_mem_save(&gm, path, &e), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, 64 * MiB);
	ck_assert_uint_le((uint64_t)st.st_blocks * 512, 64 * 1024);
	ck_assert_int_eq(gm_init(&back, 64 * MiB), 0);
	ck_assert_int_eq(snap_mem_load(&back, path, &e), 0);
	ck_assert_uint_eq(data_pages(back.memfd, back.size), 0);
	gm_destroy(&back);
	gm_destroy(&gm);
}
END_TEST

START_TEST(wrong_size_is_refused)
{
	struct guest_mem gm, other;
	struct husk_err e = { 0 };

	ck_assert_int_eq(gm_init(&gm, 64 * MiB), 0);
	scribble(&gm);
	ck_assert_int_eq(snap_mem_save(&gm, path, &e), 0);
	ck_assert_int_eq(gm_init(&other, 128 * MiB), 0);
	ck_assert_int_eq(snap_mem_load(&other, path, &e), -EINVAL);
	char want[256];
	snprintf(want, sizeof(want),
		 "%s: guest RAM of 67108864 bytes, this VM has 134217728 (another RAM size, or a "
		 "damaged file)",
		 path);
	ck_assert_str_eq(e.msg, want);
	/* nothing was copied */
	ck_assert_uint_eq(data_pages(other.memfd, other.size), 0);
	gm_destroy(&other);

	/* a truncated file is another size too */
	ck_assert_int_eq(truncate(path, 64 * MiB - PAGE), 0);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(gm_init(&other, 64 * MiB), 0);
	ck_assert_int_eq(snap_mem_load(&other, path, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "guest RAM of 67104768 bytes"), "%s", e.msg);
	gm_destroy(&other);
	gm_destroy(&gm);
}
END_TEST

START_TEST(missing_file)
{
	struct guest_mem gm;
	struct husk_err e = { 0 };

	ck_assert_int_eq(gm_init(&gm, 64 * MiB), 0);
	ck_assert_int_eq(snap_mem_load(&gm, "/nonexistent/memory", &e), -ENOENT);
	ck_assert_str_eq(e.msg, "/nonexistent/memory: No such file or directory");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(snap_mem_save(&gm, "/nonexistent/memory", &e), -ENOENT);
	ck_assert_msg(strstr(e.msg, "cannot create /nonexistent/memory"), "%s", e.msg);
	gm_destroy(&gm);
}
END_TEST

/*
 * About 20 MB of non-zero data spread over RAM of two sizes: the times are
 * printed for the record (save includes the fsync), not asserted.
 */
static void timed(uint64_t ram)
{
	struct guest_mem gm, back;
	struct husk_err e = { 0 };
	struct stat st;

	ck_assert_int_eq(gm_init(&gm, ram), 0);
	/* 20 MiB: 4 MiB at the start (a kernel), the rest in 64 KiB pieces 1 MiB apart */
	for (uint64_t i = 0; i < 4 * MiB; i += 8)
		*(uint64_t *)(void *)(gm.base + i) = i * 0x9e3779b97f4a7c15ULL + 1;
	uint64_t stride = (ram - 8 * MiB) / 256;
	for (uint64_t k = 0; k < 256; k++)
		memset(gm.base + 8 * MiB + k * (stride & ~(PAGE - 1)), (int)(k | 1), 64 * 1024);
	/* and some pages the guest wrote and zeroed again */
	memset(gm.base + 6 * MiB, 0, 2 * MiB);

	double t0 = now_ms();
	ck_assert_int_eq(snap_mem_save(&gm, path, &e), 0);
	double t1 = now_ms();
	ck_assert_int_eq(gm_init(&back, ram), 0);
	double t2 = now_ms();
	ck_assert_int_eq(snap_mem_load(&back, path, &e), 0);
	double t3 = now_ms();
	ck_assert_int_eq(stat(path, &st), 0);
	printf("snap_mem %4llu MiB RAM, %llu MiB non-zero: save %.1f ms, load %.1f ms, file %llu "
	       "bytes, %llu on disk\n",
	       (unsigned long long)(ram / MiB), (unsigned long long)(20 * MiB / MiB), t1 - t0,
	       t3 - t2, (unsigned long long)st.st_size, (unsigned long long)st.st_blocks * 512);
	ck_assert_int_eq(memcmp(back.base, gm.base, ram), 0);
	gm_destroy(&back);
	gm_destroy(&gm);
}

START_TEST(timing)
{
	timed(128 * MiB);
	timed(1024 * MiB);
}
END_TEST

static Suite *snap_mem_suite(void)
{
	Suite *s = suite_create("snap_mem");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, round_trip_is_sparse);
	tcase_add_test(tc, untouched_ram_is_an_empty_file);
	tcase_add_test(tc, wrong_size_is_refused);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, timing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(snap_mem_suite());
}
