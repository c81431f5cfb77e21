/*
 * Shared by the unit tests of option parsers: a writable argv (getopt
 * permutes it), "husk-vmm" and then the test's words, freed after each test.
 */
#ifndef HUSK_TESTS_TEST_ARGV_H
#define HUSK_TESTS_TEST_ARGV_H

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define TEST_ARGV_MAX 24

struct test_argv {
	int argc;
	char *argv[TEST_ARGV_MAX + 1];
};

static inline void test_argv_free(struct test_argv *a)
{
	for (int i = 0; i < a->argc; i++)
		free(a->argv[i]);
	memset(a, 0, sizeof(*a));
}

/* a's old words freed; then "husk-vmm" and the words of ap (up to a NULL). */
static inline void test_argv_set(struct test_argv *a, va_list ap)
{
	test_argv_free(a);
	a->argv[a->argc++] = strdup("husk-vmm");
	for (const char *w; (w = va_arg(ap, const char *)) != NULL;) {
		ck_assert_int_lt(a->argc, TEST_ARGV_MAX);
		a->argv[a->argc++] = strdup(w);
	}
	a->argv[a->argc] = NULL;
}

#endif
