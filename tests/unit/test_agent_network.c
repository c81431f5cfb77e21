/*
 * husk-agent's NETWORK request and a container's network namespace at
 * CREATE, without a VM. The payload checks go through the agent's socket
 * harness. The netlink work is real: each such test runs (Check forks one
 * process per test) in a network namespace of its own, standing in for the
 * guest's, with veth links standing in for its virtio-net devices; the
 * container's process is a child in a second network namespace. They need
 * root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and say "skipped" without it.
 */
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "agent_harness.h"
#include "child.h"
#include "netcfg.h"

/* --- stand-ins for the guest's operations ------------------------------------- */

static int fake_prepare(struct container *c, const json_t *payload, struct husk_err *e)
{
	return 0; /* no cgroup: the process is cloned outside any */
}

static void fake_release(struct container *c)
{
}

/* The container's process: a new network namespace when the spec has one, then it waits. */
static pid_t fake_clone(struct agent *a, struct container *c, const struct child_args *ca,
			struct husk_err *e)
{
	pid_t pid = fork();
	if (pid < 0)
		return husk_err_set(e, errno, "fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	struct husk_err ce = { 0 };
	char msg[CHILD_MSG_MAX];
	if ((ca->spec->namespaces & CLONE_NEWNET) &&
	    (unshare(CLONE_NEWNET) < 0 || netinit_container(ca->spec, false, &ce) < 0)) {
		if (!ce.code)
			husk_err_set(&ce, errno, "unshare: %s", strerror(errno));
		snprintf(msg, sizeof(msg), "E%d:%s", ce.code, ce.msg);
		send(ca->sync, msg, strlen(msg), MSG_NOSIGNAL);
		_exit(1);
	}
	send(ca->sync, "R", 1, MSG_NOSIGNAL);
	for (;;)
		pause();
}

static int real_network(struct container *c, const struct netcfg *cfg, struct husk_err *e)
{
	return netcfg_apply(c->procs->pid, cfg, &c->spec, e);
}

static const struct agent_ops net_ops = { fake_prepare, fake_release, fake_clone,
					  real_network, NULL,	      NULL };

/* --- helpers ------------------------------------------------------------------- */

static pid_t create(struct harness *h, const char *id, const char *linux_json)
{
	char req[1024];
	snprintf(req, sizeof(req),
		 "{\"id\": \"%s\", \"spec\": {\"ociVersion\": \"1.0.2\", \"root\": {\"path\": "
		 "\"/\"}, \"process\": {\"args\": [\"sleep\"], \"cwd\": \"/\"}, \"linux\": %s}}",
		 id, linux_json);
	return harness_create(h, req);
}

/* Whether this process can have network namespaces of its own; says "skipped" if not. */
static bool own_netns(void)
{
	if (unshare(CLONE_NEWNET) == 0)
		return true;
	fprintf(stderr, "skipped: unshare(CLONE_NEWNET): %s (needs root)\n", strerror(errno));
	return false;
}

static void sh(const char *cmd)
{
	int st = system(cmd);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status %d", cmd, st);
}

/* What a shell command prints (at most 16 KiB). */
static char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sh_out(const char *fmt, ...)
{
	static char out[16384];
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	return out;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* --- the payload's checks ------------------------------------------------------ */

#define IF0                                                            \
	"{\"device_mac\": \"02:68:75:73:6b:00\", \"name\": \"eth0\", " \
	"\"mac\": \"0a:58:0a:58:00:05\", \"mtu\": 1500"

static const struct bad_payload {
	const char *json, *words;
} bad_payloads[] = {
	{ "{\"id\": \"c1\"}", "network c1: \"interfaces\": missing" },
	{ "{\"id\": \"c1\", \"interfaces\": {}}", "\"interfaces\": not an array" },
	{ "{\"id\": \"c1\", \"interfaces\": [1, 2, 3, 4, 5]}",
	  "\"interfaces\": more than 4 entries" },
	{ "{\"id\": \"c1\", \"interfaces\": [7]}", "interfaces[0]: not an object" },
	{ "{\"id\": \"c1\", \"interfaces\": [{\"device_mac\": \"02:68:75:73:6b\", \"name\": "
	  "\"eth0\", \"mac\": \"0a:58:0a:58:00:05\", \"mtu\": 1500}]}",
	  "interfaces[0].device_mac: \"02:68:75:73:6b\" is not a MAC address" },
	{ "{\"id\": \"c1\", \"interfaces\": [{\"device_mac\": \"02:68:75:73:6b:00\", \"name\": "
	  "\"eth0\", \"mac\": \"01:00:5e:00:00:01\", \"mtu\": 1500}]}",
	  "interfaces[0].mac: 01:00:5e:00:00:01 is not a unicast address" },
	{ "{\"id\": \"c1\", \"interfaces\": [{\"device_mac\": \"02:68:75:73:6b:00\", \"name\": "
	  "\"eth0\", \"mac\": \"00:00:00:00:00:00\", \"mtu\": 1500}]}",
	  "is not a unicast address" },
	{ "{\"id\": \"c1\", \"interfaces\": [{\"device_mac\": \"02:68:75:73:6b:00\", \"name\": "
	  "\"eth0\", \"mac\": \"0a:58:0a:58:00:0g\", \"mtu\": 1500}]}",
	  "is not a MAC address" },
	{ "{\"id\": \"c1\", \"interfaces\": [{\"device_mac\": \"02:68:75:73:6b:00\", \"name\": "
	  "\"eth0\", \"mtu\": 1500}]}",
	  "interfaces[0]: \"mac\": missing" },
	{ "{\"id\": \"c1\", \"interfaces\": [{\"device_mac\": \"02:68:75:73:6b:00\", \"name\": "
	  "\"abcdefghijklmnop\", \"mac\": \"0a:58:0a:58:00:05\", \"mtu\": 1500}]}",
	  "interfaces[0].name: \"abcdefghijklmnop\" is not an interface name" },
	{ "{\"id\": \"c1\", \"interfaces\": [{\"device_mac\": \"02:68:75:73:6b:00\", \"name\": "
	  "\"a/b\", \"mac\": \"0a:58:0a:58:00:05\", \"mtu\": 1500}]}",
	  "\"a/b\" is not an interface name" },
	{ "{\"id\": \"c1\", \"interfaces\": [{\"device_mac\": \"02:68:75:73:6b:00\", \"name\": "
	  "\"lo\", \"mac\": \"0a:58:0a:58:00:05\", \"mtu\": 1500}]}",
	  "\"lo\" is not an interface name" },
	{ "{\"id\": \"c1\", \"interfaces\": [{\"device_mac\": \"02:68:75:73:6b:00\", \"name\": "
	  "\"eth0\", \"mac\": \"0a:58:0a:58:00:05\", \"mtu\": 67}]}",
	  "interfaces[0]: \"mtu\": 67 is out of range 68..65535" },
	{ "{\"id\": \"c1\", \"interfaces\": [{\"device_mac\": \"02:68:75:73:6b:00\", \"name\": "
	  "\"eth0\", \"mac\": \"0a:58:0a:58:00:05\", \"mtu\": 65536}]}",
	  "\"mtu\": 65536 is out of range" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 ", \"addresses\": [\"10.0.0.5\"]}]}",
	  "interfaces[0].addresses[0]: \"10.0.0.5\" is not an address with a prefix" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 ", \"addresses\": [\"10.0.0.5/33\"]}]}",
	  "\"10.0.0.5/33\" is not an address with a prefix" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 ", \"addresses\": [\"fd00::5/129\"]}]}",
	  "\"fd00::5/129\" is not an address" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 ", \"addresses\": [\"10.0.0.5/016\"]}]}",
	  "\"10.0.0.5/016\" is not an address" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 ", \"addresses\": [\"10.0.0.5/ 16\"]}]}",
	  "is not an address" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 ", \"addresses\": [5]}]}",
	  "interfaces[0].addresses[0]: not a string" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 "}, " IF0 "}]}",
	  "interfaces[1].device_mac: the same as interfaces[0]'s" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 "}], \"routes\": [{\"dest\": \"10.1.0.1/16\", "
	  "\"dev\": \"eth0\"}]}",
	  "routes[0].dest: 10.1.0.1/16 has bits set past its prefix" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 "}], \"routes\": [{\"dest\": \"::/0\", "
	  "\"gateway\": \"10.0.0.1\", \"dev\": \"eth0\"}]}",
	  "routes[0]: gateway 10.0.0.1 is not of the family of ::/0" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 "}], \"routes\": [{\"dest\": \"default\", "
	  "\"gateway\": \"10.0.0.300\", \"dev\": \"eth0\"}]}",
	  "routes[0].gateway: \"10.0.0.300\" is not an address" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 "}], \"routes\": [{\"dest\": \"default\", "
	  "\"dev\": \"eth9\"}]}",
	  "routes[0].dev: \"eth9\" is none of the interfaces" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 "}], \"routes\": [{\"dest\": \"default\", "
	  "\"dev\": \"eth0\", \"metric\": -1}]}",
	  "routes[0]: \"metric\": -1 is out of range" },
	{ "{\"id\": \"c1\", \"interfaces\": [" IF0 "}], \"routes\": [{\"dev\": \"eth0\"}]}",
	  "routes[0]: \"dest\": missing" },
	{ "{\"id\": \"c1\", \"interfaces\": [], \"routes\": {}}", "\"routes\": not an array" },
};

START_TEST(bad_payloads_are_refused)
{
	struct harness h;
	harness_init(&h, &net_ops);
	/* no network namespace: the payload is checked before anything is done */
	pid_t pid = create(&h, "c1", "{}");
	harness_call_error(&h, PROTO_NETWORK, bad_payloads[_i].json, bad_payloads[_i].words);
	kill(pid, SIGKILL);
	harness_fini(&h);
}
END_TEST

START_TEST(network_needs_a_namespace_and_a_container)
{
	struct harness h;
	harness_init(&h, &net_ops);
	pid_t pid = create(&h, "c1", "{}");
	harness_call_error(&h, PROTO_NETWORK, "{\"id\": \"c1\", \"interfaces\": []}",
			   "network c1: the container has no network namespace");
	harness_call_error(&h, PROTO_NETWORK, "{\"id\": \"c2\", \"interfaces\": []}",
			   "container c2 does not exist");
	harness_call_error(&h, PROTO_NETWORK, "{\"interfaces\": []}", "\"id\": missing");
	kill(pid, SIGKILL);
	harness_fini(&h);
}
END_TEST

START_TEST(net_sysctls_need_a_network_namespace)
{
	struct harness h;
	harness_init(&h, &net_ops);
	harness_call_error(
		&h, PROTO_CREATE,
		"{\"id\": \"c1\", \"spec\": {\"root\": {\"path\": \"/\"}, \"process\": "
		"{\"args\": [\"sleep\"]}, \"linux\": {\"sysctl\": "
		"{\"net.ipv4.ip_forward\": \"1\"}}}}",
		"create c1: sysctl net.ipv4.ip_forward: not allowed without a network namespace "
		"of its own");
	ck_assert_ptr_null(h.a.containers);
	harness_fini(&h);
}
END_TEST

START_TEST(network_of_an_ended_container)
{
	struct harness h;
	harness_init(&h, &net_ops);
	pid_t pid = create(&h, "c1", "{\"namespaces\": [{\"type\": \"network\"}]}");
	uint32_t wait = harness_send(&h, PROTO_WAIT, "{\"id\": \"c1\"}");
	kill(pid, SIGKILL);
	struct proto_msg m = { 0 };
	harness_recv_on(&h, h.client, &m);
	ck_assert_uint_eq(m.hdr.id, wait);
	proto_msg_free(&m);
	harness_call_error(&h, PROTO_NETWORK, "{\"id\": \"c1\", \"interfaces\": []}",
			   "container not running: c1 has ended");
	harness_fini(&h);
}
END_TEST

START_TEST(parse_helpers)
{
	uint8_t mac[6];
	struct netcfg_ip ip;
	ck_assert(netcfg_parse_mac("0A:58:0a:58:00:ff", mac));
	ck_assert_uint_eq(mac[0], 0x0a);
	ck_assert_uint_eq(mac[5], 0xff);
	ck_assert(!netcfg_parse_mac("0a:58:0a:58:00:ff:", mac));
	ck_assert(!netcfg_parse_mac("0a-58-0a-58-00-ff", mac));
	ck_assert(!netcfg_parse_mac("", mac));
	ck_assert(netcfg_parse_cidr("10.88.0.5/16", &ip));
	ck_assert_int_eq(ip.family, AF_INET);
	ck_assert_uint_eq(ip.prefix, 16);
	ck_assert_uint_eq(ip.addr[0], 10);
	ck_assert(netcfg_parse_cidr("::/0", &ip));
	ck_assert_int_eq(ip.family, AF_INET6);
	ck_assert_uint_eq(ip.prefix, 0);
	ck_assert(!netcfg_parse_cidr("10.88.0.5/", &ip));
	ck_assert(!netcfg_parse_cidr("/16", &ip));
	ck_assert(!netcfg_parse_cidr("10.88.0.5/1234", &ip));
	ck_assert(!netcfg_parse_cidr("eth0/16", &ip));

	char iface[IFNAMSIZ];
	ck_assert(netinit_sysctl_iface("net.ipv4.conf.eth0.rp_filter", iface));
	ck_assert_str_eq(iface, "eth0");
	ck_assert(netinit_sysctl_iface("net.ipv6.neigh.eth1.retrans_time_ms", iface));
	ck_assert_str_eq(iface, "eth1");
	ck_assert(!netinit_sysctl_iface("net.ipv4.conf.all.rp_filter", iface));
	ck_assert(!netinit_sysctl_iface("net.ipv4.conf.default.rp_filter", iface));
	ck_assert(!netinit_sysctl_iface("net.ipv4.ip_forward", iface));
	ck_assert(!netinit_sysctl_iface("net.ipv4.conf.eth0", iface));
}
END_TEST

/* --- for real, in network namespaces of the test's own ------------------------------- */

/* CREATE: lo up and the net.* sysctls in the container's namespace; a bad one fails CREATE. */
START_TEST(create_brings_up_lo_and_sets_net_sysctls)
{
	if (!own_netns())
		return;
	struct harness h;
	harness_init(&h, &net_ops);
	pid_t pid = create(&h, "c1",
			   "{\"namespaces\": [{\"type\": \"network\"}], \"sysctl\": {"
			   "\"net.ipv4.ip_unprivileged_port_start\": \"0\","
			   "\"net.ipv4.ping_group_range\": \"0 2147483647\","
			   "\"net.ipv4.conf.eth0.rp_filter\": \"2\", \"kernel.shmmax\": \"1\"}}");
	char *out = sh_out("nsenter -t %d -n ip -o link show lo", (int)pid);
	ck_assert_msg(strstr(out, "UP"), "lo: %s", out);
	out = sh_out("nsenter -t %d -n cat /proc/sys/net/ipv4/ip_unprivileged_port_start "
		     "/proc/sys/net/ipv4/ping_group_range",
		     (int)pid);
	ck_assert_str_eq(out, "0\n0\t2147483647\n");
	/* the test's own namespace (the "guest's") is untouched */
	out = sh_out("cat /proc/sys/net/ipv4/ip_unprivileged_port_start");
	ck_assert_str_eq(out, "1024\n");

	struct proto_msg m = { 0 };
	harness_call(&h, PROTO_CREATE,
		     "{\"id\": \"c2\", \"spec\": {\"root\": {\"path\": \"/\"}, \"process\": "
		     "{\"args\": [\"sleep\"]}, \"linux\": {\"namespaces\": [{\"type\": "
		     "\"network\"}], \"sysctl\": {\"net.ipv4.no_such_thing\": \"1\"}}}}",
		     &m);
	harness_assert_error(&m, "sysctl net.ipv4.no_such_thing: the guest's kernel has none");
	proto_msg_free(&m);
	kill(pid, SIGKILL);
	harness_fini(&h);
}
END_TEST

/*
 * Two "devices" (veth ends with husk-vmm's MACs) go into the container's
 * namespace with the engine's names, MACs, MTUs, addresses and routes:
 * two default routes, an IPv6 one, a gateway reached through a link route
 * given after it. The same NETWORK again succeeds and changes nothing.
 */
START_TEST(network_moves_and_configures_the_interfaces)
{
	if (!own_netns())
		return;
	sh("ip link add gst0 address 02:68:75:73:6b:00 type veth peer name peer0");
	sh("ip link add gst1 address 02:68:75:73:6b:01 type veth peer name peer1");
	sh("ip link set peer0 up && ip link set peer1 up");
	struct harness h;
	harness_init(&h, &net_ops);
	pid_t pid = create(&h, "c1",
			   "{\"namespaces\": [{\"type\": \"network\"}], \"sysctl\": "
			   "{\"net.ipv4.conf.eth1.rp_filter\": \"2\"}}");
	static const char req[] =
		"{\"id\": \"c1\", \"interfaces\": ["
		" {\"device_mac\": \"02:68:75:73:6b:00\", \"name\": \"eth0\","
		"  \"mac\": \"0a:58:0a:58:00:05\", \"mtu\": 1400,"
		"  \"addresses\": [\"10.88.0.5/16\", \"fd00::5/64\"]},"
		" {\"device_mac\": \"02:68:75:73:6b:01\", \"name\": \"eth1\","
		"  \"mac\": \"0a:58:0a:59:00:07\", \"mtu\": 1500,"
		"  \"addresses\": [\"10.89.0.7/16\"]}],"
		" \"routes\": ["
		" {\"dest\": \"default\", \"gateway\": \"10.88.0.1\", \"dev\": \"eth0\"},"
		" {\"dest\": \"default\", \"gateway\": \"10.89.0.1\", \"dev\": \"eth1\"},"
		" {\"dest\": \"::/0\", \"gateway\": \"fd00::1\", \"dev\": \"eth0\"},"
		" {\"dest\": \"10.1.0.0/16\", \"gateway\": \"169.254.1.1\", \"dev\": \"eth1\","
		"  \"metric\": 50},"
		" {\"dest\": \"169.254.1.1/32\", \"dev\": \"eth1\"}]}";
	harness_call_ok(&h, PROTO_NETWORK, req);

	/* gone from the "guest's" namespace */
	ck_assert_int_eq(count(sh_out("ip -o link"), "gst"), 0);
	char *out = sh_out("nsenter -t %d -n ip -o link", (int)pid);
	/* a veth shows as eth0@ifN */
	ck_assert_msg(strstr(out, "eth0@if") && strstr(out, "UP,LOWER_UP> mtu 1400"), "%s", out);
	ck_assert_msg(strstr(out, "link/ether 0a:58:0a:58:00:05"), "%s", out);
	ck_assert_msg(strstr(out, "eth1@if") && strstr(out, "UP,LOWER_UP> mtu 1500"), "%s", out);
	ck_assert_msg(strstr(out, "link/ether 0a:58:0a:59:00:07"), "%s", out);
	ck_assert_msg(strstr(out, "lo: <LOOPBACK,UP,LOWER_UP>"), "%s", out);
	out = sh_out("nsenter -t %d -n ip -o addr", (int)pid);
	ck_assert_msg(strstr(out, "eth0    inet 10.88.0.5/16"), "%s", out);
	ck_assert_msg(strstr(out, "eth0    inet6 fd00::5/64 scope global nodad"), "%s", out);
	ck_assert_msg(strstr(out, "eth1    inet 10.89.0.7/16"), "%s", out);
	char routes[4096];
	snprintf(routes, sizeof(routes), "%s", sh_out("nsenter -t %d -n ip route", (int)pid));
	ck_assert_msg(strstr(routes, "default via 10.88.0.1 dev eth0 \n"), "%s", routes);
	ck_assert_msg(strstr(routes, "default via 10.89.0.1 dev eth1 \n"), "%s", routes);
	ck_assert_msg(strstr(routes, "10.1.0.0/16 via 169.254.1.1 dev eth1 metric 50"), "%s",
		      routes);
	ck_assert_msg(strstr(routes, "169.254.1.1 dev eth1 scope link"), "%s", routes);
	out = sh_out("nsenter -t %d -n ip -6 route", (int)pid);
	ck_assert_msg(strstr(out, "default via fd00::1 dev eth0 metric 1024"), "%s", out);
	out = sh_out("nsenter -t %d -n cat /proc/sys/net/ipv4/conf/eth1/rp_filter", (int)pid);
	ck_assert_str_eq(out, "2\n");

	/* again: accepted, nothing doubled */
	harness_call_ok(&h, PROTO_NETWORK, req);
	out = sh_out("nsenter -t %d -n ip route", (int)pid);
	ck_assert_str_eq(out, routes);
	ck_assert_int_eq(count(sh_out("nsenter -t %d -n ip -o addr", (int)pid), "10.88.0.5/16"), 1);

	/* a device that is not there */
	harness_call_error(
		&h, PROTO_NETWORK,
		"{\"id\": \"c1\", \"interfaces\": [{\"device_mac\": \"02:68:75:73:6b:03\","
		" \"name\": \"eth3\", \"mac\": \"0a:58:0a:58:00:09\", \"mtu\": 1500}]}",
		"network c1: the guest has no interface with MAC 02:68:75:73:6b:03");
	/* a route the kernel refuses names itself */
	harness_call_error(
		&h, PROTO_NETWORK,
		"{\"id\": \"c1\", \"interfaces\": [{\"device_mac\": \"02:68:75:73:6b:00\","
		" \"name\": \"eth0\", \"mac\": \"0a:58:0a:58:00:05\", \"mtu\": 1400}],"
		" \"routes\": [{\"dest\": \"default\", \"gateway\": \"192.168.7.1\","
		" \"dev\": \"eth0\", \"metric\": 7}]}",
		"route 0.0.0.0/0 via 192.168.7.1 dev eth0: ");
	/* the agent is back in its own namespace */
	ck_assert_msg(strstr(sh_out("ip -o link"), "peer0"), "not back");
	kill(pid, SIGKILL);
	harness_fini(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent_network");
	TCase *tc = tcase_create("network");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, bad_payloads_are_refused, 0,
			    (int)(sizeof(bad_payloads) / sizeof(bad_payloads[0])));
	tcase_add_test(tc, network_needs_a_namespace_and_a_container);
	tcase_add_test(tc, net_sysctls_need_a_network_namespace);
	tcase_add_test(tc, network_of_an_ended_container);
	tcase_add_test(tc, parse_helpers);
	tcase_add_test(tc, create_brings_up_lo_and_sets_net_sysctls);
	tcase_add_test(tc, network_moves_and_configures_the_interfaces);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
