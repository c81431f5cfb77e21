/* flavour_detect against a fake sysfs tree in a temporary directory. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/flavour.h"
#include "unit.h"

static char root[PATH_MAX];

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(root, sizeof(root), "%s/husk-flavour-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_int_lt(n, (int)sizeof(root));
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void sub(char *out, const char *rel)
{
	ck_assert_int_lt(snprintf(out, PATH_MAX, "%s/%s", root, rel), PATH_MAX);
}

static void teardown(void)
{
	char p[PATH_MAX];
	sub(p, "module/kvm_pvm");
	rmdir(p);
	unlink(p);
	sub(p, "module");
	rmdir(p);
	rmdir(root);
}

static void make_pvm_module(void)
{
	char p[PATH_MAX];
	sub(p, "module");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	sub(p, "module/kvm_pvm");
	ck_assert_int_eq(mkdir(p, 0755), 0);
}

START_TEST(auto_without_kvm_pvm_is_hardware)
{
	const struct kvm_flavour *fl = flavour_detect(FLAVOUR_AUTO, root);
	ck_assert_ptr_nonnull(fl);
	ck_assert_str_eq(fl->name, "hardware");
	ck_assert_str_eq(fl->cmdline, "");

	/* a module directory holding something else changes nothing */
	char p[PATH_MAX];
	sub(p, "module");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	ck_assert_str_eq(flavour_detect(FLAVOUR_AUTO, root)->name, "hardware");
	ck_assert_str_eq(flavour_detect(FLAVOUR_AUTO, "/nonexistent/husk")->name, "hardware");
}
END_TEST

START_TEST(auto_with_kvm_pvm_is_pvm)
{
	make_pvm_module();
	const struct kvm_flavour *fl = flavour_detect(FLAVOUR_AUTO, root);
	ck_assert_ptr_nonnull(fl);
	ck_assert_str_eq(fl->name, "pvm");
	ck_assert_ptr_nonnull(strstr(fl->cmdline, "pvm_compat"));
}
END_TEST

START_TEST(explicit_choice_wins)
{
	make_pvm_module();
	ck_assert_str_eq(flavour_detect(FLAVOUR_HARDWARE, root)->name, "hardware");
	ck_assert_str_eq(flavour_detect(FLAVOUR_PVM, "/nonexistent")->name, "pvm");
	/* the same object every time: callers may keep the pointer */
	ck_assert_ptr_eq(flavour_detect(FLAVOUR_PVM, "/nonexistent"),
			 flavour_detect(FLAVOUR_AUTO, root));
}
END_TEST

START_TEST(pvm_cmdline_words)
{
	const struct kvm_flavour *fl = flavour_detect(FLAVOUR_PVM, "/nonexistent");
	/* whole words, space separated, no leading or trailing space */
	char line[256];
	snprintf(line, sizeof(line), " %s ", fl->cmdline);
	ck_assert_ptr_nonnull(strstr(line, " pvm_compat "));
	ck_assert_ptr_nonnull(strstr(line, " noxsave "));
	ck_assert_ptr_nonnull(strstr(line, " mmap_readaround_kb=16 "));
	ck_assert_int_ne(fl->cmdline[0], ' ');
	ck_assert_int_ne(fl->cmdline[strlen(fl->cmdline) - 1], ' ');
}
END_TEST

static Suite *flavour_suite(void)
{
	Suite *s = suite_create("flavour");
	TCase *tc = tcase_create("detect");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, auto_without_kvm_pvm_is_hardware);
	tcase_add_test(tc, auto_with_kvm_pvm_is_pvm);
	tcase_add_test(tc, explicit_choice_wins);
	tcase_add_test(tc, pvm_cmdline_words);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(flavour_suite());
}
