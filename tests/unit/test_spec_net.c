/* The shim's network devices: how many, named and addressed how, and when none. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "devices/virtio_net.h"
#include "spec_net.h"
#include "unit.h"

/* A network namespace of this test's own (Check runs each test in a child); needs root. */
static bool own_ns(const char *test)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "%s: unshare(CLONE_NEWNET): %s (run as root)",
		      test, strerror(errno));
	return true;
}

/* Bring a link up (SIOCSIFFLAGS), as the engine's veth is. */
static void link_up(const char *name)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	ck_assert_int_ge(s, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	ck_assert_int_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

static void assert_dev(const struct vmm_config *c, unsigned i)
{
	char tap[IFNAMSIZ];
	snprintf(tap, sizeof(tap), "husktap%u", i);
	ck_assert_str_eq(c->net[i].tap, tap);
	const uint8_t mac[6] = { 0x02, 0x68, 0x75, 0x73, 0x6b, (uint8_t)i };
	ck_assert_mem_eq(c->net[i].mac, mac, 6);
	ck_assert_uint_eq(c->net[i].mtu, 1500);
}

START_TEST(no_network_namespace_no_devices)
{
	struct vmm_config c = { 0 };
	ck_assert_int_eq(spec_net_add(&c, false), 0);
	ck_assert_uint_eq(c.nnet, 0);
}
END_TEST

/* Only lo: still one device, for a namespace the engine fills later. */
START_TEST(empty_namespace_one_device)
{
	if (!own_ns("empty_namespace_one_device"))
		return;
	struct vmm_config c = { 0 };
	ck_assert_int_eq(spec_net_count_links(), 0);
	ck_assert_int_eq(spec_net_add(&c, true), 0);
	ck_assert_uint_eq(c.nnet, 1);
	assert_dev(&c, 0);
}
END_TEST

/* One device per link other than lo, at most four. */
START_TEST(one_device_per_link)
{
	unsigned links = (unsigned)_i;
	if (!own_ns("one_device_per_link"))
		return;
	int fds[8];
	for (unsigned i = 0; i < links; i++) {
		char name[IFNAMSIZ];
		unsigned off;
		snprintf(name, sizeof(name), "link%u", i);
		fds[i] = virtio_net_tap_open(name, &off);
		ck_assert_int_ge(fds[i], 0);
		link_up(name);
	}
	ck_assert_int_eq(spec_net_count_links(), (int)links);
	struct vmm_config c = { 0 };
	ck_assert_int_eq(spec_net_add(&c, true), 0);
	unsigned want = links > CONFIG_MAX_NET ? CONFIG_MAX_NET : links;
	ck_assert_uint_eq(c.nnet, want);
	for (unsigned i = 0; i < want; i++)
		assert_dev(&c, i);
	for (unsigned i = 0; i < links; i++)
		close(fds[i]);
}
END_TEST

/* A link that is down and husk's own taps are not the engine's: not counted. */
START_TEST(down_links_and_taps_not_counted)
{
	unsigned off;
	own_ns("down_links_and_taps_not_counted");
	int down = virtio_net_tap_open("down0", &off), tap = virtio_net_tap_open("husktap7", &off),
	    up = virtio_net_tap_open("up0", &off);
	ck_assert(down >= 0 && tap >= 0 && up >= 0);
	link_up("husktap7");
	link_up("up0");
	ck_assert_int_eq(spec_net_count_links(), 1);
	close(down);
	close(tap);
	close(up);
}
END_TEST

/* --net on the command line: the shim leaves the devices as given. */
START_TEST(explicit_devices_kept)
{
	if (!own_ns("explicit_devices_kept"))
		return;
	struct vmm_config c = { 0 };
	ck_assert_int_eq(config_parse_net("tap=mine,mtu=9000", 0, &c.net[0]), 0);
	c.nnet = 1;
	ck_assert_int_eq(spec_net_add(&c, true), 0);
	ck_assert_uint_eq(c.nnet, 1);
	ck_assert_str_eq(c.net[0].tap, "mine");
	ck_assert_uint_eq(c.net[0].mtu, 9000);
}
END_TEST

static Suite *spec_net_suite(void)
{
	Suite *s = suite_create("spec_net");
	TCase *tc = tcase_create("devices");
	tcase_add_test(tc, no_network_namespace_no_devices);
	tcase_add_test(tc, down_links_and_taps_not_counted);
	tcase_add_test(tc, empty_namespace_one_device);
	tcase_add_loop_test(tc, one_device_per_link, 1, 3);
	tcase_add_loop_test(tc, one_device_per_link, 5, 6);
	tcase_add_test(tc, explicit_devices_kept);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(spec_net_suite());
}
