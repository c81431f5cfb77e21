/*
 * The snapshot state file (vmm/snapshot/snap_file.c, common/snap_header.c):
 * what the writer writes reads back, and every kind of damage is refused
 * with a message that says which.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "husk/snapshot.h"
#include "snapshot/snap_file.h"
#include "unit.h"

#define BIG_LEN 1000

static char dir[64];
static char state[96];
static uint8_t big[BIG_LEN];

/* A snapshot with three sections: "vm" (5 bytes: padded), "empty", "dev.big". */
static void make_snapshot(void)
{
	struct snap_writer w;
	struct snap_header h = {
		.kernel_hash = 0x1122334455667788ULL,
		.initrd_hash = 2,
		.kernel_stat = 0x0102030405060708ULL,
		.initrd_stat = 6,
		.cmdline_hash = 3,
		.layout_hash = 4,
		.mem_bytes = 128ULL << 20,
		.key = 0xfeedULL,
		.vcpus = 2,
	};
	struct husk_err e = { 0 };

	strcpy(dir, "/tmp/husk-snap-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/" SNAP_STATE_FILE, dir);
	for (size_t i = 0; i < BIG_LEN; i++)
		big[i] = (uint8_t)(i * 7 + 1);
	strcpy(h.arch, "x86_64");
	strcpy(h.flavour, "kvm_pvm");
	strcpy(h.husk_version, "0.1.0");

	snap_writer_init(&w);
	ck_assert_int_eq(snap_put(&w, "vm", "hello", 5), 0);
	ck_assert_int_eq(snap_put(&w, "empty", NULL, 0), 0);
	ck_assert_int_eq(snap_put(&w, "dev.big", big, BIG_LEN), 0);
	ck_assert_int_eq(snap_writer_commit(&w, dir, &h, &e), 0);
	snap_writer_free(&w);
	ck_assert_uint_eq(h.section_count, 3);
	ck_assert_uint_eq(h.state_size, 256 + (40 + 8) + 40 + (40 + 1000));
	ck_assert_uint_ne(h.created, 0);
}

static void remove_snapshot(void)
{
	unlink(state);
	rmdir(dir);
}

static uint8_t *load(size_t *len)
{
	struct stat st;
	ck_assert_int_eq(stat(state, &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size + 64);
	FILE *f = fopen(state, "rb");
	ck_assert_ptr_nonnull(f);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	ck_assert_uint_eq(*len, (size_t)st.st_size);
	return buf;
}

static void store(const uint8_t *buf, size_t len)
{
	FILE *f = fopen(state, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

/* Damage that must not be caught by the CRCs alone: make them right again. */
static void fix_header_crc(uint8_t *buf)
{
	put32(buf + offsetof(struct snap_header, header_crc),
	      (uint32_t)crc32(0, buf, offsetof(struct snap_header, header_crc)));
}

static void fix_sections_crc(uint8_t *buf, size_t len)
{
	put32(buf + offsetof(struct snap_header, sections_crc),
	      (uint32_t)crc32(0, buf + SNAP_HEADER_SIZE, (uInt)(len - SNAP_HEADER_SIZE)));
	fix_header_crc(buf);
}

/* Opening must fail, with want in the message; snap_header_read too if hdr_want. */
static void expect_refused(const char *want, const char *hdr_want)
{
	struct snap_reader r;
	struct snap_header h;
	struct husk_err e = { 0 };

	int err = snap_reader_open(&r, dir, &e);
	ck_assert_int_lt(err, 0);
	ck_assert_int_eq(err, -e.code);
	ck_assert_msg(strstr(e.msg, want), "\"%s\" lacks \"%s\"", e.msg, want);
	ck_assert_msg(strncmp(e.msg, dir, strlen(dir)) == 0, "\"%s\" does not name the snapshot",
		      e.msg);
	ck_assert_ptr_null(r.buf);
	if (hdr_want) {
		struct husk_err he = { 0 };
		ck_assert_int_lt(snap_header_read(dir, &h, &he), 0);
		ck_assert_msg(strstr(he.msg, hdr_want), "\"%s\" lacks \"%s\"", he.msg, hdr_want);
	}
}

START_TEST(round_trip)
{
	struct snap_reader r;
	struct snap_header h;
	struct husk_err e = { 0 };
	size_t len = 99;
	struct stat st;

	make_snapshot();
	ck_assert_int_eq(snap_reader_open(&r, dir, &e), 0);
	ck_assert_int_eq(memcmp(r.h.magic, "HUSKSNAP", 8), 0);
	ck_assert_uint_eq(r.h.version, SNAP_VERSION);
	ck_assert_uint_eq(r.h.header_size, SNAP_HEADER_SIZE);
	ck_assert_str_eq(r.h.arch, "x86_64");
	ck_assert_str_eq(r.h.flavour, "kvm_pvm");
	ck_assert_str_eq(r.h.husk_version, "0.1.0");
	ck_assert_uint_eq(r.h.kernel_hash, 0x1122334455667788ULL);
	ck_assert_uint_eq(r.h.initrd_hash, 2);
	ck_assert_uint_eq(r.h.kernel_stat, 0x0102030405060708ULL);
	ck_assert_uint_eq(r.h.initrd_stat, 6);
	ck_assert_uint_eq(r.h.cmdline_hash, 3);
	ck_assert_uint_eq(r.h.layout_hash, 4);
	ck_assert_uint_eq(r.h.mem_bytes, 128ULL << 20);
	ck_assert_uint_eq(r.h.key, 0xfeed);
	ck_assert_uint_eq(r.h.vcpus, 2);
	ck_assert_uint_eq(r.h.section_count, 3);

	const char *vm = snap_get(&r, "vm", &len);
	ck_assert_ptr_nonnull(vm);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(memcmp(vm, "hello", 5), 0);
	ck_assert_ptr_nonnull(snap_get(&r, "empty", &len));
	ck_assert_uint_eq(len, 0);
	const uint8_t *b = snap_get(&r, "dev.big", &len);
	ck_assert_uint_eq(len, BIG_LEN);
	ck_assert_int_eq(memcmp(b, big, BIG_LEN), 0);
	len = 99;
	ck_assert_ptr_null(snap_get(&r, "vcpu.0", &len));
	ck_assert_uint_eq(len, 99);
	ck_assert_ptr_null(snap_get(&r, "", NULL));
	snap_reader_close(&r);

	/* husk's view of the same file */
	ck_assert_int_eq(snap_header_read(dir, &h, &e), 0);
	ck_assert_uint_eq(h.key, 0xfeed);
	ck_assert_uint_eq(h.state_size, 256 + 48 + 40 + 1040);

	/* only the state file, private, and no temporary file left behind */
	ck_assert_int_eq(stat(state, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	DIR *d = opendir(dir);
	struct dirent *de;
	int entries = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			entries++;
	closedir(d);
	ck_assert_int_eq(entries, 1);
	remove_snapshot();
}
END_TEST

START_TEST(commit_replaces_and_makes_the_directory)
{
	struct snap_writer w;
	struct snap_header h = { .vcpus = 1 };
	struct snap_reader r;
	struct husk_err e = { 0 };
	char sub[128];

	make_snapshot();
	snap_writer_init(&w);
	ck_assert_int_eq(snap_put(&w, "only", "x", 1), 0);
	ck_assert_int_eq(snap_writer_commit(&w, dir, &h, &e), 0);
	ck_assert_int_eq(snap_reader_open(&r, dir, &e), 0);
	ck_assert_uint_eq(r.h.section_count, 1);
	ck_assert_ptr_null(snap_get(&r, "vm", NULL));
	snap_reader_close(&r);

	snprintf(sub, sizeof(sub), "%s/new", dir);
	ck_assert_int_eq(snap_writer_commit(&w, sub, &h, &e), 0);
	ck_assert_int_eq(snap_reader_open(&r, sub, &e), 0);
	ck_assert_ptr_nonnull(snap_get(&r, "only", NULL));
	snap_reader_close(&r);
	snap_writer_free(&w);
	snprintf(sub, sizeof(sub), "%s/new/" SNAP_STATE_FILE, dir);
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/new", dir);
	rmdir(sub);
	remove_snapshot();
}
END_TEST

START_TEST(no_sections)
{
	struct snap_writer w;
	struct snap_header h = { 0 };
	struct snap_reader r;
	struct husk_err e = { 0 };

	strcpy(dir, "/tmp/husk-snap-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/" SNAP_STATE_FILE, dir);
	snap_writer_init(&w);
	ck_assert_int_eq(snap_writer_commit(&w, dir, &h, &e), 0);
	snap_writer_free(&w);
	ck_assert_int_eq(snap_reader_open(&r, dir, &e), 0);
	ck_assert_uint_eq(r.size, SNAP_HEADER_SIZE);
	ck_assert_ptr_null(snap_get(&r, "vm", NULL));
	snap_reader_close(&r);
	remove_snapshot();
}
END_TEST

START_TEST(missing_snapshot)
{
	struct snap_reader r;
	struct snap_header h;
	struct husk_err e = { 0 }, he = { 0 };

	ck_assert_int_eq(snap_reader_open(&r, "/nonexistent/husk-snap", &e), -ENOENT);
	ck_assert_str_eq(e.msg, "/nonexistent/husk-snap: not a husk snapshot (no state file)");
	ck_assert_int_eq(snap_header_read("/nonexistent/husk-snap", &h, &he), -ENOENT);
	ck_assert_str_eq(he.msg, e.msg);
}
END_TEST

START_TEST(truncated)
{
	static const size_t cuts[] = { 0, 4, 8, 100, 255, 256, 300, 1383 };
	size_t len;

	make_snapshot();
	uint8_t *buf = load(&len);
	ck_assert_uint_eq(len, 1384);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		store(buf, cuts[i]);
		expect_refused("truncated", "truncated");
	}
	free(buf);
	remove_snapshot();
}
END_TEST

START_TEST(trailing_bytes)
{
	size_t len;

	make_snapshot();
	uint8_t *buf = load(&len);
	memset(buf + len, 0, 8);
	store(buf, len + 8);
	expect_refused("trailing bytes", "trailing bytes");
	free(buf);
	remove_snapshot();
}
END_TEST

START_TEST(wrong_magic)
{
	size_t len;

	make_snapshot();
	uint8_t *buf = load(&len);
	buf[3] = 'x';
	store(buf, len);
	expect_refused("not a husk snapshot", "not a husk snapshot");
	/* a few bytes of something else */
	store((const uint8_t *)"#!/bin/sh\n", 10);
	expect_refused("not a husk snapshot", "not a husk snapshot");
	free(buf);
	remove_snapshot();
}
END_TEST

START_TEST(other_version)
{
	size_t len;
	struct husk_err e = { 0 };
	struct snap_reader r;

	make_snapshot();
	uint8_t *buf = load(&len);
	put32(buf + offsetof(struct snap_header, version), 2);
	fix_header_crc(buf);
	store(buf, len);
	expect_refused("format version 2, this husk reads 1",
		       "format version 2, this husk reads 1");
	ck_assert_int_eq(snap_reader_open(&r, dir, &e), -EINVAL);
	char want[160];
	snprintf(want, sizeof(want), "%s: format version 2, this husk reads 1", dir);
	ck_assert_str_eq(e.msg, want);

	/* a header of another size is no version 1 either */
	put32(buf + offsetof(struct snap_header, version), 1);
	put32(buf + offsetof(struct snap_header, header_size), 512);
	fix_header_crc(buf);
	store(buf, len);
	expect_refused("header of 512 bytes", "header of 512 bytes");
	free(buf);
	remove_snapshot();
}
END_TEST

START_TEST(header_crc_mismatch)
{
	size_t len;

	make_snapshot();
	uint8_t *buf = load(&len);
	buf[offsetof(struct snap_header, kernel_hash)] ^= 1;
	store(buf, len);
	expect_refused("header checksum mismatch", "header checksum mismatch");
	/* the reserved bytes are covered too */
	buf[offsetof(struct snap_header, kernel_hash)] ^= 1;
	buf[offsetof(struct snap_header, reserved) + 10] = 1;
	store(buf, len);
	expect_refused("header checksum mismatch", "header checksum mismatch");
	free(buf);
	remove_snapshot();
}
END_TEST

START_TEST(unterminated_header_string)
{
	size_t len;

	make_snapshot();
	uint8_t *buf = load(&len);
	memset(buf + offsetof(struct snap_header, flavour), 'k', 16);
	fix_header_crc(buf);
	store(buf, len);
	expect_refused("not terminated", "not terminated");
	free(buf);
	remove_snapshot();
}
END_TEST

/* Offsets of the three records in make_snapshot's file. */
#define REC_VM	  256
#define REC_EMPTY (256 + 48)
#define REC_BIG	  (256 + 48 + 40)

START_TEST(section_crc_mismatch)
{
	size_t len;

	make_snapshot();
	uint8_t *buf = load(&len);
	buf[REC_BIG + 40 + 500] ^= 0x80;
	store(buf, len);
	expect_refused("section dev.big: checksum mismatch", NULL);
	/* with the sections' CRC made right, the section's own still tells */
	fix_sections_crc(buf, len);
	store(buf, len);
	expect_refused("section dev.big: checksum mismatch", NULL);
	free(buf);
	remove_snapshot();
}
END_TEST

START_TEST(sections_crc_mismatch)
{
	size_t len;

	make_snapshot();
	uint8_t *buf = load(&len);
	buf[REC_VM + 40 + 6] = 0xff; /* padding after "hello": only the sections' CRC covers it */
	store(buf, len);
	expect_refused("sections checksum mismatch", NULL);
	free(buf);
	remove_snapshot();
}
END_TEST

START_TEST(section_runs_past_the_end)
{
	static const uint32_t lens[] = { 1001, 1008 + 1, 0x7fffffff, 0xffffffff };
	size_t len;

	make_snapshot();
	uint8_t *buf = load(&len);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		put32(buf + REC_BIG + 32, lens[i]);
		fix_sections_crc(buf, len);
		store(buf, len);
		expect_refused("section dev.big", NULL);
		expect_refused("run past the end", NULL);
	}
	/* the first section claims the whole rest of the file and more */
	put32(buf + REC_BIG + 32, BIG_LEN);
	put32(buf + REC_VM + 32, 4096);
	fix_sections_crc(buf, len);
	store(buf, len);
	expect_refused("section vm: 4096 bytes run past the end", NULL);
	free(buf);
	remove_snapshot();
}
END_TEST

START_TEST(section_count_wrong)
{
	size_t len;

	make_snapshot();
	uint8_t *buf = load(&len);
	put32(buf + offsetof(struct snap_header, section_count), 4);
	fix_header_crc(buf);
	store(buf, len);
	expect_refused("truncated (section 4 of 4 runs past the end)", NULL);
	put32(buf + offsetof(struct snap_header, section_count), 2);
	fix_header_crc(buf);
	store(buf, len);
	expect_refused("1040 bytes after the last section", NULL);
	put32(buf + offsetof(struct snap_header, section_count), 1000000);
	fix_header_crc(buf);
	store(buf, len);
	expect_refused("1000000 sections, the limit is 4096", "the limit is 4096");
	free(buf);
	remove_snapshot();
}
END_TEST

START_TEST(duplicate_names)
{
	size_t len;

	make_snapshot();
	uint8_t *buf = load(&len);
	memset(buf + REC_BIG, 0, 32);
	memcpy(buf + REC_BIG, "vm", 2);
	fix_sections_crc(buf, len);
	store(buf, len);
	expect_refused("section vm appears twice", NULL);
	free(buf);
	remove_snapshot();
}
END_TEST

START_TEST(corrupt_section_name)
{
	size_t len;

	make_snapshot();
	uint8_t *buf = load(&len);
	uint8_t *name = buf + REC_EMPTY;
	memset(name, 'a', 32); /* not terminated */
	fix_sections_crc(buf, len);
	store(buf, len);
	expect_refused("section 2 has a corrupt name", NULL);
	memset(name, 0, 32); /* empty */
	fix_sections_crc(buf, len);
	store(buf, len);
	expect_refused("section 2 has a corrupt name", NULL);
	memcpy(name, "a\nb", 3); /* not printable */
	fix_sections_crc(buf, len);
	store(buf, len);
	expect_refused("section 2 has a corrupt name", NULL);
	memcpy(name, "ab\0c", 4); /* bytes after the NUL */
	fix_sections_crc(buf, len);
	store(buf, len);
	expect_refused("section 2 has a corrupt name", NULL);
	free(buf);
	remove_snapshot();
}
END_TEST

START_TEST(too_large)
{
	make_snapshot();
	int fd = open(state, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)SNAP_STATE_MAX + 1), 0);
	close(fd);
	expect_refused("the limit is 67108864", "trailing bytes");
	remove_snapshot();
}
END_TEST

START_TEST(not_a_regular_file)
{
	struct snap_reader r;
	struct snap_header h;
	struct husk_err e = { 0 }, he = { 0 };

	make_snapshot();
	unlink(state);
	ck_assert_int_eq(mkfifo(state, 0600), 0); /* opened without waiting for a writer */
	ck_assert_int_eq(snap_reader_open(&r, dir, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "not a regular file"), "%s", e.msg);
	ck_assert_int_eq(snap_header_read(dir, &h, &he), -EINVAL);
	ck_assert_msg(strstr(he.msg, "not a regular file"), "%s", he.msg);
	remove_snapshot();
}
END_TEST

START_TEST(writer_refuses_bad_sections)
{
	struct snap_writer w;
	struct snap_header h = { 0 };
	struct husk_err e = { 0 };
	static const char name32[] = "0123456789abcdef0123456789abcdef";
	char d[] = "/tmp/husk-snap-XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(d));
	snap_writer_init(&w);
	ck_assert_int_eq(snap_put(&w, name32 + 1, "x", 1), 0); /* 31 characters: fits */
	ck_assert_int_eq(snap_put(&w, name32, "x", 1), -EINVAL);
	ck_assert_int_eq(snap_put(&w, "", "x", 1), -EINVAL);
	ck_assert_int_eq(snap_put(&w, "a b", "x", 1), -EINVAL);
	ck_assert_int_eq(snap_put(&w, "vm", "x", 1), 0);
	ck_assert_int_eq(snap_put(&w, "vm", "y", 1), -EINVAL);
	ck_assert_int_eq(snap_put(&w, "huge", big, SNAP_STATE_MAX), -EFBIG);
	/* the first failure is the one the commit reports, and nothing is written */
	ck_assert_int_eq(snap_writer_commit(&w, d, &h, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "too long"), "%s", e.msg);
	snap_writer_free(&w);

	snap_writer_init(&w);
	memset(h.arch, 'x', sizeof(h.arch));
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(snap_writer_commit(&w, d, &h, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "not terminated"), "%s", e.msg);
	snap_writer_free(&w);
	ck_assert_int_eq(rmdir(d), 0); /* empty: no state file, no temporary one */
}
END_TEST

START_TEST(hash)
{
	char path[] = "/tmp/husk-snap-hash-XXXXXX";
	struct husk_err e = { 0 };
	uint64_t h = 0;
	size_t n = (3U << 20) + 5; /* more than one read chunk, and a tail */
	uint8_t *buf = malloc(n);

	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 31 + (i >> 12));
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
	close(fd);
	ck_assert_int_eq(snap_hash_file(path, &h, &e), 0);
	ck_assert_uint_eq(h, snap_hash_bytes(buf, n));
	unlink(path);

	/* every byte and the length count */
	ck_assert_uint_ne(snap_hash_bytes(buf, n), snap_hash_bytes(buf, n - 1));
	buf[n - 1] ^= 1;
	ck_assert_uint_ne(h, snap_hash_bytes(buf, n));
	buf[n - 1] ^= 1;
	buf[12345] ^= 0x80;
	ck_assert_uint_ne(h, snap_hash_bytes(buf, n));
	ck_assert_uint_ne(snap_hash_bytes("", 0), snap_hash_bytes("\0", 1));
	ck_assert_uint_ne(snap_hash_bytes("console=hvc0 quiet", 18),
			  snap_hash_bytes("console=hvc0 quieT", 18));
	/* the documented function, pinned: FNV-1a 64 with its seed, over no bytes */
	uint64_t empty = 0xcbf29ce484222325ULL * 0x100000001b3ULL;
	ck_assert_uint_eq(snap_hash_bytes("", 0), empty ^ (empty >> 32));
	free(buf);

	ck_assert_int_eq(snap_hash_file("/nonexistent/vmlinux", &h, &e), -ENOENT);
	ck_assert_str_eq(e.msg, "/nonexistent/vmlinux: No such file or directory");
}
END_TEST

/* A file's identity: the same while it is left alone, another once it is written. */
START_TEST(hash_stat)
{
	char path[] = "/tmp/husk-snap-stat-XXXXXX";
	struct husk_err e = { 0 };
	uint64_t a = 0, b = 0;

	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(snap_hash_stat(path, &a, &e), 0);
	ck_assert_int_eq(snap_hash_stat(path, &b, &e), 0);
	ck_assert_uint_ne(a, 0);
	ck_assert_uint_eq(a, b);
	usleep(10000); /* a change time the file system tells apart */
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
	ck_assert_int_eq(snap_hash_stat(path, &b, &e), 0);
	ck_assert_uint_ne(a, b);
	unlink(path);
	ck_assert_int_eq(snap_hash_stat(path, &b, &e), -ENOENT);
}
END_TEST

static Suite *snap_file_suite(void)
{
	Suite *s = suite_create("snap_file");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, hash_stat);
	tcase_add_test(tc, commit_replaces_and_makes_the_directory);
	tcase_add_test(tc, no_sections);
	tcase_add_test(tc, missing_snapshot);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, trailing_bytes);
	tcase_add_test(tc, wrong_magic);
	tcase_add_test(tc, other_version);
	tcase_add_test(tc, header_crc_mismatch);
	tcase_add_test(tc, unterminated_header_string);
	tcase_add_test(tc, section_crc_mismatch);
	tcase_add_test(tc, sections_crc_mismatch);
	tcase_add_test(tc, section_runs_past_the_end);
	tcase_add_test(tc, section_count_wrong);
	tcase_add_test(tc, duplicate_names);
	tcase_add_test(tc, corrupt_section_name);
	tcase_add_test(tc, too_large);
	tcase_add_test(tc, not_a_regular_file);
	tcase_add_test(tc, writer_refuses_bad_sections);
	tcase_add_test(tc, hash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(snap_file_suite());
}
