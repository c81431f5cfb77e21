/* Paths that fit where they go or are refused with a message naming them: never cut short. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "husk/cleanup.h"
#include "husk/path.h"
#include "unit.h"

START_TEST(fits_exactly)
{
	char buf[16];
	struct husk_err e = { 0 };
	ck_assert_int_eq(path_fmt(&e, buf, sizeof(buf), "%s/%s", "/run/husk", "c1"), 0);
	ck_assert_str_eq(buf, "/run/husk/c1");
	/* 15 bytes and the NUL: the last one that fits */
	ck_assert_int_eq(path_fmt(&e, buf, sizeof(buf), "%s/%s", "/run/husk", "c1234"), 0);
	ck_assert_str_eq(buf, "/run/husk/c1234");
	ck_assert_int_eq(e.code, 0);
	ck_assert_str_eq(e.msg, "");
}
END_TEST

START_TEST(one_byte_more_is_refused)
{
	char buf[16];
	struct husk_err e = { 0 };
	ck_assert_int_eq(path_fmt(&e, buf, sizeof(buf), "%s/%s", "/run/husk", "c12345"),
			 -ENAMETOOLONG);
	ck_assert_str_eq(buf, ""); /* nothing half-made to use by mistake */
	ck_assert_int_eq(e.code, ENAMETOOLONG);
	ck_assert_str_eq(e.msg, "/run/husk/c12345: a path of 16 bytes, longer than the 15 allowed "
				"here");
	/* without an error to fill: only the result */
	ck_assert_int_eq(path_fmt(NULL, buf, sizeof(buf), "%s", "/0123456789abcdef"),
			 -ENAMETOOLONG);
	ck_assert_int_eq(path_fmt(NULL, buf, 0, "%s", ""), -ENAMETOOLONG);
}
END_TEST

/* A very long path is named by its two ends: where it starts and the file it is for. */
START_TEST(long_path_named_by_its_ends)
{
	char *dir = malloc(PATH_MAX + 1);
	ck_assert_ptr_nonnull(dir);
	dir[0] = '/';
	memset(dir + 1, 'd', PATH_MAX - 1);
	dir[PATH_MAX] = '\0';
	char buf[PATH_MAX];
	struct husk_err e = { 0 };
	ck_assert_int_eq(path_fmt(&e, buf, sizeof(buf), "%s/state.json", dir), -ENAMETOOLONG);
	ck_assert_int_eq(e.code, ENAMETOOLONG);
	ck_assert_msg(strncmp(e.msg, "/ddd", 4) == 0, "%s", e.msg);
	ck_assert_msg(strstr(e.msg, "dd...dd"), "%s", e.msg);
	ck_assert_msg(strstr(e.msg, "d/state.json: a path of 4107 bytes, longer than the 4095 "
				    "allowed here"),
		      "%s", e.msg);
	ck_assert_uint_lt(strlen(e.msg), 250); /* whole, not cut by the message's own limit */
	free(dir);
}
END_TEST

/* The first error is the most specific: a later refusal does not replace it. */
START_TEST(first_error_wins)
{
	char buf[4];
	struct husk_err e = { 0 };
	husk_err_set(&e, ENOENT, "bundle: no such file");
	ck_assert_int_eq(path_fmt(&e, buf, sizeof(buf), "%s", "/long"), -ENAMETOOLONG);
	ck_assert_int_eq(e.code, ENOENT);
	ck_assert_str_eq(e.msg, "bundle: no such file");
}
END_TEST

START_TEST(alloc_has_no_limit)
{
	char *big = malloc(3 * PATH_MAX);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 3 * PATH_MAX - 1);
	big[3 * PATH_MAX - 1] = '\0';
	cleanup_free char *p = path_alloc("/tmp/%s/%s", big, "v.sock");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(strlen(p), 5 + 3 * PATH_MAX - 1 + 7);
	ck_assert_int_eq(strncmp(p, "/tmp/xxx", 8), 0);
	ck_assert_str_eq(p + strlen(p) - 7, "/v.sock");
	free(big);
}
END_TEST

/* cleanup_free frees at the end of the scope (ASan reports a leak otherwise); NULL is fine. */
START_TEST(cleanup_frees)
{
	for (int i = 0; i < 3; i++) {
		cleanup_free char *p = path_alloc("%s/%d", "/run/husk", i);
		cleanup_free char *none = NULL;
		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_null(none);
	}
}
END_TEST

/* cleanup_close and cleanup_fclose close at the end of the scope; -1 and NULL are left alone. */
START_TEST(cleanup_closes)
{
	int seen, seen_f;
	{
		cleanup_close int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		cleanup_close int none = -1;
		cleanup_fclose FILE *f = fopen("/dev/null", "r");
		cleanup_fclose FILE *no_f = NULL;
		ck_assert_int_ge(fd, 0);
		ck_assert_ptr_nonnull(f);
		seen = fd;
		seen_f = fileno(f);
		(void)none, (void)no_f;
	}
	ck_assert_int_eq(fcntl(seen, F_GETFD), -1);
	ck_assert_int_eq(fcntl(seen_f, F_GETFD), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, fits_exactly);
	tcase_add_test(tc, one_byte_more_is_refused);
	tcase_add_test(tc, long_path_named_by_its_ends);
	tcase_add_test(tc, first_error_wins);
	tcase_add_test(tc, alloc_has_no_limit);
	tcase_add_test(tc, cleanup_frees);
	tcase_add_test(tc, cleanup_closes);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
