/* The host's stdio relays: bytes through, the end passed on, a gone reader drained, cancel. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "husk/deadline.h"
#include "relay.h"
#include "unit.h"

static size_t read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	while (got < len && (n = read(fd, buf + got, len - got)) > 0)
		got += (size_t)n;
	return got;
}

START_TEST(deadlines_carry_into_seconds)
{
	for (int ms = 0; ms <= 2999; ms += 333) {
		struct timespec now, d = deadline_after_ms(ms);
		clock_gettime(CLOCK_REALTIME, &now);
		ck_assert_int_ge(d.tv_nsec, 0);
		ck_assert_int_lt(d.tv_nsec, 1000000000L);
		long long ahead = ((long long)d.tv_sec - now.tv_sec) * 1000000000LL +
				  (d.tv_nsec - now.tv_nsec);
		/* ms ahead, less the little time since it was taken */
		ck_assert_int_le(ahead, (long long)ms * 1000000LL);
		ck_assert_int_gt(ahead, (long long)ms * 1000000LL - 100000000LL);
	}
	struct timespec now, d = deadline_after_ms(-5);
	clock_gettime(CLOCK_REALTIME, &now);
	ck_assert_int_le(d.tv_sec, now.tv_sec); /* a negative wait is none */
}
END_TEST

START_TEST(bytes_and_their_end_reach_a_stream)
{
	int in[2], sv[2];
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct relay_pipe p;
	ck_assert_int_eq(relay_pipe_start(&p, in[0], sv[0], -1, true), 0);
	ck_assert_int_eq(write(in[1], "hello ", 6), 6);
	ck_assert_int_eq(write(in[1], "world", 5), 5);
	close(in[1]);
	char buf[64];
	/* EOF after the last byte: the relay shut its side down for writing */
	ck_assert_uint_eq(read_all(sv[1], buf, sizeof(buf)), 11);
	ck_assert_int_eq(memcmp(buf, "hello world", 11), 0);
	relay_pipe_join(&p, 1000);
	ck_assert(!p.running);
	close(in[0]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(a_gone_reader_is_drained)
{
	int in[2], out[2];
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	close(out[0]); /* nobody reads: writes fail with EPIPE */
	struct relay_pipe p;
	ck_assert_int_eq(relay_pipe_start(&p, in[0], out[1], -1, false), 0);
	/* more than a pipe holds: the writer would stall if the relay stopped reading */
	static char big[1 << 20];
	memset(big, 'x', sizeof(big));
	size_t off = 0;
	while (off < sizeof(big)) {
		ssize_t n = write(in[1], big + off, sizeof(big) - off);
		ck_assert_int_gt(n, 0);
		off += (size_t)n;
	}
	close(in[1]);
	relay_pipe_join(&p, 5000);
	close(in[0]);
	close(out[1]);
}
END_TEST

START_TEST(cancel_and_timeout_end_it)
{
	int sv[2], to[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pipe(to), 0);
	int efd = eventfd(0, EFD_CLOEXEC);
	ck_assert_int_ge(efd, 0);
	struct relay_pipe p;
	ck_assert_int_eq(relay_pipe_start(&p, sv[0], to[1], efd, false), 0);
	uint64_t one = 1;
	ck_assert_int_eq(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	relay_pipe_join(&p, 5000);
	ck_assert(!p.running);
	/* an input that never ends: join gives it the time asked, then cuts it */
	ck_assert_int_eq(relay_pipe_start(&p, sv[0], to[1], -1, false), 0);
	relay_pipe_join(&p, 100);
	ck_assert(!p.running);
	close(efd);
	close(sv[0]);
	close(sv[1]);
	close(to[0]);
	close(to[1]);
}
END_TEST

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* as husk exec and husk-vmm's writers see it */
	Suite *s = suite_create("relay");
	TCase *tc = tcase_create("relay");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, deadlines_carry_into_seconds);
	tcase_add_test(tc, bytes_and_their_end_reach_a_stream);
	tcase_add_test(tc, a_gone_reader_is_drained);
	tcase_add_test(tc, cancel_and_timeout_end_it);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
