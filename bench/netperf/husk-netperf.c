/*
 * husk-netperf: TCP throughput and round-trip latency between two ends, for
 * bench/net. A static binary: the same program is the server in a container
 * and the client on the host.
 *
 *   husk-netperf server PORT              serve clients one at a time, for ever
 *   husk-netperf send ADDR PORT SECONDS   stream to the server for SECONDS
 *   husk-netperf recv ADDR PORT SECONDS   the server streams to us for SECONDS
 *   husk-netperf ping ADDR PORT ROUNDS    1-byte request, 1-byte answer, ROUNDS times
 *
 * The client prints one line of key=value pairs (bytes, seconds, mib_s; or
 * rounds, median_us, min_us, max_us) and exits 0, or says what went wrong
 * on stderr and exits 1. ADDR is a numeric IPv4 address.
 *
 * Every connection begins with a 16-byte request: "HNP1", the mode ('S'
 * send, 'R' recv, 'P' ping, 'C' count), three zero bytes, the parameter as
 * a big-endian uint32, four zero bytes. The stream's byte at offset o is o
 * mod 251, which the receiver checks as it goes. After 'S' the client shuts
 * its writing side and the server answers how many bytes it got and the
 * offset of the first wrong byte (UINT64_MAX for none), as two big-endian
 * uint64s; after 'R' the server shuts its writing side when the time is up,
 * and a following 'C' connection answers how many bytes that 'R' sent, so
 * the client compares both counts. Anything else from a client ends its
 * connection; a client silent for 60 s too. SIGTERM ends the server.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NP_CHUNK       (128 * 1024)
#define NP_PERIOD      251
#define NP_REQ_LEN     16
#define NP_IDLE_SEC    60
#define NP_CONNECT_SEC 120
#define NP_MAX_SECONDS 3600
#define NP_MAX_ROUNDS  1000000
#define NP_NO_BAD      UINT64_MAX

static unsigned char np_pattern[NP_CHUNK + NP_PERIOD];

static void np_pattern_init(void)
{
	for (size_t i = 0; i < sizeof(np_pattern); i++)
		np_pattern[i] = (unsigned char)(i % NP_PERIOD);
}

static double np_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int np_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes: 0, -EPIPE at an early end of stream, or -errno. */
static int np_read_all(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void np_put64(unsigned char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static uint64_t np_get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return be64toh(v);
}

static void np_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = NP_IDLE_SEC };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void np_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * Reads the stream to its end, checking each byte against the pattern.
 * *count gets the bytes read, *bad the offset of the first wrong one.
 */
static int np_drain(int fd, uint64_t *count, uint64_t *bad)
{
	static unsigned char buf[NP_CHUNK];
	*count = 0;
	*bad = NP_NO_BAD;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (*bad == NP_NO_BAD &&
		    memcmp(buf, np_pattern + *count % NP_PERIOD, (size_t)n) != 0) {
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i] != np_pattern[(*count + (uint64_t)i) % NP_PERIOD]) {
					*bad = *count + (uint64_t)i;
					break;
				}
			}
		}
		*count += (uint64_t)n;
	}
}

/*
 * Streams the pattern for the given seconds; *count gets the bytes sent. The
 * socket's buffer is waited for with poll() and written without blocking, so
 * the stream stops at the deadline however slow the other end.
 */
static int np_stream(int fd, unsigned seconds, uint64_t *count)
{
	double end = np_now() + seconds, now;
	*count = 0;
	while ((now = np_now()) < end) {
		ssize_t n = send(fd, np_pattern + *count % NP_PERIOD, NP_CHUNK,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			*count += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EAGAIN)
			return n == 0 ? -EPIPE : -errno;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, (int)((end - now) * 1000) + 1) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/* ---- server ---------------------------------------------------------- */

static uint64_t np_last_sent; /* by the last 'R', answered by 'C' */

static void np_serve_one(int fd)
{
	unsigned char req[NP_REQ_LEN], ans[16];
	uint64_t count, bad;
	if (np_read_all(fd, req, sizeof(req)) < 0 || memcmp(req, "HNP1", 4) != 0)
		return;
	uint32_t param;
	memcpy(&param, req + 8, 4);
	param = ntohl(param);
	switch (req[4]) {
	case 'S':
		if (np_drain(fd, &count, &bad) < 0)
			return;
		np_put64(ans, count);
		np_put64(ans + 8, bad);
		np_write_all(fd, ans, 16);
		return;
	case 'R':
		if (param < 1 || param > NP_MAX_SECONDS)
			return;
		np_last_sent = 0;
		if (np_stream(fd, param, &count) < 0)
			return;
		np_last_sent = count;
		shutdown(fd, SHUT_WR);
		/* wait for the client's end, so that close() sends no reset */
		np_drain(fd, &count, &bad);
		return;
	case 'P':
		if (param < 1 || param > NP_MAX_ROUNDS)
			return;
		np_nodelay(fd);
		for (uint32_t i = 0; i < param; i++) {
			unsigned char b;
			if (np_read_all(fd, &b, 1) < 0 || np_write_all(fd, &b, 1) < 0)
				return;
		}
		return;
	case 'C':
		np_put64(ans, np_last_sent);
		np_write_all(fd, ans, 8);
		return;
	default: return;
	}
}

/* As PID 1 of a container the server would not die of SIGTERM without a handler. */
static void np_on_term(int sig)
{
	_exit(0);
}

static int np_server(unsigned port)
{
	signal(SIGTERM, np_on_term);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0) {
		perror("husk-netperf: socket");
		return 1;
	}
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 8) < 0) {
		fprintf(stderr, "husk-netperf: port %u: %s\n", port, strerror(errno));
		return 1;
	}
	fprintf(stderr, "husk-netperf: listening on port %u\n", port);
	for (;;) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("husk-netperf: accept");
			return 1;
		}
		np_timeouts(fd);
		np_serve_one(fd);
		close(fd);
	}
}

/* ---- client ---------------------------------------------------------- */

/* Connects, retrying while the server is not there yet, and sends the request. */
static int np_connect(const struct sockaddr_in *sa, char mode, uint32_t param)
{
	double end = np_now() + NP_CONNECT_SEC;
	int err;
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			perror("husk-netperf: socket");
			return -1;
		}
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
			unsigned char req[NP_REQ_LEN] = { 'H', 'N', 'P', '1', (unsigned char)mode };
			uint32_t be = htonl(param);
			memcpy(req + 8, &be, 4);
			np_timeouts(fd);
			int r = np_write_all(fd, req, sizeof(req));
			if (r == 0)
				return fd;
			err = -r;
		} else {
			err = errno;
		}
		close(fd);
		bool again = err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH ||
			     err == ETIMEDOUT || err == EINTR;
		if (!again || np_now() >= end) {
			fprintf(stderr, "husk-netperf: connect to %s:%u: %s\n",
				inet_ntoa(sa->sin_addr), ntohs(sa->sin_port), strerror(err));
			return -1;
		}
		usleep(200 * 1000);
	}
}

static void np_print_rate(const char *mode, uint64_t bytes, double secs)
{
	printf("%s bytes=%" PRIu64 " seconds=%.6f mib_s=%.6f\n", mode, bytes, secs,
	       secs > 0 ? (double)bytes / secs / (1024.0 * 1024.0) : 0.0);
}

static int np_send(const struct sockaddr_in *sa, unsigned seconds)
{
	int fd = np_connect(sa, 'S', seconds);
	if (fd < 0)
		return 1;
	uint64_t sent;
	unsigned char ans[16];
	double t0 = np_now();
	int r = np_stream(fd, seconds, &sent);
	if (r == 0 && shutdown(fd, SHUT_WR) < 0)
		r = -errno;
	if (r == 0)
		r = np_read_all(fd, ans, sizeof(ans));
	double t1 = np_now();
	close(fd);
	if (r < 0) {
		fprintf(stderr, "husk-netperf: send: %s\n", strerror(-r));
		return 1;
	}
	uint64_t got = np_get64(ans), bad = np_get64(ans + 8);
	if (got != sent || bad != NP_NO_BAD) {
		fprintf(stderr,
			"husk-netperf: send: sent %" PRIu64 " bytes, the server got %" PRIu64
			", first wrong byte at %" PRIu64 " (%" PRIu64 " is none)\n",
			sent, got, bad, NP_NO_BAD);
		return 1;
	}
	np_print_rate("send", sent, t1 - t0);
	return 0;
}

static int np_recv(const struct sockaddr_in *sa, unsigned seconds)
{
	int fd = np_connect(sa, 'R', seconds);
	if (fd < 0)
		return 1;
	uint64_t got, bad;
	double t0 = np_now();
	int r = np_drain(fd, &got, &bad);
	double t1 = np_now();
	close(fd);
	if (r < 0) {
		fprintf(stderr, "husk-netperf: recv: %s\n", strerror(-r));
		return 1;
	}
	unsigned char ans[8];
	fd = np_connect(sa, 'C', 0);
	if (fd < 0)
		return 1;
	r = np_read_all(fd, ans, sizeof(ans));
	close(fd);
	if (r < 0) {
		fprintf(stderr, "husk-netperf: recv: the server's count: %s\n", strerror(-r));
		return 1;
	}
	uint64_t sent = np_get64(ans);
	if (got != sent || bad != NP_NO_BAD) {
		fprintf(stderr,
			"husk-netperf: recv: the server sent %" PRIu64 " bytes, got %" PRIu64
			", first wrong byte at %" PRIu64 " (%" PRIu64 " is none)\n",
			sent, got, bad, NP_NO_BAD);
		return 1;
	}
	np_print_rate("recv", got, t1 - t0);
	return 0;
}

static int np_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int np_ping(const struct sockaddr_in *sa, unsigned rounds)
{
	double *rtt = calloc(rounds, sizeof(*rtt));
	if (!rtt) {
		fprintf(stderr, "husk-netperf: ping: out of memory\n");
		return 1;
	}
	int fd = np_connect(sa, 'P', rounds);
	if (fd < 0) {
		free(rtt);
		return 1;
	}
	np_nodelay(fd);
	int r = 0;
	for (unsigned i = 0; i < rounds && r == 0; i++) {
		unsigned char b = (unsigned char)i, back;
		double t0 = np_now();
		r = np_write_all(fd, &b, 1);
		if (r == 0)
			r = np_read_all(fd, &back, 1);
		rtt[i] = np_now() - t0;
		if (r == 0 && back != b)
			r = -EBADMSG;
	}
	close(fd);
	if (r < 0) {
		fprintf(stderr, "husk-netperf: ping: %s\n", strerror(-r));
		free(rtt);
		return 1;
	}
	qsort(rtt, rounds, sizeof(*rtt), np_cmp_double);
	double med = rounds % 2 ? rtt[rounds / 2] : (rtt[rounds / 2 - 1] + rtt[rounds / 2]) / 2;
	printf("ping rounds=%u median_us=%.1f min_us=%.1f max_us=%.1f\n", rounds, med * 1e6,
	       rtt[0] * 1e6, rtt[rounds - 1] * 1e6);
	free(rtt);
	return 0;
}

/* ---- main ------------------------------------------------------------ */

static bool np_number(const char *s, unsigned long min, unsigned long max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static int np_usage(void)
{
	fprintf(stderr, "usage: husk-netperf server PORT\n"
			"       husk-netperf send|recv ADDR PORT SECONDS\n"
			"       husk-netperf ping ADDR PORT ROUNDS\n");
	return 1;
}

int main(int argc, char **argv)
{
	unsigned port, n;
	signal(SIGPIPE, SIG_IGN);
	np_pattern_init();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "server") == 0) {
		if (!np_number(argv[2], 1, 65535, &port))
			return np_usage();
		return np_server(port);
	}
	if (argc != 5)
		return np_usage();
	struct sockaddr_in sa = { .sin_family = AF_INET };
	if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1 || !np_number(argv[3], 1, 65535, &port))
		return np_usage();
	sa.sin_port = htons((uint16_t)port);
	if (strcmp(argv[1], "send") == 0 && np_number(argv[4], 1, NP_MAX_SECONDS, &n))
		return np_send(&sa, n);
	if (strcmp(argv[1], "recv") == 0 && np_number(argv[4], 1, NP_MAX_SECONDS, &n))
		return np_recv(&sa, n);
	if (strcmp(argv[1], "ping") == 0 && np_number(argv[4], 1, NP_MAX_ROUNDS, &n))
		return np_ping(&sa, n);
	return np_usage();
}
