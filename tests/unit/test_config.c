/* Command-line parsing: options, limits, sizes. config_parse prints its complaints to stderr. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "test_argv.h"
#include "unit.h"

static struct test_argv A;

/* Parse "husk-vmm" followed by the given words (NULL-terminated). */
static int parse(struct vmm_config *c, ...)
{
	va_list ap;
	va_start(ap, c);
	test_argv_set(&A, ap);
	va_end(ap);
	return config_parse(c, A.argc, A.argv, NULL);
}

static void teardown(void)
{
	test_argv_free(&A);
}

START_TEST(all_options)
{
	struct vmm_config c;
	ck_assert_int_eq(parse(&c, "--kernel", "vmlinux", "--initrd", "init.cpio", "--cmdline",
			       "quiet loglevel=3", "--mem", "256M", "--cpus", "4", "--console",
			       "out.txt", "--timings", "-", "--kvm-device", "/dev/kvm0",
			       "--kvm-flavour", "pvm", NULL),
			 0);
	ck_assert_str_eq(c.kernel, "vmlinux");
	ck_assert_str_eq(c.initrd, "init.cpio");
	ck_assert_str_eq(c.cmdline, "quiet loglevel=3");
	ck_assert_uint_eq(c.mem_bytes, 256ULL << 20);
	ck_assert_uint_eq(c.vcpus, 4);
	ck_assert_str_eq(c.console, "out.txt");
	ck_assert_str_eq(c.timings, "-");
	ck_assert_str_eq(c.kvm_device, "/dev/kvm0");
	ck_assert_int_eq(c.flavour, FLAVOUR_PVM);
	ck_assert(!c.help && !c.version);
}
END_TEST

START_TEST(defaults)
{
	struct vmm_config c;
	ck_assert_int_eq(parse(&c, "--kernel=bzImage", NULL), 0);
	ck_assert_str_eq(c.kernel, "bzImage");
	ck_assert_ptr_null(c.initrd);
	ck_assert_ptr_null(c.cmdline);
	ck_assert_ptr_null(c.console);
	ck_assert_ptr_null(c.timings);
	ck_assert_uint_eq(c.mem_bytes, CONFIG_DEFAULT_MEM);
	ck_assert_uint_eq(c.vcpus, 1);
	ck_assert_str_eq(c.kvm_device, "/dev/kvm");
	ck_assert_int_eq(c.flavour, FLAVOUR_AUTO);
	ck_assert(!c.help && !c.version);
}
END_TEST

START_TEST(flavours)
{
	struct vmm_config c;
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--kvm-flavour", "hardware", NULL), 0);
	ck_assert_int_eq(c.flavour, FLAVOUR_HARDWARE);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--kvm-flavour", "auto", NULL), 0);
	ck_assert_int_eq(c.flavour, FLAVOUR_AUTO);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--kvm-flavour", "PVM", NULL), -EINVAL);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--kvm-flavour", "", NULL), -EINVAL);
}
END_TEST

START_TEST(missing_kernel)
{
	struct vmm_config c;
	ck_assert_int_eq(parse(&c, NULL), -EINVAL);
	ck_assert_int_eq(parse(&c, "--mem", "1G", "--cpus", "2", NULL), -EINVAL);
	/* --kernel with its value missing */
	ck_assert_int_eq(parse(&c, "--kernel", NULL), -EINVAL);
}
END_TEST

START_TEST(bad_mem)
{
	static const char *const bad[] = { "abc",
					   "0",
					   "12Q",
					   "2T",
					   "16M",
					   "",
					   "-1",
					   " 64M",
					   "32M ",
					   "1.5G",
					   "31M",
					   "1025G",
					   "99999999999999999999" };
	struct vmm_config c;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(&c, "--kernel", "k", "--mem", bad[i], NULL) == -EINVAL,
			      "--mem '%s' accepted", bad[i]);
}
END_TEST

START_TEST(good_mem)
{
	struct vmm_config c;
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--mem", "1T", NULL), 0);
	ck_assert_uint_eq(c.mem_bytes, 1ULL << 40);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--mem", "1024G", NULL), 0);
	ck_assert_uint_eq(c.mem_bytes, 1ULL << 40);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--mem", "32M", NULL), 0);
	ck_assert_uint_eq(c.mem_bytes, 32ULL << 20);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--mem", "33554432", NULL), 0);
	ck_assert_uint_eq(c.mem_bytes, 32ULL << 20);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--mem=4GiB", NULL), 0);
	ck_assert_uint_eq(c.mem_bytes, 4ULL << 30);
}
END_TEST

START_TEST(bad_cpus)
{
	static const char *const bad[] = { "0",	 "255", "x",	      "",
					   "-1", "1x",	"4294967297", "99999999999999999999999" };
	struct vmm_config c;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(&c, "--kernel", "k", "--cpus", bad[i], NULL) == -EINVAL,
			      "--cpus '%s' accepted", bad[i]);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--cpus", "254", NULL), 0);
	ck_assert_uint_eq(c.vcpus, 254);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--cpus", "1", NULL), 0);
	ck_assert_uint_eq(c.vcpus, 1);
}
END_TEST

START_TEST(unknown_option_or_argument)
{
	struct vmm_config c;
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--frobnicate", NULL), -EINVAL);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "-x", NULL), -EINVAL);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "stray", NULL), -EINVAL);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--help=yes", NULL), -EINVAL);
	/* the container's options are the shim's (test_shim_options) */
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--spec", "config.json", NULL), -EINVAL);
}
END_TEST

/* Device settings arrive typed: the devices never parse a string again. */
START_TEST(device_settings)
{
	struct vmm_config c;
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--disk", "a.img", "--disk", "b.img,ro",
			       "--disk", ",ro", "--fs", "rootfs=/srv/root", "--vsock-uds",
			       "/run/v.sock", "--vsock-cid", "7", NULL),
			 0);
	ck_assert_uint_eq(c.ndisks, 3);
	ck_assert_str_eq(c.disks[0].path, "a.img");
	ck_assert(!c.disks[0].read_only);
	ck_assert_str_eq(c.disks[1].path, "b.img");
	ck_assert(c.disks[1].read_only);
	ck_assert_str_eq(c.disks[2].path, ",ro"); /* a file named ",ro", as before */
	ck_assert(!c.disks[2].read_only);
	ck_assert_uint_eq(c.nfs, 1);
	ck_assert_str_eq(c.fs[0].tag, "rootfs");
	ck_assert_str_eq(c.fs[0].dir, "/srv/root");
	ck_assert_str_eq(c.vsock.uds_path, "/run/v.sock");
	ck_assert_uint_eq(c.vsock.cid, 7);
	ck_assert_int_eq(parse(&c, "--kernel", "k", NULL), 0);
	ck_assert_ptr_null(c.vsock.uds_path);
	ck_assert_uint_eq(c.vsock.cid, 3);
	/* a share with no directory: the device without a back end */
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--fs", "rootfs", "--fs", "b=/d", NULL), 0);
	ck_assert_uint_eq(c.nfs, 2);
	ck_assert_str_eq(c.fs[0].tag, "rootfs");
	ck_assert_ptr_null(c.fs[0].dir);
	ck_assert_str_eq(c.fs[1].dir, "/d");
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--fs", "", NULL), -EINVAL);
	ck_assert_int_eq(
		parse(&c, "--kernel", "k", "--fs", "a-tag-of-thirty-six-bytes-is-too-lon", NULL),
		-EINVAL);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--fs", "=/d", NULL), -EINVAL);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--fs", "tag=", NULL), -EINVAL);
	ck_assert_int_eq(
		parse(&c, "--kernel", "k", "--fs", "a-tag-of-thirty-six-bytes-is-too-lon=/d", NULL),
		-EINVAL);
	char *long_path = malloc(PATH_MAX + 8);
	ck_assert_ptr_nonnull(long_path);
	memset(long_path, 'x', PATH_MAX + 4);
	strcpy(long_path + PATH_MAX + 4, ",ro");
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--disk", long_path, NULL), -EINVAL);
	free(long_path);
}
END_TEST

START_TEST(help_and_version)
{
	struct vmm_config c;
	ck_assert_int_eq(parse(&c, "--help", NULL), 0);
	ck_assert(c.help);
	ck_assert(!c.version);
	ck_assert_int_eq(parse(&c, "--version", NULL), 0);
	ck_assert(c.version);
	ck_assert(!c.help);
	/* --help wins over what would otherwise be an error later on */
	ck_assert_int_eq(parse(&c, "--help", "--cpus", "0", NULL), 0);
	ck_assert(c.help);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	config_usage(f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "--kernel"));
	ck_assert_ptr_nonnull(strstr(text, "--mem"));
	free(text);
}
END_TEST

START_TEST(parses_again_from_scratch)
{
	struct vmm_config c;
	ck_assert_int_eq(parse(&c, "--kernel", "a", "--cpus", "3", "--initrd", "i", NULL), 0);
	ck_assert_int_eq(parse(&c, "--cpus", "0", "--kernel", "x", NULL), -EINVAL);
	ck_assert_int_eq(parse(&c, "--help", "--kernel", "y", NULL), 0);
	ck_assert_int_eq(parse(&c, "--kernel", "b", NULL), 0);
	ck_assert_str_eq(c.kernel, "b");
	ck_assert_uint_eq(c.vcpus, 1);
	ck_assert_ptr_null(c.initrd);
	ck_assert(!c.help);
}
END_TEST

START_TEST(size_suffixes)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "0", 0 },
		{ "65536", 65536 },
		{ "4k", 4096 },
		{ "4K", 4096 },
		{ "128m", 128ULL << 20 },
		{ "128M", 128ULL << 20 },
		{ "128MiB", 128ULL << 20 },
		{ "2G", 2ULL << 30 },
		{ "2GiB", 2ULL << 30 },
		{ "3g", 3ULL << 30 },
		{ "1T", 1ULL << 40 },
		{ "1t", 1ULL << 40 },
		{ "8KiB", 8192 },
		{ "18446744073709551615", UINT64_MAX },
		{ "16777215T", 16777215ULL << 40 },
		{ "17179869183G", 17179869183ULL << 30 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 0xdeadbeef;
		ck_assert_msg(config_parse_size(good[i].s, &v) == 0, "'%s' rejected", good[i].s);
		ck_assert_msg(v == good[i].v, "'%s' -> %llu", good[i].s, (unsigned long long)v);
	}
}
END_TEST

START_TEST(size_rejects)
{
	static const char *const bad[] = {
		"",
		"M",
		"K",
		"-1",
		"+1",
		" 1",
		"1 ",
		"1X",
		"1Q",
		"1.0",
		"0x10",
		"1iB",
		"1MiBx",
		"1KB2",
		"1MM",
		"1Mi B",
		"18446744073709551616", /* 2^64 */
		"99999999999999999999999",
		"16777216T",	      /* 2^64 */
		"17179869184G",	      /* 2^64 */
		"18014398509481984K", /* 2^64 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 0x1234;
		ck_assert_msg(config_parse_size(bad[i], &v) == -EINVAL, "'%s' accepted", bad[i]);
		ck_assert_msg(v == 0x1234, "'%s' changed the output", bad[i]);
	}
	uint64_t v = 7;
	ck_assert_int_eq(config_parse_size(NULL, &v), -EINVAL);
	ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(net_devices)
{
	struct vmm_config c;
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--net", "tap=husktap0", "--net",
			       "tap=t1,mac=0A:58:0a:58:00:05,mtu=9000", "--net", "mtu=68,tap=t2",
			       NULL),
			 0);
	ck_assert_uint_eq(c.nnet, 3);
	ck_assert_str_eq(c.net[0].tap, "husktap0");
	const uint8_t mac0[6] = { 0x02, 0x68, 0x75, 0x73, 0x6b, 0x00 };
	ck_assert_mem_eq(c.net[0].mac, mac0, 6);
	ck_assert_uint_eq(c.net[0].mtu, 1500);
	ck_assert_str_eq(c.net[1].tap, "t1");
	const uint8_t mac1[6] = { 0x0a, 0x58, 0x0a, 0x58, 0x00, 0x05 };
	ck_assert_mem_eq(c.net[1].mac, mac1, 6);
	ck_assert_uint_eq(c.net[1].mtu, 9000);
	ck_assert_str_eq(c.net[2].tap, "t2");
	ck_assert_uint_eq(c.net[2].mac[5], 2); /* the default MAC carries the index */
	ck_assert_uint_eq(c.net[2].mtu, 68);
	/* no back end: none, with a MAC and MTU of its own or not, as often as wanted */
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--net", "none", "--net",
			       "none,mac=0A:58:0a:58:00:05,mtu=9000", "--net", "tap=t0", NULL),
			 0);
	ck_assert_uint_eq(c.nnet, 3);
	ck_assert_str_eq(c.net[0].tap, "");
	ck_assert_uint_eq(c.net[0].mac[5], 0);
	ck_assert_uint_eq(c.net[0].mtu, 1500);
	ck_assert_str_eq(c.net[1].tap, "");
	ck_assert_mem_eq(c.net[1].mac, mac1, 6);
	ck_assert_uint_eq(c.net[1].mtu, 9000);
	ck_assert_str_eq(c.net[2].tap, "t0");
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--net", "tap=123456789012345", NULL), 0);
	ck_assert_str_eq(c.net[0].tap, "123456789012345");
	ck_assert_int_eq(parse(&c, "--kernel", "k", NULL), 0);
	ck_assert_uint_eq(c.nnet, 0);

	static const char *const bad[] = {
		"",
		"tap=",
		"mac=02:00:00:00:00:01", /* no tap */
		"tap=1234567890123456",	 /* 16 bytes: longer than IFNAMSIZ allows */
		"tap=a/b",
		"tap=..",
		"tap=a,",
		",tap=a",
		"tap=a,,mtu=1500",
		"tap=a,mac=02:00:00:00:00",
		"tap=a,mac=02:00:00:00:00:0g",
		"tap=a,mac=02-00-00-00-00-01",
		"tap=a,mac=02:00:00:00:00:011",
		"tap=a,mac=01:00:5e:00:00:01", /* multicast */
		"tap=a,mtu=67",
		"tap=a,mtu=65536",
		"tap=a,mtu=",
		"tap=a,mtu=15x",
		"tap=a,mtu=-1",
		"tap=a,mtu=99999999999999",
		"tap=a,speed=10",
		"tap",
		"none,tap=a",
		"tap=a,none",
		"mtu=1500,none",
		"none=1",
		"nonex",
		"none,",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(&c, "--kernel", "k", "--net", bad[i], NULL) == -EINVAL,
			      "--net '%s' was taken", bad[i]);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--net", "tap=a", "--net", "tap=a", NULL),
			 -EINVAL);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--net", "tap=a", "--net", "tap=b", "--net",
			       "tap=c", "--net", "tap=d", "--net", "tap=e", NULL),
			 -EINVAL);
	ck_assert_int_eq(parse(&c, "--kernel", "k", "--net", "tap=a", "--net", "tap=b", "--net",
			       "tap=c", "--net", "tap=d", NULL),
			 0);
	ck_assert_uint_eq(c.nnet, 4);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, all_options);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, flavours);
	tcase_add_test(tc, missing_kernel);
	tcase_add_test(tc, bad_mem);
	tcase_add_test(tc, good_mem);
	tcase_add_test(tc, bad_cpus);
	tcase_add_test(tc, unknown_option_or_argument);
	tcase_add_test(tc, device_settings);
	tcase_add_test(tc, net_devices);
	tcase_add_test(tc, help_and_version);
	tcase_add_test(tc, parses_again_from_scratch);
	suite_add_tcase(s, tc);
	TCase *sz = tcase_create("size");
	tcase_add_test(sz, size_suffixes);
	tcase_add_test(sz, size_rejects);
	suite_add_tcase(s, sz);
	return s;
}

int main(void)
{
	return unit_run(config_suite());
}
