/*
 * The host side of a container's network, in network namespaces of the
 * test's own: each test runs in a child process (Check's fork mode) that
 * unshares its network namespace, makes a veth pair with `ip` (the engine's
 * part) and husk's taps with TUNSETIFF (husk-vmm's part), then reads,
 * prepares, mirrors and unmirrors through the library. Frames are sent into
 * one end and read at the other. Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostnet.h"
#include "netns.h"
#include "unit.h"

#define TEST_ETHERTYPE 0x88b5 /* IEEE 802 local experimental */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	ck_assert_msg(st == 0, "`%s` failed (status %d)", cmd, st);
}

/* A command's standard output (at most 8 KiB). */
static char *sh_out(const char *cmd)
{
	static char buf[8192];
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	size_t n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	ck_assert_int_eq(pclose(p), 0);
	return buf;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned c = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		c++;
	return c;
}

static void new_netns(void)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
}

/* A tap as husk-vmm makes one: not persistent, gone with the descriptor. */
static int tap_open(const char *name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "/dev/net/tun: %s", strerror(errno));
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ck_assert_msg(ioctl(fd, TUNSETIFF, &ifr) == 0, "TUNSETIFF %s: %s", name, strerror(errno));
	return fd;
}

/* The engine's side: veth va (the container's, MAC and MTU set) and its peer vb, up. */
static void veth_setup(void)
{
	sh("ip link add va type veth peer name vb");
	sh("ip link set va address 0a:58:0a:58:00:05 mtu 1400 up");
	sh("ip link set vb up");
}

/* va's addresses and routes, as CNI leaves them. */
static void veth_configure(void)
{
	sh("ip addr add 10.88.0.5/16 dev va");
	sh("ip -6 addr add fd00::5/64 dev va nodad");
	sh("ip route add default via 10.88.0.1 dev va");
	sh("ip route add 10.1.0.0/16 via 10.88.0.1 dev va metric 5");
	sh("ip -6 route add default via fd00::1 dev va");
	sh("ip route add 169.254.1.1 dev va scope link");
}

static struct ifreq if_get(const char *name, unsigned long req)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ck_assert_msg(ioctl(s, req, &ifr) == 0, "ioctl on %s: %s", name, strerror(errno));
	close(s);
	return ifr;
}

static bool has_link_local(const char *name)
{
	struct ifaddrs *all;
	bool found = false;
	ck_assert_int_eq(getifaddrs(&all), 0);
	for (struct ifaddrs *a = all; a; a = a->ifa_next) {
		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET6 || strcmp(a->ifa_name, name))
			continue;
		const struct sockaddr_in6 *s6 = (const void *)a->ifa_addr;
		found = found || IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr);
	}
	freeifaddrs(all);
	return found;
}

/* ---- frames ---- */

static int packet_open(const char *name)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ck_assert_int_ge(s, 0);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)if_nametoindex(name) };
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return s;
}

/* A broadcast frame of our ethertype carrying `tag`, 60 bytes. */
static size_t frame_make(uint8_t f[60], const char *tag)
{
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	f[12] = TEST_ETHERTYPE >> 8;
	f[13] = TEST_ETHERTYPE & 0xff;
	memcpy(f + 14, tag, strlen(tag));
	return 60;
}

/* Whether a frame carrying `tag` arrives on fd (a tap, or a packet socket) within ms. */
static bool frame_wait(int fd, bool packet, const char *tag, int ms)
{
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = ms - ((now.tv_sec - t0.tv_sec) * 1000 +
				  (now.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		uint8_t buf[2048];
		struct sockaddr_ll from = { 0 };
		socklen_t fl = sizeof(from);
		ssize_t n =
			packet ? recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) :
				 read(fd, buf, sizeof(buf));
		if (n < 14 || (packet && from.sll_pkttype == PACKET_OUTGOING))
			continue;
		if (buf[12] == TEST_ETHERTYPE >> 8 && buf[13] == (TEST_ETHERTYPE & 0xff) &&
		    memmem(buf + 14, (size_t)n - 14, tag, strlen(tag)))
			return true;
	}
}

/* ---- namespaces ---- */

/* A child in a network namespace of its own set up by `setup` (sh), until a byte arrives on *stop. */
static pid_t netns_child_with(int *stop, const char *setup)
{
	int ready[2], halt[2];
	char c;
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(halt), 0);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		int ok = unshare(CLONE_NEWNET) == 0 && system(setup) == 0;
		if (write(ready[1], ok ? "1" : "0", 1) != 1 || read(halt[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(c, '1');
	close(ready[0]);
	close(ready[1]);
	close(halt[0]);
	*stop = halt[1];
	return child;
}

/* ... with link nsmark */
static pid_t netns_child(int *stop)
{
	return netns_child_with(stop, "ip link add nsmark type veth peer name nsmark2");
}

static void netns_child_end(pid_t child, int stop)
{
	int st;
	ck_assert_int_eq(write(stop, "x", 1), 1);
	close(stop);
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

START_TEST(test_netns_host)
{
	struct husk_err e = { 0 };
	char path[64];
	int stop;
	pid_t child = netns_child(&stop);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child);

	/* the test runs in the host's namespace (as husk does) */
	ck_assert_int_eq(netns_is_host(NETNS_SELF_PATH, &e), 1);
	ck_assert_int_eq(netns_is_host(path, &e), 0);
	ck_assert_int_eq(netns_same(path, path, &e), 1);
	ck_assert_int_eq(netns_same(path, NETNS_SELF_PATH, &e), 0);
	ck_assert_int_eq(e.code, 0);
	ck_assert_int_eq(netns_is_host("/no/such/netns", &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "/no/such/netns"));
	netns_child_end(child, stop);
}
END_TEST

START_TEST(test_netns_enter_pid)
{
	int stop;
	pid_t child = netns_child(&stop);
	ck_assert_uint_eq(if_nametoindex("nsmark"), 0);

	struct husk_err e = { 0 };
	int saved = -1;
	ck_assert_int_eq(netns_enter_pid(child, &saved, &e), 0);
	ck_assert_int_ge(saved, 0);
	ck_assert_uint_ne(if_nametoindex("nsmark"), 0);
	ck_assert_int_eq(netns_leave(&saved, &e), 0);
	ck_assert_int_eq(saved, -1);
	ck_assert_uint_eq(if_nametoindex("nsmark"), 0);
	ck_assert_int_eq(netns_leave(&saved, &e), 0); /* nothing to do */

	{
		cleanup_netns int inside = -1;
		ck_assert_int_eq(netns_enter_pid(child, &inside, &e), 0);
		ck_assert_uint_ne(if_nametoindex("nsmark"), 0);
	}
	ck_assert_uint_eq(if_nametoindex("nsmark"), 0);

	/* by path, too */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child);
	ck_assert_int_eq(netns_enter_path(path, &saved, &e), 0);
	ck_assert_uint_ne(if_nametoindex("nsmark"), 0);
	ck_assert_int_eq(netns_leave(&saved, &e), 0);
	ck_assert_uint_eq(if_nametoindex("nsmark"), 0);

	netns_child_end(child, stop);
	ck_assert_int_eq(netns_enter_pid(child, &saved, &e), -ENOENT);
	ck_assert_int_eq(saved, -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "/ns/net"));
}
END_TEST

/* ---- reading ---- */

static const struct hostnet_link *link_named(const struct hostnet *n, const char *name)
{
	for (unsigned i = 0; i < n->n_links; i++)
		if (!strcmp(n->links[i].name, name))
			return &n->links[i];
	return NULL;
}

static const char *cidr(const struct hostnet_addr *a)
{
	static char buf[64];
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(a->family, a->addr, ip, sizeof(ip));
	snprintf(buf, sizeof(buf), "%s/%u", ip, a->prefixlen);
	return buf;
}

START_TEST(test_read)
{
	struct hostnet n;
	struct husk_err e = { 0 };
	new_netns();
	int tap = tap_open("husktap0");
	veth_setup();
	veth_configure();
	/* not counted either: a link that is down, one that is not Ethernet */
	sh("ip link add vx type veth peer name vy");
	sh("ip tuntap add tun0 mode tun && ip link set tun0 up");

	ck_assert_msg(hostnet_read(&n, &e) == 0, "%s", e.msg);
	/* lo and husktap0 are not the container's */
	ck_assert_uint_eq(n.n_links, 2);
	ck_assert_int_lt(n.links[0].ifindex, n.links[1].ifindex);
	const struct hostnet_link *va = link_named(&n, "va"), *vb = link_named(&n, "vb");
	ck_assert_ptr_nonnull(va);
	ck_assert_ptr_nonnull(vb);
	ck_assert_int_eq(va->ifindex, (int)if_nametoindex("va"));
	ck_assert_str_eq(va->kind, "veth");
	ck_assert_uint_eq(va->type, ARPHRD_ETHER);
	ck_assert_uint_eq(va->mtu, 1400);
	ck_assert_uint_eq(vb->mtu, 1500);
	static const uint8_t mac[6] = { 0x0a, 0x58, 0x0a, 0x58, 0x00, 0x05 };
	ck_assert_mem_eq(va->mac, mac, 6);
	/* global addresses only: no fe80 (link scope) */
	ck_assert_uint_eq(va->n_addrs, 2);
	ck_assert_str_eq(cidr(&va->addrs[0]), "10.88.0.5/16");
	ck_assert_str_eq(cidr(&va->addrs[1]), "fd00::5/64");
	ck_assert_uint_eq(vb->n_addrs, 0);

	/* no proto kernel routes (10.88.0.0/16, fd00::/64), no fe80::/64 */
	ck_assert_uint_eq(n.n_routes, 4);
	unsigned va_pos = (unsigned)(va - n.links);
	/* the link route first, though the kernel lists the default route before it */
	ck_assert(!n.routes[0].has_gateway);
	ck_assert_uint_eq(n.routes[0].family, AF_INET);
	ck_assert_uint_eq(n.routes[0].dst_len, 32);
	ck_assert_uint_eq(n.routes[0].link, va_pos);
	static const uint8_t ll_gw[4] = { 169, 254, 1, 1 };
	ck_assert_mem_eq(n.routes[0].dst, ll_gw, 4);
	bool v4_default = false, v4_net = false, v6_default = false;
	for (unsigned i = 1; i < n.n_routes; i++) {
		const struct hostnet_route *r = &n.routes[i];
		char gw[INET6_ADDRSTRLEN];
		ck_assert_uint_eq(r->link, va_pos);
		ck_assert(r->has_gateway);
		inet_ntop(r->family, r->gateway, gw, sizeof(gw));
		if (r->family == AF_INET && r->dst_len == 0) {
			v4_default = true;
			ck_assert_str_eq(gw, "10.88.0.1");
			ck_assert(!r->has_metric);
		} else if (r->family == AF_INET && r->dst_len == 16) {
			v4_net = true;
			ck_assert_uint_eq(r->dst[0], 10);
			ck_assert_uint_eq(r->dst[1], 1);
			ck_assert(r->has_metric);
			ck_assert_uint_eq(r->metric, 5);
		} else if (r->family == AF_INET6 && r->dst_len == 0) {
			v6_default = true;
			ck_assert_str_eq(gw, "fd00::1");
			ck_assert(r->has_metric);
			ck_assert_uint_eq(r->metric, 1024);
		}
	}
	ck_assert(v4_default && v4_net && v6_default);
	close(tap);
}
END_TEST

START_TEST(test_read_bounds)
{
	struct hostnet n;
	struct husk_err e = { 0 };
	new_netns();
	veth_setup();
	for (int i = 1; i <= HOSTNET_MAX_ADDRS; i++)
		sh("ip addr add 10.0.0.%d/24 dev va", i);
	ck_assert_msg(hostnet_read(&n, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(link_named(&n, "va")->n_addrs, HOSTNET_MAX_ADDRS);
	sh("ip addr add 10.0.1.1/24 dev va");
	ck_assert_int_eq(hostnet_read(&n, &e), -E2BIG);
	ck_assert_ptr_nonnull(strstr(e.msg, "va has more than 16 addresses"));

	sh("ip addr flush dev va");
	sh("ip link add vc type veth peer name vd && ip link set vc up && ip link set vd up");
	sh("ip link add ve type veth peer name vf"); /* down: not counted */
	ck_assert_int_eq(hostnet_read(&(struct hostnet){ 0 }, &(struct husk_err){ 0 }), 0);
	sh("ip link set dev ve up && ip link set dev vf up");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(hostnet_read(&n, &e), -E2BIG);
	ck_assert_msg(strstr(e.msg, "6 network interfaces besides lo") &&
			      strstr(e.msg, "at most 4"),
		      "%s", e.msg);
}
END_TEST

START_TEST(test_read_routes_bound)
{
	struct hostnet n;
	struct husk_err e = { 0 };
	new_netns();
	veth_setup();
	sh("ip addr add 10.88.0.5/16 dev va");
	for (int i = 0; i < HOSTNET_MAX_ROUTES; i++)
		sh("ip route add 10.%d.0.0/16 via 10.88.0.1", 100 + i);
	ck_assert_msg(hostnet_read(&n, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(n.n_routes, HOSTNET_MAX_ROUTES);
	sh("ip route add default via 10.88.0.1");
	ck_assert_int_eq(hostnet_read(&n, &e), -E2BIG);
	ck_assert_ptr_nonnull(strstr(e.msg, "more than 32 routes"));
}
END_TEST

/* ---- the tap ---- */

START_TEST(test_tap_prepare)
{
	struct husk_err e = { 0 };
	new_netns();
	int t0 = tap_open("husktap0"), t1 = tap_open("husktap1");

	ck_assert_msg(hostnet_tap_prepare("husktap0", 1400, &e) == 0, "%s", e.msg);
	ck_assert(if_get("husktap0", SIOCGIFFLAGS).ifr_flags & IFF_UP);
	ck_assert_int_eq(if_get("husktap0", SIOCGIFMTU).ifr_mtu, 1400);
	ck_assert(!has_link_local("husktap0"));
	ck_assert_ptr_nonnull(strstr(sh_out("ip -d link show husktap0"), "addrgenmode none"));
	/* what it avoids: a tap brought up as it is gets an address of its own */
	sh("ip link set husktap1 up");
	ck_assert(has_link_local("husktap1"));

	/* again: the same result */
	ck_assert_msg(hostnet_tap_prepare("husktap0", 1500, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(if_get("husktap0", SIOCGIFMTU).ifr_mtu, 1500);
	ck_assert(!has_link_local("husktap0"));

	ck_assert_int_eq(hostnet_tap_prepare("husktap7", 1500, &e), -ENODEV);
	ck_assert_ptr_nonnull(strstr(e.msg, "husktap7"));
	memset(&e, 0, sizeof(e));
	ck_assert_int_lt(hostnet_tap_prepare("husktap0", 70000, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "husktap0"));
	close(t0);
	close(t1);
}
END_TEST

/* ---- the mirror ---- */

/* A frame into vb comes out of the tap (through va's redirect), and one the tap is given out of vb. */
static void check_frames(int tap, int vb, bool expected)
{
	uint8_t f[60];
	size_t len = frame_make(f, "from-the-veth");
	ck_assert_int_eq(send(vb, f, len, 0), (ssize_t)len);
	ck_assert_int_eq(frame_wait(tap, false, "from-the-veth", expected ? 3000 : 300), expected);
	len = frame_make(f, "from-the-guest");
	ck_assert_int_eq(write(tap, f, len), (ssize_t)len);
	ck_assert_int_eq(frame_wait(vb, true, "from-the-guest", expected ? 3000 : 300), expected);
}

static void check_filter(const char *dev, const char *to)
{
	char cmd[128], mirred[128];
	snprintf(cmd, sizeof(cmd), "tc filter show dev %s ingress", dev);
	const char *out = sh_out(cmd);
	snprintf(mirred, sizeof(mirred), "mirred (Egress Redirect to device %s) stolen", to);
	ck_assert_msg(count(out, "match 00000000/00000000 at 0") == 1 && count(out, mirred) == 1 &&
			      count(out, "protocol all pref 49152 u32") == 3 &&
			      count(out, "terminal") == 1,
		      "%s: %s", dev, out);
}

static void check_counted(const char *dev)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "tc -s filter show dev %s ingress", dev);
	const char *out = sh_out(cmd);
	ck_assert_msg(count(out, "Sent ") == 1 && count(out, "Sent 0 bytes 0 pkt") == 0, "%s: %s",
		      dev, out);
}

START_TEST(test_mirror)
{
	struct husk_err e = { 0 };
	new_netns();
	int tap = tap_open("husktap0");
	veth_setup();
	int vb = packet_open("vb");
	ck_assert_msg(hostnet_tap_prepare("husktap0", 1400, &e) == 0, "%s", e.msg);

	check_frames(tap, vb, false);
	ck_assert_msg(hostnet_tc_mirror("va", "husktap0", &e) == 0, "%s", e.msg);
	check_filter("va", "husktap0");
	check_filter("husktap0", "va");
	check_frames(tap, vb, true);
	/* the counters of both filters moved */
	check_counted("va");
	check_counted("husktap0");

	/* again: still one filter each way */
	ck_assert_msg(hostnet_tc_mirror("va", "husktap0", &e) == 0, "%s", e.msg);
	check_filter("va", "husktap0");
	check_filter("husktap0", "va");
	check_frames(tap, vb, true);

	ck_assert_int_eq(hostnet_tc_unmirror("va", &e), 0);
	ck_assert_str_eq(sh_out("tc qdisc show dev va ingress"), "");
	ck_assert_str_eq(sh_out("tc filter show dev va ingress"), "");
	ck_assert_int_eq(hostnet_tc_unmirror("va", &e), 0);    /* no qdisc */
	ck_assert_int_eq(hostnet_tc_unmirror("gone0", &e), 0); /* no link */
	ck_assert_int_eq(e.code, 0);
	/* the veth no longer sends to the tap */
	uint8_t f[60];
	size_t len = frame_make(f, "after-unmirror");
	ck_assert_int_eq(send(vb, f, len, 0), (ssize_t)len);
	ck_assert(!frame_wait(tap, false, "after-unmirror", 300));

	ck_assert_int_eq(hostnet_tc_mirror("va", "husktap5", &e), -ENODEV);
	ck_assert_ptr_nonnull(strstr(e.msg, "husktap5"));
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(hostnet_tc_mirror("nosuch", "husktap0", &e), -ENODEV);
	ck_assert_ptr_nonnull(strstr(e.msg, "nosuch"));
	close(vb);
	close(tap);
}
END_TEST

/* hostnet_attach over what was read: each link on its tap; detach removes the mirrors. */
START_TEST(test_attach)
{
	struct hostnet n;
	struct husk_err e = { 0 };
	new_netns();
	int t0 = tap_open("husktap0"), t1 = tap_open("husktap1");
	veth_setup();
	ck_assert_msg(hostnet_read(&n, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(n.n_links, 2);
	ck_assert_msg(hostnet_attach(&n, &e) == 0, "%s", e.msg);
	char tap[IFNAMSIZ];
	for (unsigned i = 0; i < 2; i++) {
		hostnet_tap_name(i, tap);
		check_filter(n.links[i].name, tap);
		check_filter(tap, n.links[i].name);
		ck_assert_int_eq(if_get(tap, SIOCGIFMTU).ifr_mtu, (int)n.links[i].mtu);
	}
	ck_assert_int_eq(hostnet_detach(&n, &e), 0);
	ck_assert_str_eq(sh_out("tc qdisc show dev va ingress"), "");
	ck_assert_str_eq(sh_out("tc qdisc show dev vb ingress"), "");
	ck_assert_int_eq(hostnet_detach(&n, &e), 0);

	/* a missing tap: an error naming both, and nothing left behind */
	close(t1);
	ck_assert_int_eq(hostnet_attach(&n, &e), -ENODEV);
	ck_assert_msg(strstr(e.msg, "husktap1") && strstr(e.msg, "attach "), "%s", e.msg);
	ck_assert_str_eq(sh_out("tc qdisc show dev va ingress"), "");
	ck_assert_str_eq(sh_out("tc qdisc show dev vb ingress"), "");
	close(t0);
}
END_TEST

/* Steps 4 and 6 from the host's namespace, as husk does them: by husk-vmm's PID, then by path. */
START_TEST(test_attach_pid)
{
	struct hostnet n;
	struct husk_err e = { 0 };
	json_t *payload = (json_t *)&e;
	char path[64];
	int stop;

	/* an empty namespace (ctr --cni at create): nothing to do yet */
	pid_t child = netns_child_with(&stop, "ip tuntap add husktap0 mode tap");
	ck_assert_msg(hostnet_attach_pid(child, "c1", &n, &payload, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(n.n_links, 0);
	ck_assert_ptr_null(payload);
	netns_child_end(child, stop);

	child = netns_child_with(&stop,
				 "ip tuntap add husktap0 mode tap && "
				 "ip link add eth0 type veth peer name eth1 && "
				 "ip tuntap add husktap1 mode tap && "
				 "ip addr add 10.88.0.5/16 dev eth0 && ip link set eth1 up && "
				 "ip link set eth0 mtu 1450 up && "
				 "ip route add default via 10.88.0.1");
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child);
	ck_assert_msg(hostnet_attach_pid(child, "c2", &n, &payload, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(n.n_links, 2);
	ck_assert_ptr_nonnull(payload);
	ck_assert_str_eq(json_string_value(json_object_get(payload, "id")), "c2");
	ck_assert_uint_eq(json_array_size(json_object_get(payload, "interfaces")), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(payload, "routes")), 1);
	json_decref(payload);
	ck_assert_uint_eq(if_nametoindex("eth1"), 0); /* back in the host's namespace */
	{
		cleanup_netns int saved = -1;
		ck_assert_int_eq(netns_enter_path(path, &saved, &e), 0);
		/* link i (ifindex order: the peer eth1 was made first) on husktap<i> */
		ck_assert_str_eq(n.links[0].name, "eth1");
		check_filter("eth1", "husktap0");
		check_filter("husktap0", "eth1");
		check_filter("eth0", "husktap1");
		check_filter("husktap1", "eth0");
		ck_assert_int_eq(if_get("husktap1", SIOCGIFMTU).ifr_mtu, 1450);
		ck_assert(if_get("husktap1", SIOCGIFFLAGS).ifr_flags & IFF_UP);
		ck_assert(!has_link_local("husktap1"));
	}

	static const char *const links[] = { "eth0", "eth1" };
	ck_assert_msg(hostnet_detach_path(path, links, 2, &e) == 0, "%s", e.msg);
	{
		cleanup_netns int saved = -1;
		ck_assert_int_eq(netns_enter_path(path, &saved, &e), 0);
		ck_assert_str_eq(sh_out("tc qdisc show dev eth0 ingress"), "");
		ck_assert_str_eq(sh_out("tc qdisc show dev eth1 ingress"), "");
	}
	ck_assert_int_eq(hostnet_detach_path(path, links, 2, &e), 0);
	netns_child_end(child, stop);
	/* the namespace is gone: nothing to remove */
	ck_assert_int_eq(hostnet_detach_path(path, links, 2, &e), 0);
	ck_assert_int_eq(hostnet_detach_path("/run/netns/husk-no-such", links, 2, &e), 0);
	ck_assert_int_eq(e.code, 0);

	/* a husk-vmm that is gone */
	ck_assert_int_eq(hostnet_attach_pid(child, "c3", &n, &payload, &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "container network: "));
}
END_TEST

/* ---- the NETWORK request ---- */

START_TEST(test_payload)
{
	struct hostnet n;
	struct husk_err e = { 0 };
	new_netns();
	veth_setup();
	veth_configure();
	ck_assert_msg(hostnet_read(&n, &e) == 0, "%s", e.msg);
	json_t *p = hostnet_payload("c1", &n, &e);
	ck_assert_msg(p != NULL, "%s", e.msg);

	ck_assert_str_eq(json_string_value(json_object_get(p, "id")), "c1");
	json_t *ifs = json_object_get(p, "interfaces");
	ck_assert_uint_eq(json_array_size(ifs), 2);
	json_t *va = NULL;
	for (size_t i = 0; i < 2; i++) {
		json_t *it = json_array_get(ifs, i);
		char want[18];
		snprintf(want, sizeof(want), "02:68:75:73:6b:%02zx", i);
		ck_assert_str_eq(json_string_value(json_object_get(it, "device_mac")), want);
		ck_assert_str_eq(json_string_value(json_object_get(it, "name")), n.links[i].name);
		if (!strcmp(n.links[i].name, "va"))
			va = it;
	}
	ck_assert_ptr_nonnull(va);
	char *s = json_dumps(va, JSON_SORT_KEYS | JSON_COMPACT);
	char want[256];
	snprintf(want, sizeof(want),
		 "{\"addresses\":[\"10.88.0.5/16\",\"fd00::5/64\"],\"device_mac\":"
		 "\"02:68:75:73:6b:%02x\",\"mac\":\"0a:58:0a:58:00:05\",\"mtu\":1400,"
		 "\"name\":\"va\"}",
		 (unsigned)(link_named(&n, "va") - n.links));
	ck_assert_str_eq(s, want);
	free(s);

	json_t *routes = json_object_get(p, "routes");
	ck_assert_uint_eq(json_array_size(routes), 4);
	s = json_dumps(routes, JSON_SORT_KEYS | JSON_COMPACT);
	static const char link_first[] = "[{\"dest\":\"169.254.1.1/32\",\"dev\":\"va\"},";
	ck_assert_msg(
		!strncmp(s, link_first, strlen(link_first)) &&

			strstr(s,
			       "{\"dest\":\"default\",\"dev\":\"va\",\"gateway\":\"10.88.0.1\"}") &&
			strstr(s, "{\"dest\":\"10.1.0.0/16\",\"dev\":\"va\",\"gateway\":"
				  "\"10.88.0.1\",\"metric\":5}") &&
			strstr(s, "{\"dest\":\"::/0\",\"dev\":\"va\",\"gateway\":"
				  "\"fd00::1\",\"metric\":1024}"),
		"%s", s);
	free(s);
	json_decref(p);

	/* a link that is not Ethernet cannot be given to the VM */
	struct hostnet odd = { .n_links = 1 };
	snprintf(odd.links[0].name, IFNAMSIZ, "wg0");
	odd.links[0].type = ARPHRD_NONE;
	memset(&e, 0, sizeof(e));
	ck_assert_ptr_null(hostnet_payload("c1", &odd, &e));
	ck_assert_int_eq(e.code, EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(e.msg, "wg0 is not Ethernet"));
}
END_TEST

START_TEST(test_names)
{
	char tap[IFNAMSIZ], mac[18];
	hostnet_tap_name(3, tap);
	ck_assert_str_eq(tap, "husktap3");
	hostnet_device_mac(3, mac);
	ck_assert_str_eq(mac, "02:68:75:73:6b:03");
}
END_TEST

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr,
			"test_hostnet: needs root (it makes network namespaces, veths, taps "
			"and tc filters); run it as root\n");
		return EXIT_FAILURE;
	}
	Suite *s = suite_create("hostnet");
	TCase *tc = tcase_create("netns");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_netns_host);
	tcase_add_test(tc, test_netns_enter_pid);
	tcase_add_test(tc, test_read);
	tcase_add_test(tc, test_read_bounds);
	tcase_add_test(tc, test_read_routes_bound);
	tcase_add_test(tc, test_tap_prepare);
	tcase_add_test(tc, test_mirror);
	tcase_add_test(tc, test_attach);
	tcase_add_test(tc, test_attach_pid);
	tcase_add_test(tc, test_payload);
	suite_add_tcase(s, tc);

	/* each test unshares its network namespace: it must run in a child of its own */
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
