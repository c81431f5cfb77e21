/* Unix sockets at paths longer than sun_path: bound, connected, refused only when the name itself cannot fit. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "husk/uds.h"
#include "unit.h"

static char top[] = "/tmp/husk-uds-XXXXXX";
static char dir[256], path[300];

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(top));
	/* like an engine's state root with a 64-hex container id under it */
	snprintf(dir, sizeof(dir), "%s/runtime-runc", top);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/runtime-runc/moby", top);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	size_t n = strlen(dir);
	dir[n++] = '/';
	memset(dir + n, 'f', 64);
	dir[n + 64] = '\0';
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/control.sock", dir);
	ck_assert_uint_gt(strlen(path), sizeof(((struct sockaddr_un *)0)->sun_path));
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
	char p[300];
	snprintf(p, sizeof(p), "%s/runtime-runc/moby", top);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/runtime-runc", top);
	rmdir(p);
	rmdir(top);
	memcpy(top, "/tmp/husk-uds-XXXXXX", sizeof(top));
}

START_TEST(long_path_binds_and_connects)
{
	int before = count_fds();
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(uds_bind(l, path), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0); /* the socket is at the path itself */
	ck_assert(S_ISSOCK(st.st_mode));

	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(uds_connect(c, path), 0);
	int a = accept(l, NULL, NULL);
	ck_assert_int_ge(a, 0);
	ck_assert_int_eq(write(c, "x", 1), 1);
	char b = 0;
	ck_assert_int_eq(read(a, &b, 1), 1);
	ck_assert_int_eq(b, 'x');
	close(a);
	close(c);
	close(l);
	ck_assert_int_eq(count_fds(), before); /* the directory descriptor is closed */
}
END_TEST

START_TEST(short_path_as_it_is)
{
	char p[64];
	snprintf(p, sizeof(p), "%s/s.sock", top);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(uds_bind(l, p), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(uds_connect(c, p), 0);
	close(c);
	close(l);
	unlink(p);
}
END_TEST

START_TEST(missing_socket_is_enoent)
{
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(uds_connect(c, path), -ENOENT); /* callers retry on this one */
	close(c);
	char nodir[400];
	snprintf(nodir, sizeof(nodir), "%s/gone/control.sock", dir);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(uds_connect(c, nodir), -ENOENT);
	close(c);
}
END_TEST

START_TEST(name_too_long_is_refused)
{
	char p[400];
	int n = snprintf(p, sizeof(p), "%s/", dir);
	memset(p + n, 'n', 120);
	p[n + 120] = '\0';
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(uds_bind(c, p), -ENAMETOOLONG);
	ck_assert_int_eq(uds_connect(c, p), -ENAMETOOLONG);
	memset(p, 'n', 120); /* no directory part at all */
	p[120] = '\0';
	ck_assert_int_eq(uds_connect(c, p), -ENAMETOOLONG);
	close(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("uds");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, long_path_binds_and_connects);
	tcase_add_test(tc, short_path_as_it_is);
	tcase_add_test(tc, missing_socket_is_enoent);
	tcase_add_test(tc, name_too_long_is_refused);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
