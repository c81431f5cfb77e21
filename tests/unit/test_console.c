/* Host terminals: the raw pty pair and the console socket's SCM_RIGHTS message. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"
#include "unit.h"

/* Receive one message with one fd, as an engine does; returns the fd. */
static int recv_fd(int sock, char *name, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { name, len - 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(sock, &mh, 0);
	ck_assert_int_gt(n, 0);
	name[n] = '\0';
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	ck_assert_ptr_nonnull(cm);
	ck_assert_int_eq(cm->cmsg_type, SCM_RIGHTS);
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

START_TEST(pty_is_raw_and_sized)
{
	struct console_pty p;
	struct husk_err e = { 0 };
	ck_assert_int_eq(console_pty_open(&p, 40, 120, &e), 0);
	ck_assert_msg(!strncmp(p.name, "/dev/pts/", 9), "%s", p.name);
	ck_assert(isatty(p.slave));
	struct termios t;
	ck_assert_int_eq(tcgetattr(p.slave, &t), 0);
	ck_assert(!(t.c_lflag & (ICANON | ECHO | ISIG)));
	ck_assert(!(t.c_oflag & OPOST));
	struct winsize ws;
	ck_assert_int_eq(ioctl(p.slave, TIOCGWINSZ, &ws), 0);
	ck_assert_uint_eq(ws.ws_row, 40);
	ck_assert_uint_eq(ws.ws_col, 120);
	/* raw: bytes pass unchanged, no echo, "\n" stays "\n" */
	ck_assert_int_eq(write(p.master, "a\rb\n", 4), 4);
	char buf[8] = "";
	ck_assert_int_eq(read(p.slave, buf, sizeof(buf)), 4);
	ck_assert_int_eq(memcmp(buf, "a\rb\n", 4), 0);
	ck_assert_int_eq(write(p.slave, "x\n", 2), 2);
	ck_assert_int_eq(read(p.master, buf, sizeof(buf)), 2);
	ck_assert_int_eq(memcmp(buf, "x\n", 2), 0);
	console_pty_close(&p);
	ck_assert_int_eq(p.master, -1);
	ck_assert_int_eq(p.slave, -1);
}
END_TEST

START_TEST(fd_goes_over_a_socketpair_with_its_name)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct console_pty p;
	struct husk_err e = { 0 };
	ck_assert_int_eq(console_pty_open(&p, 0, 0, &e), 0);
	ck_assert_int_eq(console_send_fd(sv[0], p.master, p.name, &e), 0);
	char name[128];
	int fd = recv_fd(sv[1], name, sizeof(name));
	ck_assert_str_eq(name, p.name);
	/* the same pty: what is written to the received master reaches the slave */
	struct stat a, b;
	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(fstat(p.master, &b), 0);
	ck_assert_uint_eq(a.st_rdev, b.st_rdev);
	ck_assert_int_eq(write(fd, "z", 1), 1);
	char c = 0;
	ck_assert_int_eq(read(p.slave, &c, 1), 1);
	ck_assert_int_eq(c, 'z');
	close(fd);
	console_pty_close(&p);
	/* a peer that went away: an error, not a signal */
	close(sv[1]);
	ck_assert_int_lt(console_send_fd(sv[0], 0, "x", &e), 0);
	close(sv[0]);
}
END_TEST

START_TEST(console_socket_errors)
{
	struct husk_err e = { 0 };
	ck_assert_int_eq(console_send("/nonexistent/console.sock", 0, "x", &e), -ENOENT);
	ck_assert_msg(strstr(e.msg, "/nonexistent/console.sock"), "%s", e.msg);
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(console_send(longp, 0, "x", &e), -ENAMETOOLONG);
	memset(&e, 0, sizeof(e));
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(console_send_fd(sv[0], 0, "", &e), -EINVAL);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("console");
	tcase_add_test(tc, pty_is_raw_and_sized);
	tcase_add_test(tc, fd_goes_over_a_socketpair_with_its_name);
	tcase_add_test(tc, console_socket_errors);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
