/*
 * husk-vmm's container options, read in the same pass as the VM's:
 * --spec and what goes with it, and the one --help for both.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim_options.h"
#include "test_argv.h"
#include "unit.h"

static struct test_argv A;

/* Parse "husk-vmm" followed by the given words (NULL-terminated). */
static int parse(struct shim_options *o, struct vmm_config *c, ...)
{
	va_list ap;
	va_start(ap, c);
	test_argv_set(&A, ap);
	va_end(ap);
	return shim_options_parse(o, c, A.argc, A.argv);
}

static void teardown(void)
{
	test_argv_free(&A);
}

START_TEST(spec_options)
{
	struct shim_options o;
	struct vmm_config c;
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--spec", "config.json", "--binds-dir",
			       "/run/husk/c1/binds", NULL),
			 0);
	ck_assert_str_eq(o.spec, "config.json");
	ck_assert_str_eq(o.binds_dir, "/run/husk/c1/binds");
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--spec", "config.json", NULL), 0);
	ck_assert_ptr_null(o.binds_dir); /* a fresh directory in /tmp then */
	ck_assert(!o.netns_own);
	ck_assert_int_eq(
		parse(&o, &c, "--kernel", "k", "--spec", "config.json", "--netns-own", NULL), 0);
	ck_assert(o.netns_own);
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--netns-own", NULL), -EINVAL);
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--binds-dir", "/d", NULL), -EINVAL);
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--control", "/c.sock", NULL), -EINVAL);
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--ready-fd", "3", NULL), -EINVAL);
	ck_assert_ptr_null(o.steps);
	ck_assert_int_eq(
		parse(&o, &c, "--kernel", "k", "--spec", "config.json", "--steps", "-", NULL), 0);
	ck_assert_str_eq(o.steps, "-");
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--steps", "/s.json", NULL), -EINVAL);
}
END_TEST

/* The template options husk passes: taken and kept, for the container side. */
START_TEST(template_options)
{
	struct shim_options o;
	struct vmm_config c;
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--spec", "config.json", NULL), 0);
	ck_assert_ptr_null(o.template_dir);
	ck_assert(!o.no_template);
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--spec", "config.json", "--template-dir",
			       "/var/cache/husk/templates", NULL),
			 0);
	ck_assert_str_eq(o.template_dir, "/var/cache/husk/templates");
	ck_assert(!o.no_template);
	ck_assert_int_eq(
		parse(&o, &c, "--kernel", "k", "--spec", "config.json", "--no-template", NULL), 0);
	ck_assert_ptr_null(o.template_dir);
	ck_assert(o.no_template);
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--spec", "s", "--template-dir", NULL),
			 -EINVAL);
}
END_TEST

/* What husk passes: the container's options among the VM's, both read. */
START_TEST(with_vm_options)
{
	struct shim_options o;
	struct vmm_config c;
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--spec", "b/config.json", "--id", "c1",
			       "--control", "control.sock", "--vsock-uds", "vsock.sock",
			       "--binds-dir=binds", "--mem", "256M", "--ready-fd", "3", "--cmdline",
			       "--id", NULL),
			 0);
	ck_assert_str_eq(o.spec, "b/config.json");
	ck_assert_str_eq(o.container_id, "c1");
	ck_assert_str_eq(o.control, "control.sock");
	ck_assert_str_eq(o.binds_dir, "binds");
	ck_assert_int_eq(o.ready_fd, 3);
	ck_assert_str_eq(c.kernel, "k");
	ck_assert_str_eq(c.vsock.uds_path, "vsock.sock");
	ck_assert_uint_eq(c.mem_bytes, 256ULL << 20);
	ck_assert_str_eq(c.cmdline, "--id"); /* a value, not an option */
}
END_TEST

START_TEST(defaults)
{
	struct shim_options o;
	struct vmm_config c;
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", NULL), 0);
	ck_assert_ptr_null(o.spec);
	ck_assert_str_eq(o.container_id, "husk");
	ck_assert_ptr_null(o.control);
	ck_assert_int_eq(o.ready_fd, -1);
	ck_assert_ptr_null(o.binds_dir);
	/* parsed again from scratch */
	ck_assert_int_eq(
		parse(&o, &c, "--kernel", "k", "--spec", "s", "--id", "x", "--ready-fd", "5", NULL),
		0);
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", NULL), 0);
	ck_assert_ptr_null(o.spec);
	ck_assert_str_eq(o.container_id, "husk");
	ck_assert_int_eq(o.ready_fd, -1);
}
END_TEST

START_TEST(bad_values)
{
	struct shim_options o;
	struct vmm_config c;
	static const char *const bad_fd[] = { "0", "2", "-1", "x", "3x", "", "65536" };
	for (size_t i = 0; i < sizeof(bad_fd) / sizeof(bad_fd[0]); i++)
		ck_assert_msg(parse(&o, &c, "--kernel", "k", "--spec", "s", "--ready-fd", bad_fd[i],
				    NULL) == -EINVAL,
			      "'%s' accepted", bad_fd[i]);
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--spec", "s", "--ready-fd", "65535", NULL),
			 0);
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--spec", NULL), -EINVAL);
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--frobnicate", NULL), -EINVAL);
	/* the VM's checks still run */
	ck_assert_int_eq(parse(&o, &c, "--spec", "s", NULL), -EINVAL);
	ck_assert_int_eq(parse(&o, &c, "--kernel", "k", "--spec", "s", "--cpus", "0", NULL),
			 -EINVAL);
	/* --help wins */
	ck_assert_int_eq(parse(&o, &c, "--help", "--control", "c", NULL), 0);
	ck_assert(c.help);
}
END_TEST

START_TEST(usage_lists_every_option)
{
	static const char *const names[] = {
		"--kernel",	  "--initrd",	   "--cmdline",	       "--mem",
		"--cpus",	  "--console",	   "--console-device", "--timings",
		"--kvm-device",	  "--kvm-flavour", "--disk",	       "--fs",
		"--no-rng",	  "--vsock-uds",   "--vsock-cid",      "--print-cmdline",
		"--help",	  "--version",	   "--spec",	       "--id",
		"--control",	  "--ready-fd",	   "--binds-dir",      "--netns-own",
		"--template-dir", "--no-template", "--steps",	       "Exit status",
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	shim_options_usage(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_msg(strstr(text, names[i]), "%s not in --help", names[i]);
	free(text);
}
END_TEST

static Suite *shim_options_suite(void)
{
	Suite *s = suite_create("shim_options");
	TCase *tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, spec_options);
	tcase_add_test(tc, with_vm_options);
	tcase_add_test(tc, template_options);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, bad_values);
	tcase_add_test(tc, usage_lists_every_option);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(shim_options_suite());
}
