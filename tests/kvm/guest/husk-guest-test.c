/*
 * /init of the test initramfs: runs the scenario named by "husktest=" on
 * the kernel command line (the kernel hands unknown key=value words to init
 * as environment; several scenarios separated by commas run in order),
 * prints "husk-test: ..." lines on the console, and ends the VM with a
 * reset.
 *
 *   blk           mount /dev/vda (ext4), write hello.txt, sync, unmount
 *   vsock-echo    listen on vsock port 1234 and echo every connection
 *   vsock-connect connect to host port 5000, send husktest_bytes of pattern,
 *                 read them back and check them
 *   net           configure eth0 (10.0.2.15/24) by ioctl, report its MAC and
 *                 MTU, send a 3000-byte UDP datagram to 10.0.2.1:5555 once a
 *                 second until the same bytes come back (at most 120 tries),
 *                 then connect to 10.0.2.1:5556 over TCP and echo the stream
 *   vsock-bench   listen on vsock port 1235; per connection, a first byte
 *                 'S' (sink: read to EOF, answer the 8-byte count) or 'G'
 *                 (read an 8-byte count, send that many bytes, close)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(1, "husk-test: ", 11) < 0 || write(1, line, (size_t)n) < 0)
		return;
}

static void end_vm(void)
{
	sync();
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

static int test_blk(void)
{
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) < 0 && errno != EBUSY) {
		say("mount /dev: %s", strerror(errno));
		return 1;
	}
	mkdir("/mnt", 0755);
	if (mount("/dev/vda", "/mnt", "ext4", 0, NULL) < 0) {
		say("mount /dev/vda: %s", strerror(errno));
		return 1;
	}
	int fd = open("/mnt/hello.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	const char msg[] = "written by the guest\n";
	if (fd < 0 || write(fd, msg, sizeof(msg) - 1) != sizeof(msg) - 1 || fsync(fd) < 0) {
		say("write hello.txt: %s", strerror(errno));
		return 1;
	}
	close(fd);
	if (umount("/mnt") < 0) {
		say("umount: %s", strerror(errno));
		return 1;
	}
	say("blk ok");
	return 0;
}

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 13));
}

static void echo_conn(int fd)
{
	static char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w <= 0)
				_exit(1);
			off += w;
		}
	}
	_exit(0);
}

static int test_vsock_echo(void)
{
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);
	struct sockaddr_vm a = { .svm_family = AF_VSOCK,
				 .svm_cid = VMADDR_CID_ANY,
				 .svm_port = 1234 };
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 64) < 0) {
		say("vsock listen: %s", strerror(errno));
		return 1;
	}
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
	say("listening on vsock port 1234");
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		pid_t p = fork();
		if (p == 0)
			echo_conn(c);
		close(c);
	}
}

static int test_vsock_connect(void)
{
	const char *b = getenv("husktest_bytes");
	uint64_t total = b ? strtoull(b, NULL, 10) : (1u << 20);
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);
	struct sockaddr_vm a = { .svm_family = AF_VSOCK,
				 .svm_cid = VMADDR_CID_HOST,
				 .svm_port = 5000 };
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		say("vsock connect: %s", strerror(errno));
		return 1;
	}
	pid_t p = fork();
	if (p == 0) { /* the writer */
		static uint8_t buf[65536];
		for (uint64_t off = 0; off < total;) {
			size_t n = total - off < sizeof(buf) ? (size_t)(total - off) : sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = pattern(off + i);
			for (size_t done = 0; done < n;) {
				ssize_t w = write(s, buf + done, n - done);
				if (w <= 0)
					_exit(1);
				done += (size_t)w;
			}
			off += n;
		}
		shutdown(s, SHUT_WR);
		_exit(0);
	}
	static uint8_t rbuf[65536];
	uint64_t got = 0;
	for (;;) {
		ssize_t n = read(s, rbuf, sizeof(rbuf));
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (rbuf[i] != pattern(got + (uint64_t)i)) {
				say("vsock connect: byte %llu differs",
				    (unsigned long long)(got + i));
				return 1;
			}
		got += (uint64_t)n;
	}
	int st;
	waitpid(p, &st, 0);
	if (got != total || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		say("vsock connect: got %llu of %llu bytes back", (unsigned long long)got,
		    (unsigned long long)total);
		return 1;
	}
	say("vsock connect ok %llu bytes", (unsigned long long)total);
	return 0;
}

static void bench_conn(int fd)
{
	static char buf[65536];
	char cmd;
	uint64_t n = 0;
	if (read(fd, &cmd, 1) != 1)
		_exit(1);
	if (cmd == 'S') {
		ssize_t r;
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			n += (uint64_t)r;
		if (write(fd, &n, sizeof(n)) != sizeof(n))
			_exit(1);
	} else if (cmd == 'G') {
		for (size_t got = 0; got < sizeof(n);) {
			ssize_t r = read(fd, (char *)&n + got, sizeof(n) - got);
			if (r <= 0)
				_exit(1);
			got += (size_t)r;
		}
		memset(buf, 'x', sizeof(buf));
		while (n) {
			ssize_t w = write(fd, buf, n < sizeof(buf) ? n : sizeof(buf));
			if (w <= 0)
				_exit(1);
			n -= (uint64_t)w;
		}
	}
	_exit(0);
}

static int test_vsock_bench(void)
{
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);
	struct sockaddr_vm a = { .svm_family = AF_VSOCK,
				 .svm_cid = VMADDR_CID_ANY,
				 .svm_port = 1235 };
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 8) < 0) {
		say("vsock listen: %s", strerror(errno));
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);
	say("listening on vsock port 1235");
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		if (fork() == 0)
			bench_conn(c);
		close(c);
	}
}

static int net_ifreq(int s, unsigned long req, struct ifreq *ifr, const char *what)
{
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "eth0");
	if (ioctl(s, req, ifr) < 0) {
		say("net: %s: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

static int net_set_addr(int s, unsigned long req, const char *addr, const char *what)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	return net_ifreq(s, req, &ifr, what);
}

#define NET_BYTES 3000

/* Echo what the host sends on 10.0.2.1:5556 until it closes its side. */
static int net_tcp_echo(struct sockaddr_in *host)
{
	static uint8_t buf[65536];
	uint64_t total = 0;
	int t = socket(AF_INET, SOCK_STREAM, 0);
	host->sin_port = htons(5556);
	if (t < 0 || connect(t, (struct sockaddr *)host, sizeof(*host)) < 0) {
		say("net: tcp connect: %s", strerror(errno));
		return 1;
	}
	for (;;) {
		ssize_t n = read(t, buf, sizeof(buf));
		if (n < 0) {
			say("net: tcp read: %s", strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(t, buf + done, (size_t)(n - done));
			if (w <= 0) {
				say("net: tcp write: %s", strerror(errno));
				return 1;
			}
			done += w;
		}
		total += (uint64_t)n;
	}
	close(t);
	say("net tcp ok %llu bytes", (unsigned long long)total);
	return 0;
}

static int test_net(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = { 0 };
	if (s < 0) {
		say("net: socket: %s", strerror(errno));
		return 1;
	}
	if (net_ifreq(s, SIOCGIFHWADDR, &ifr, "SIOCGIFHWADDR") < 0)
		return 1;
	const uint8_t *m = (const uint8_t *)ifr.ifr_hwaddr.sa_data;
	char mac[18];
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	if (net_ifreq(s, SIOCGIFMTU, &ifr, "SIOCGIFMTU") < 0)
		return 1;
	int mtu = ifr.ifr_mtu;
	if (net_set_addr(s, SIOCSIFADDR, "10.0.2.15", "SIOCSIFADDR") < 0 ||
	    net_set_addr(s, SIOCSIFNETMASK, "255.255.255.0", "SIOCSIFNETMASK") < 0 ||
	    net_ifreq(s, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS") < 0)
		return 1;
	ifr.ifr_flags |= IFF_UP;
	if (net_ifreq(s, SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS") < 0)
		return 1;
	struct sockaddr_in host = { .sin_family = AF_INET, .sin_port = htons(5555) };
	inet_pton(AF_INET, "10.0.2.1", &host.sin_addr);
	static uint8_t out[NET_BYTES], in[NET_BYTES + 1];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = pattern(i);
	for (int tries = 0; tries < 120; tries++) {
		if (sendto(s, out, sizeof(out), 0, (struct sockaddr *)&host, sizeof(host)) < 0) {
			/* no neighbour yet, or the host end not up: try again */
			sleep(1);
			continue;
		}
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (poll(&p, 1, 1000) <= 0)
			continue;
		ssize_t n = recv(s, in, sizeof(in), 0);
		if (n == (ssize_t)sizeof(out) && !memcmp(in, out, sizeof(out))) {
			say("net ok mac %s mtu %d tries %d", mac, mtu, tries + 1);
			return net_tcp_echo(&host);
		}
		say("net: a reply of %zd bytes differs", n);
		return 1;
	}
	say("net: no reply from 10.0.2.1:5555");
	return 1;
}

static int run_one(const char *t)
{
	if (!strcmp(t, "blk"))
		return test_blk();
	if (!strcmp(t, "vsock-echo"))
		return test_vsock_echo();
	if (!strcmp(t, "vsock-connect"))
		return test_vsock_connect();
	if (!strcmp(t, "net"))
		return test_net();
	if (!strcmp(t, "vsock-bench"))
		return test_vsock_bench();
	say("unknown test %s", t);
	return 1;
}

int main(void)
{
	const char *list = getenv("husktest");
	char buf[256];
	int r = 1;

	if (!list) {
		say("no husktest= on the kernel command line");
	} else {
		snprintf(buf, sizeof(buf), "%s", list);
		r = 0;
		for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && !r;
		     t = strtok_r(NULL, ",", &save))
			r = run_one(t);
	}
	say("done status %d", r);
	end_vm();
}
