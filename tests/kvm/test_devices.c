/*
 * KVM tests of the virtio devices, in one boot of the test guest
 * (tests/kvm/guest): it mounts an ext4 image from virtio-blk and writes a
 * file; connects over vsock to a host listener, sends patterned data and
 * checks the echo; then serves an echo listener on vsock port 1234 for the
 * host's tests: 64 MiB through one connection, 16 connections at once, a
 * reader that pauses for seconds, bad handshakes. Where the test may make
 * a network namespace (as root), it runs in a fresh one with a virtio-net
 * device on tap husktap0 (made by husk-vmm): the test brings the tap up as
 * 10.0.2.1/24, echoes the guest's UDP datagrams, and sends 8 MiB over TCP
 * that the guest echoes (large segments both ways with the TSO offloads,
 * so mergeable receive buffers too). Skipped (77) only where /dev/kvm does not exist.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm_run.h"

#define BIG_BYTES    (64u << 20)
#define GUEST_BYTES  (64u << 20)
#define BOOT_TIMEOUT 300

#define NET_TAP	      "husktap0"
#define NET_BYTES     3000
#define NET_TCP_BYTES (8u << 20)

static char dir[] = "/tmp/husk-dev-XXXXXX";
static bool with_net; /* this process is in a network namespace of its own */
static char uds[80], uds5000[90], disk[80];

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 13));
}

static int uds_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect %s: %s", path,
		      strerror(errno));
	return fd;
}

/* Read one line (up to '\n') byte by byte, so that no stream byte is taken. */
static void read_line(int fd, char *line, size_t max)
{
	size_t n = 0;
	while (n + 1 < max) {
		ssize_t r = read(fd, line + n, 1);
		if (r <= 0)
			break;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
}

/* CONNECT to the guest's port; the reply line is returned in reply. */
static int vsock_connect(uint32_t port, char *reply, size_t max)
{
	char req[32];
	int fd = uds_connect(uds);
	int n = snprintf(req, sizeof(req), "CONNECT %u\n", port);
	ck_assert_int_eq(write(fd, req, (size_t)n), n);
	read_line(fd, reply, max);
	return fd;
}

struct writer {
	int fd;
	uint64_t bytes;
	int ok;
};

static void *write_pattern(void *arg)
{
	struct writer *w = arg;
	static __thread uint8_t buf[65536];
	w->ok = 1;
	for (uint64_t off = 0; off < w->bytes;) {
		size_t n = w->bytes - off < sizeof(buf) ? (size_t)(w->bytes - off) : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(off + i);
		for (size_t done = 0; done < n;) {
			ssize_t r = write(w->fd, buf + done, n - done);
			if (r <= 0) {
				w->ok = 0;
				return NULL;
			}
			done += (size_t)r;
		}
		off += n;
	}
	return NULL;
}

/* Bytes read back that match the pattern, stopping at the first mismatch or EOF. */
static uint64_t read_pattern(int fd, uint64_t bytes, unsigned pause_s)
{
	static __thread uint8_t buf[65536];
	uint64_t got = 0;
	if (pause_s)
		sleep(pause_s);
	while (got < bytes) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pattern(got + (uint64_t)i))
				return got + (uint64_t)i;
		got += (uint64_t)r;
	}
	return got;
}

/* Echo `bytes` through the guest's port 1234 and check every byte. */
static void echo_through_guest(uint64_t bytes, unsigned pause_s)
{
	char reply[64];
	int fd = vsock_connect(1234, reply, sizeof(reply));
	ck_assert_msg(strncmp(reply, "OK ", 3) == 0, "handshake reply '%s'", reply);
	struct writer w = { .fd = fd, .bytes = bytes };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, write_pattern, &w), 0);
	uint64_t got = read_pattern(fd, bytes, pause_s);
	pthread_join(t, NULL);
	ck_assert_int_eq(w.ok, 1);
	ck_assert_msg(got == bytes, "%llu of %llu bytes came back intact", (unsigned long long)got,
		      (unsigned long long)bytes);
	close(fd);
}

/* The host end of the guest's connect(VMADDR_CID_HOST, 5000): echo until EOF. */
static void *host_listener(void *arg)
{
	int lfd = *(int *)arg;
	int c = accept(lfd, NULL, NULL);
	static uint8_t buf[65536];
	if (c < 0)
		return NULL;
	for (;;) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(c, buf + off, (size_t)(n - off));
			if (w <= 0)
				goto out;
			off += w;
		}
	}
	shutdown(c, SHUT_WR);
out:
	close(c);
	return NULL;
}

struct net_host {
	volatile int stop;
	int echoed;	   /* datagrams that came in whole and went back */
	int bad;	   /* datagrams that did not match */
	uint64_t tcp_back; /* bytes of the TCP stream that came back intact */
	char error[128];   /* why the host end could not be set up */
};

static int net_ifreq(int s, unsigned long req, struct ifreq *ifr)
{
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", NET_TAP);
	return ioctl(s, req, ifr);
}

/* Set the host end up once husk-vmm has made the tap, then echo UDP on 10.0.2.1:5555. */
static void *net_host_run(void *arg)
{
	struct net_host *h = arg;
	time_t end = time(NULL) + BOOT_TIMEOUT;
	while (!if_nametoindex(NET_TAP) && time(NULL) < end && !h->stop)
		usleep(20000);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, "10.0.2.1", &sin->sin_addr);
	if (s < 0 || net_ifreq(s, SIOCSIFADDR, &ifr) < 0) {
		snprintf(h->error, sizeof(h->error), "address on %s: %s", NET_TAP, strerror(errno));
		return NULL;
	}
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	if (net_ifreq(s, SIOCSIFNETMASK, &ifr) < 0 || net_ifreq(s, SIOCGIFFLAGS, &ifr) < 0) {
		snprintf(h->error, sizeof(h->error), "netmask on %s: %s", NET_TAP, strerror(errno));
		return NULL;
	}
	ifr.ifr_flags |= IFF_UP;
	if (net_ifreq(s, SIOCSIFFLAGS, &ifr) < 0) {
		snprintf(h->error, sizeof(h->error), "%s up: %s", NET_TAP, strerror(errno));
		return NULL;
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5555) };
	inet_pton(AF_INET, "10.0.2.1", &a.sin_addr);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		snprintf(h->error, sizeof(h->error), "bind 10.0.2.1:5555: %s", strerror(errno));
		return NULL;
	}
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	a.sin_port = htons(5556);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0) {
		snprintf(h->error, sizeof(h->error), "listen 10.0.2.1:5556: %s", strerror(errno));
		return NULL;
	}
	static uint8_t buf[NET_BYTES + 1];
	while (!h->stop) {
		struct pollfd p[2] = { { .fd = s, .events = POLLIN },
				       { .fd = l, .events = POLLIN } };
		if (poll(p, 2, 200) <= 0)
			continue;
		if (p[1].revents) {
			/* the guest's TCP echo: 8 MiB out, checked as it comes back */
			int c = accept(l, NULL, NULL);
			struct timeval stall = { .tv_sec = 300 }; /* a guest that stopped */
			if (c >= 0 &&
			    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &stall, sizeof(stall)) == 0 &&
			    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &stall, sizeof(stall)) == 0) {
				struct writer w = { .fd = c, .bytes = NET_TCP_BYTES };
				pthread_t wt;
				if (pthread_create(&wt, NULL, write_pattern, &w) == 0) {
					h->tcp_back = read_pattern(c, NET_TCP_BYTES, 0);
					pthread_join(wt, NULL);
				}
			}
			if (c >= 0)
				close(c);
		}
		if (!p[0].revents)
			continue;
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		bool ok = n == NET_BYTES;
		for (ssize_t i = 0; ok && i < n; i++)
			ok = buf[i] == (uint8_t)(i * 7 + (i >> 13)); /* the guest's pattern() */
		if (!ok) {
			h->bad++;
			continue;
		}
		if (sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) == n)
			h->echoed++;
	}
	close(l);
	close(s);
	return NULL;
}

static struct vmm_run vm;
static pthread_t listener;
static int lfd = -1;

START_TEST(devices_in_one_boot)
{
	/* an ext4 image for virtio-blk */
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "truncate -s 16M %s && mkfs.ext4 -q -F %s", disk, disk);
	ck_assert_int_eq(system(cmd), 0);

	/* the host listener the guest connects to */
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, uds5000, strlen(uds5000) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	ck_assert_int_eq(pthread_create(&listener, NULL, host_listener, &lfd), 0);

	/* the host end of the guest's network, once husk-vmm has made the tap */
	struct net_host nh = { 0 };
	pthread_t net_thread;
	if (with_net)
		ck_assert_int_eq(pthread_create(&net_thread, NULL, net_host_run, &nh), 0);

	char guest_bytes[128], blk[200];
	snprintf(guest_bytes, sizeof(guest_bytes),
		 "quiet husktest=blk,%svsock-connect,vsock-echo "
		 "husktest_bytes=%u",
		 with_net ? "net," : "", GUEST_BYTES);
	snprintf(blk, sizeof(blk), "%s", disk);
	const char *args[] = { "--kernel",
			       HUSK_GUEST_DIR "/vmlinux",
			       "--initrd",
			       HUSK_GUEST_DIR "/test-initramfs.cpio",
			       "--disk",
			       blk,
			       "--vsock-uds",
			       uds,
			       "--cmdline",
			       guest_bytes,
			       with_net ? "--net" : NULL,
			       "tap=" NET_TAP ",mtu=1400",
			       NULL };
	vmm_start(&vm, args);

	/* guest: blk, then its own connection to the host, then its listener */
	ck_assert_msg(vmm_wait_console(&vm, "husk-test: listening", BOOT_TIMEOUT + 600),
		      "the guest never listened; console: %s", slurp(vm.console));
	char *out = slurp(vm.console);
	ck_assert_msg(strstr(out, "husk-test: blk ok"), "console: %s", out);
	ck_assert_msg(strstr(out, "husk-test: vsock connect ok"), "console: %s", out);
	if (with_net) {
		/* frames both ways: the guest's datagram came in, the echo went back */
		nh.stop = 1;
		pthread_join(net_thread, NULL);
		ck_assert_msg(!nh.error[0], "host end: %s", nh.error);
		ck_assert_msg(strstr(out, "husk-test: net ok mac 02:68:75:73:6b:00 mtu 1400"),
			      "console: %s", out);
		ck_assert_int_ge(nh.echoed, 1);
		ck_assert_int_eq(nh.bad, 0);
		ck_assert_msg(strstr(out, "husk-test: net tcp ok"), "console: %s", out);
		ck_assert_uint_eq(nh.tcp_back, NET_TCP_BYTES);
	}
	free(out);
	pthread_join(listener, NULL);

	/* host to guest and back: 64 MiB through one connection */
	echo_through_guest(BIG_BYTES, 0);

	/* a reader that pauses for seconds loses nothing */
	echo_through_guest(4u << 20, 5);

	/* 16 connections at once */
	int fds[16];
	struct writer w[16];
	pthread_t t[16];
	char reply[64];
	for (int i = 0; i < 16; i++) {
		fds[i] = vsock_connect(1234, reply, sizeof(reply));
		ck_assert_msg(strncmp(reply, "OK ", 3) == 0, "connection %d: '%s'", i, reply);
		w[i] = (struct writer){ .fd = fds[i], .bytes = 256u << 10 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, write_pattern, &w[i]), 0);
	}
	for (int i = 0; i < 16; i++) {
		ck_assert_int_eq(read_pattern(fds[i], 256u << 10, 0), 256u << 10);
		pthread_join(t[i], NULL);
		close(fds[i]);
	}

	/* nobody listens on port 999: the connection is closed, the VMM lives on */
	int fd = vsock_connect(999, reply, sizeof(reply));
	ck_assert_str_eq(reply, "");
	close(fd);
	/* a malformed handshake gets an error and a close */
	fd = uds_connect(uds);
	ck_assert_int_eq(write(fd, "HELLO 1234\n", 11), 11);
	read_line(fd, reply, sizeof(reply));
	ck_assert_msg(strncmp(reply, "ERROR", 5) == 0, "reply '%s'", reply);
	close(fd);
	echo_through_guest(64u << 10, 0);

	/* SIGTERM ends the VM; its socket is gone afterwards */
	kill(vm.pid, SIGTERM);
	vmm_wait(&vm, 60);
	ck_assert_int_eq(vm.status, 128 + SIGTERM);
	struct stat st;
	ck_assert_msg(stat(uds, &st) < 0 && errno == ENOENT, "%s left behind", uds);

	/* the file the guest wrote is in the image */
	snprintf(cmd, sizeof(cmd),
		 "debugfs -R 'cat /hello.txt' %s 2>/dev/null | "
		 "grep -qx 'written by the guest'",
		 disk);
	ck_assert_msg(system(cmd) == 0, "hello.txt is not in the image");
}
END_TEST

int main(void)
{
	if (!kvm_present())
		return 77;
	if (!mkdtemp(dir))
		return 1;
	/* a network namespace of this test's own: husk-vmm makes its tap there */
	with_net = unshare(CLONE_NEWNET) == 0;
	if (!with_net)
		fprintf(stderr, "devices: no network namespace (%s): virtio-net not tested\n",
			strerror(errno));
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	snprintf(uds5000, sizeof(uds5000), "%s_5000", uds);
	snprintf(disk, sizeof(disk), "%s/disk.img", dir);

	const TTest *const tests[] = { devices_in_one_boot };
	int failed = kvm_run_in_order("devices", BOOT_TIMEOUT + 1800, tests, 1);

	vmm_run_free(&vm);
	unlink(uds5000);
	unlink(disk);
	rmdir(dir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
