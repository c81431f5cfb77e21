/* The device module table: every module complete, its options unique and in --help. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "devices/device_module.h"
#include "unit.h"

START_TEST(every_module_is_complete)
{
	unsigned n = 0;
	for (const struct device_module *const *dm = device_modules; *dm; dm++, n++) {
		ck_assert_ptr_nonnull((*dm)->name);
		ck_assert_ptr_nonnull((*dm)->opts);
		ck_assert_ptr_nonnull((*dm)->opts[0].name);
		ck_assert_ptr_nonnull((*dm)->usage);
		ck_assert_ptr_nonnull((*dm)->parse);
		ck_assert_ptr_nonnull((*dm)->add);
		for (const struct option *o = (*dm)->opts; o->name; o++) {
			ck_assert_int_ge(o->val, 0);
			ck_assert_int_lt(o->val, DEVICE_MODULE_MAX_OPTS);
			char flag[64];
			snprintf(flag, sizeof(flag), "--%s ", o->name);
			ck_assert_msg(strstr((*dm)->usage, flag), "%s: %s not in its usage",
				      (*dm)->name, flag);
		}
	}
	ck_assert_uint_eq(n, 5); /* rng, blk, fs, net, vsock */
	ck_assert_uint_le(n, DEVICE_MODULES_MAX);
}
END_TEST

/* No two modules offer one option, and each one's usage is in husk-vmm --help. */
START_TEST(options_are_unique_and_documented)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	config_usage(f);
	fclose(f);
	for (const struct device_module *const *a = device_modules; *a; a++) {
		ck_assert_ptr_nonnull(strstr(text, (*a)->usage));
		for (const struct option *o = (*a)->opts; o->name; o++)
			for (const struct device_module *const *b = device_modules; *b; b++)
				for (const struct option *p = (*b)->opts; p->name; p++)
					if (o != p)
						ck_assert_str_ne(o->name, p->name);
	}
	free(text);
}
END_TEST

/* A module's option reaches its parser through config_parse, with its default first. */
START_TEST(config_parse_dispatches_to_modules)
{
	struct vmm_config c;
	char *argv[] = { "husk-vmm",	"--kernel", "k",     "--no-rng",    "--disk",
			 "a.img,ro",	"--fs",	    "t=/d",  "--vsock-uds", "/v",
			 "--vsock-cid", "9",	    "--net", "tap=t0",	    NULL };
	ck_assert_int_eq(config_parse(&c, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, NULL),
			 0);
	ck_assert(c.no_rng);
	ck_assert_uint_eq(c.ndisks, 1);
	ck_assert(c.disks[0].read_only);
	ck_assert_uint_eq(c.nfs, 1);
	ck_assert_str_eq(c.vsock.uds_path, "/v");
	ck_assert_uint_eq(c.vsock.cid, 9);
	ck_assert_uint_eq(c.nnet, 1);
	char *argv2[] = { "husk-vmm", "--kernel", "k", NULL };
	ck_assert_int_eq(config_parse(&c, 3, argv2, NULL), 0);
	ck_assert_uint_eq(c.vsock.cid, 3); /* the vsock module's default */
	ck_assert(!c.no_rng);
	char *argv3[] = { "husk-vmm", "--kernel", "k", "--vsock-cid", "2", NULL };
	ck_assert_int_eq(config_parse(&c, 5, argv3, NULL), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("device_modules");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, every_module_is_complete);
	tcase_add_test(tc, options_are_unique_and_documented);
	tcase_add_test(tc, config_parse_dispatches_to_modules);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
