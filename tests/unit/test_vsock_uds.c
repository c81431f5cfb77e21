/* The VM's vsock socket: stale sockets are replaced, anything else is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/vsock.h"
#include "event_loop.h"
#include "unit.h"

static char dir[] = "/tmp/husk-uds-XXXXXX";
static char path[64];
static struct event_loop el;
static struct vsock *v;

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.sock", dir);
	ck_assert_int_eq(el_init(&el), 0);
	v = malloc(sizeof(*v));
	ck_assert_ptr_nonnull(v);
}

static void teardown(void)
{
	free(v);
	el_destroy(&el);
	unlink(path);
	rmdir(dir);
	memcpy(dir, "/tmp/husk-uds-XXXXXX", sizeof(dir));
}

static int listener(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, p, strlen(p) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	return fd;
}

START_TEST(fresh_path_listens_and_is_removed)
{
	struct stat st;
	ck_assert_int_eq(vsock_init(v, &(struct vsock_config){ .uds_path = path, .cid = 3 }, &el),
			 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	vsock_destroy(v);
	ck_assert_int_eq(stat(path, &st), -1);
}
END_TEST

START_TEST(stale_socket_is_replaced)
{
	close(listener(path)); /* bound, then nobody listens: stale */
	ck_assert_int_eq(vsock_init(v, &(struct vsock_config){ .uds_path = path, .cid = 3 }, &el),
			 0);
	vsock_destroy(v);
}
END_TEST

START_TEST(live_socket_is_refused)
{
	int fd = listener(path);
	ck_assert_int_eq(vsock_init(v, &(struct vsock_config){ .uds_path = path, .cid = 3 }, &el),
			 -EADDRINUSE);
	vsock_destroy(v);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0); /* the other VM's socket is still there */
	close(fd);
}
END_TEST

START_TEST(regular_file_is_refused_and_kept)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(vsock_init(v, &(struct vsock_config){ .uds_path = path, .cid = 3 }, &el),
			 -EEXIST);
	vsock_destroy(v);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
}
END_TEST

START_TEST(long_path_listens_and_is_removed)
{
	char sub[256], lpath[300];
	int n = snprintf(sub, sizeof(sub), "%s/", dir);
	memset(sub + n, 'f', 100); /* the path is longer than sun_path */
	sub[n + 100] = '\0';
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(lpath, sizeof(lpath), "%s/vsock.sock", sub);
	ck_assert_int_eq(vsock_init(v, &(struct vsock_config){ .uds_path = lpath, .cid = 3 }, &el),
			 0);
	struct stat st;
	ck_assert_int_eq(stat(lpath, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	vsock_destroy(v);
	ck_assert_int_eq(stat(lpath, &st), -1);
	rmdir(sub);
}
END_TEST

START_TEST(bad_cid_is_refused)
{
	ck_assert_int_eq(vsock_init(v, &(struct vsock_config){ .uds_path = path, .cid = 2 }, &el),
			 -EINVAL);
	vsock_destroy(v);
	ck_assert_int_eq(
		vsock_init(v, &(struct vsock_config){ .uds_path = path, .cid = 1ULL << 32 }, &el),
		-EINVAL);
	vsock_destroy(v);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vsock_uds");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fresh_path_listens_and_is_removed);
	tcase_add_test(tc, stale_socket_is_replaced);
	tcase_add_test(tc, live_socket_is_refused);
	tcase_add_test(tc, regular_file_is_refused_and_kept);
	tcase_add_test(tc, long_path_listens_and_is_removed);
	tcase_add_test(tc, bad_cid_is_refused);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
