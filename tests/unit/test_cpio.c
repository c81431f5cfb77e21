/* The newc cpio writer, read back with a small independent parser. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cpio.h"
#include "unit.h"

#define HDR_LEN 110

struct entry {
	uint32_t f
		[13]; /* ino mode uid gid nlink mtime filesize devmaj devmin rdevmaj rdevmin namesize check */
	const char *name;
	const uint8_t *data;
	size_t hdr_off;
};
enum {
	INO,
	MODE,
	UID,
	GID,
	NLINK,
	MTIME,
	FILESIZE,
	DEVMAJ,
	DEVMIN,
	RDEVMAJ,
	RDEVMIN,
	NAMESIZE,
	CHECK
};

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static uint32_t hex8(const uint8_t *p)
{
	char tmp[9];
	memcpy(tmp, p, 8);
	tmp[8] = '\0';
	for (int i = 0; i < 8; i++)
		ck_assert_msg(strchr("0123456789ABCDEFabcdef", tmp[i]) && tmp[i],
			      "bad hex field '%s'", tmp);
	return (uint32_t)strtoul(tmp, NULL, 16);
}

/* Split an archive into entries; checks magic, alignment, padding and the trailer. */
static size_t parse(const uint8_t *a, size_t len, struct entry *out, size_t max)
{
	size_t off = 0, n = 0;
	for (;;) {
		ck_assert_uint_lt(n, max);
		ck_assert_msg(off % 4 == 0, "header at %zu not 4-byte aligned", off);
		ck_assert_uint_le(off + HDR_LEN, len);
		ck_assert_mem_eq(a + off, "070701", 6);
		struct entry *e = &out[n++];
		e->hdr_off = off;
		for (int i = 0; i < 13; i++)
			e->f[i] = hex8(a + off + 6 + 8 * i);
		size_t ns = e->f[NAMESIZE];
		ck_assert_uint_ge(ns, 2);
		ck_assert_uint_le(off + HDR_LEN + ns, len);
		e->name = (const char *)a + off + HDR_LEN;
		ck_assert_uint_eq(e->name[ns - 1], '\0');
		ck_assert_uint_eq(strlen(e->name), ns - 1);
		size_t doff = align4(off + HDR_LEN + ns);
		for (size_t i = off + HDR_LEN + ns; i < doff; i++)
			ck_assert_uint_eq(a[i], 0);
		ck_assert_uint_le(doff + e->f[FILESIZE], len);
		e->data = a + doff;
		size_t next = align4(doff + e->f[FILESIZE]);
		for (size_t i = doff + e->f[FILESIZE]; i < next; i++)
			ck_assert_uint_eq(a[i], 0);
		off = next;
		if (!strcmp(e->name, "TRAILER!!!"))
			break;
	}
	ck_assert_uint_eq(off, len); /* nothing after the trailer */
	return n;
}

static uint8_t *slurp(FILE *f, size_t *len)
{
	long end = ftell(f);
	ck_assert_int_ge(end, 0);
	uint8_t *buf = malloc((size_t)end + 1);
	ck_assert_ptr_nonnull(buf);
	rewind(f);
	ck_assert_uint_eq(fread(buf, 1, (size_t)end, f), (size_t)end);
	*len = (size_t)end;
	return buf;
}

static const char script[] = "#!/bin/sh\necho hello\n"; /* 21 bytes: needs padding */

START_TEST(archive_round_trip)
{
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	struct cpio_writer w;
	cpio_init(&w, f);
	ck_assert_int_eq(cpio_add(&w, "dev", S_IFDIR | 0755, 0, 0, NULL, 0), 0);
	ck_assert_int_eq(cpio_add(&w, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0), 0);
	ck_assert_int_eq(cpio_add(&w, "init", S_IFREG | 0755, 0, 0, script, strlen(script)), 0);
	ck_assert_int_eq(cpio_add(&w, "a", S_IFREG | 0644, 0, 0, "xyzw", 4), 0);
	ck_assert_int_eq(cpio_finish(&w), 0);

	size_t len;
	uint8_t *a = slurp(f, &len);
	ck_assert_uint_eq(w.offset, len);
	ck_assert_uint_eq(len % 4, 0);
	struct entry e[8];
	size_t n = parse(a, len, e, 8);
	ck_assert_uint_eq(n, 5);

	ck_assert_str_eq(e[0].name, "dev");
	ck_assert_uint_eq(e[0].f[MODE], S_IFDIR | 0755);
	ck_assert_uint_eq(e[0].f[NLINK], 2);
	ck_assert_uint_eq(e[0].f[FILESIZE], 0);

	ck_assert_str_eq(e[1].name, "dev/console");
	ck_assert_uint_eq(e[1].f[MODE], S_IFCHR | 0600);
	ck_assert_uint_eq(e[1].f[RDEVMAJ], 5);
	ck_assert_uint_eq(e[1].f[RDEVMIN], 1);
	ck_assert_uint_eq(e[1].f[NLINK], 1);
	ck_assert_uint_eq(e[1].f[FILESIZE], 0);

	ck_assert_str_eq(e[2].name, "init");
	ck_assert_uint_eq(e[2].f[MODE], S_IFREG | 0755);
	ck_assert_uint_eq(e[2].f[FILESIZE], strlen(script));
	ck_assert_mem_eq(e[2].data, script, strlen(script));
	ck_assert_uint_eq(e[2].f[RDEVMAJ] | e[2].f[RDEVMIN], 0);

	ck_assert_str_eq(e[3].name, "a");
	ck_assert_mem_eq(e[3].data, "xyzw", 4);

	ck_assert_str_eq(e[4].name, "TRAILER!!!");
	ck_assert_uint_eq(e[4].f[FILESIZE], 0);
	ck_assert_uint_eq(e[4].f[MODE], 0);

	/* owned by root, no checksum, distinct non-zero inodes */
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(e[i].f[UID] | e[i].f[GID] | e[i].f[CHECK], 0);
		ck_assert_uint_ne(e[i].f[INO], 0);
		for (size_t j = 0; j < i; j++)
			ck_assert_uint_ne(e[i].f[INO], e[j].f[INO]);
	}
	free(a);
	fclose(f);
}
END_TEST

START_TEST(every_name_and_size_alignment)
{
	/* names of 1..8 bytes and files of 0..8 bytes: every padding case */
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	struct cpio_writer w;
	cpio_init(&w, f);
	char name[16];
	static const char bytes[] = "0123456789";
	for (int nl = 1; nl <= 8; nl++)
		for (int sz = 0; sz <= 8; sz++) {
			memset(name, 'a' + sz, (size_t)nl);
			name[nl] = '\0';
			ck_assert_int_eq(
				cpio_add(&w, name, S_IFREG | 0644, 0, 0, bytes, (size_t)sz), 0);
		}
	ck_assert_int_eq(cpio_finish(&w), 0);
	size_t len;
	uint8_t *a = slurp(f, &len);
	struct entry *e = calloc(100, sizeof(*e));
	ck_assert_uint_eq(parse(a, len, e, 100), 8 * 9 + 1);
	for (int i = 0; i < 72; i++) {
		ck_assert_uint_eq(strlen(e[i].name), (size_t)(i / 9 + 1));
		ck_assert_uint_eq(e[i].f[FILESIZE], (uint32_t)(i % 9));
		ck_assert_mem_eq(e[i].data, bytes, i % 9);
	}
	free(e);
	free(a);
	fclose(f);
}
END_TEST

START_TEST(empty_archive_is_just_the_trailer)
{
	FILE *f = tmpfile();
	struct cpio_writer w;
	cpio_init(&w, f);
	ck_assert_int_eq(cpio_finish(&w), 0);
	size_t len;
	uint8_t *a = slurp(f, &len);
	struct entry e[2];
	ck_assert_uint_eq(parse(a, len, e, 2), 1);
	ck_assert_str_eq(e[0].name, "TRAILER!!!");
	free(a);
	fclose(f);
}
END_TEST

START_TEST(bad_entries_are_refused)
{
	FILE *f = tmpfile();
	struct cpio_writer w;
	cpio_init(&w, f);
	ck_assert_int_eq(cpio_add(&w, "", S_IFREG | 0644, 0, 0, "x", 1), -EINVAL);
	ck_assert_int_eq(ftell(f), 0);
	ck_assert_uint_eq(w.offset, 0);
	/* more than a newc size field can say; the data is never read */
	ck_assert_int_eq(cpio_add(&w, "big", S_IFREG | 0644, 0, 0, "x", (size_t)UINT32_MAX + 1),
			 -EINVAL);
	ck_assert_int_eq(ftell(f), 0);
	fclose(f);
}
END_TEST

START_TEST(write_error_is_eio)
{
	FILE *f = fopen("/dev/null", "r");
	ck_assert_ptr_nonnull(f);
	struct cpio_writer w;
	cpio_init(&w, f);
	ck_assert_int_eq(cpio_add(&w, "init", S_IFREG | 0755, 0, 0, "x", 1), -EIO);
	fclose(f);
}
END_TEST

static Suite *cpio_suite(void)
{
	Suite *s = suite_create("cpio");
	TCase *tc = tcase_create("newc");
	tcase_add_test(tc, archive_round_trip);
	tcase_add_test(tc, every_name_and_size_alignment);
	tcase_add_test(tc, empty_archive_is_just_the_trailer);
	tcase_add_test(tc, bad_entries_are_refused);
	tcase_add_test(tc, write_error_is_eio);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(cpio_suite());
}
