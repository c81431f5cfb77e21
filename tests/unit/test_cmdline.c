/* The kernel command line builder: words joined by single spaces, bounded by ARCH_CMDLINE_MAX. */
#include <errno.h>
#include <string.h>

#include "boot/cmdline.h"
#include "unit.h"

static void fill(char *buf, size_t n, char c)
{
	memset(buf, c, n);
	buf[n] = '\0';
}

START_TEST(init_is_empty)
{
	struct cmdline c;
	memset(&c, 'x', sizeof(c));
	cmdline_init(&c);
	ck_assert_str_eq(c.buf, "");
	ck_assert_uint_eq(c.len, 0);
}
END_TEST

START_TEST(append_joins_with_one_space)
{
	struct cmdline c;
	cmdline_init(&c);
	ck_assert_int_eq(cmdline_append(&c, "console=ttyS0"), 0);
	ck_assert_str_eq(c.buf, "console=ttyS0");
	ck_assert_int_eq(cmdline_append(&c, "reboot=k panic=-1"), 0);
	ck_assert_str_eq(c.buf, "console=ttyS0 reboot=k panic=-1");
	ck_assert_int_eq(cmdline_append(&c, "quiet"), 0);
	ck_assert_str_eq(c.buf, "console=ttyS0 reboot=k panic=-1 quiet");
	ck_assert_uint_eq(c.len, strlen(c.buf));
}
END_TEST

START_TEST(empty_append_is_a_no_op)
{
	struct cmdline c;
	cmdline_init(&c);
	ck_assert_int_eq(cmdline_append(&c, ""), 0);
	ck_assert_str_eq(c.buf, "");
	ck_assert_uint_eq(c.len, 0);
	ck_assert_int_eq(cmdline_append(&c, "a"), 0);
	ck_assert_int_eq(cmdline_append(&c, ""), 0);
	ck_assert_str_eq(c.buf, "a"); /* no trailing space */
	ck_assert_uint_eq(c.len, 1);
	ck_assert_int_eq(cmdline_appendf(&c, "%s", ""), 0);
	ck_assert_str_eq(c.buf, "a");
}
END_TEST

START_TEST(appendf_formats)
{
	struct cmdline c;
	cmdline_init(&c);
	ck_assert_int_eq(cmdline_appendf(&c, "maxcpus=%u", 4u), 0);
	ck_assert_int_eq(cmdline_appendf(&c, "%s=%#x", "memmap", 0x1000), 0);
	ck_assert_str_eq(c.buf, "maxcpus=4 memmap=0x1000");
	ck_assert_uint_eq(c.len, strlen(c.buf));
}
END_TEST

START_TEST(fills_to_the_last_byte)
{
	static char big[ARCH_CMDLINE_MAX + 8];
	struct cmdline c;
	cmdline_init(&c);
	fill(big, ARCH_CMDLINE_MAX - 1, 'a');
	ck_assert_int_eq(cmdline_append(&c, big), 0);
	ck_assert_uint_eq(c.len, ARCH_CMDLINE_MAX - 1);
	ck_assert_uint_eq(strlen(c.buf), ARCH_CMDLINE_MAX - 1);

	/* a separate start: two words that together take the last byte */
	cmdline_init(&c);
	fill(big, ARCH_CMDLINE_MAX - 3, 'b');
	ck_assert_int_eq(cmdline_append(&c, big), 0);
	ck_assert_int_eq(cmdline_append(&c, "c"), 0);
	ck_assert_uint_eq(c.len, ARCH_CMDLINE_MAX - 1);
	ck_assert_uint_eq(c.buf[ARCH_CMDLINE_MAX - 3], ' ');
	ck_assert_uint_eq(c.buf[ARCH_CMDLINE_MAX - 2], 'c');
	ck_assert_uint_eq(c.buf[ARCH_CMDLINE_MAX - 1], '\0');
}
END_TEST

START_TEST(overflow_is_e2big_and_leaves_line_unchanged)
{
	static char big[ARCH_CMDLINE_MAX + 8];
	struct cmdline c, before;
	cmdline_init(&c);
	ck_assert_int_eq(cmdline_append(&c, "console=ttyS0"), 0);
	before = c;

	fill(big, ARCH_CMDLINE_MAX - c.len - 1, 'x'); /* + the space: one byte too many */
	ck_assert_int_eq(cmdline_append(&c, big), -E2BIG);
	ck_assert_str_eq(c.buf, "console=ttyS0");
	ck_assert_uint_eq(c.len, before.len);
	ck_assert_mem_eq(c.buf, before.buf, sizeof(c.buf));

	fill(big, ARCH_CMDLINE_MAX, 'y');
	ck_assert_int_eq(cmdline_append(&c, big), -E2BIG);
	ck_assert_int_eq(cmdline_appendf(&c, "%s", big), -E2BIG);
	ck_assert_mem_eq(c.buf, before.buf, sizeof(c.buf));
	ck_assert_uint_eq(c.len, before.len);

	/* one byte less fits */
	fill(big, ARCH_CMDLINE_MAX - c.len - 2, 'z');
	ck_assert_int_eq(cmdline_append(&c, big), 0);
	ck_assert_uint_eq(c.len, ARCH_CMDLINE_MAX - 1);
	/* and now the line is full */
	before = c;
	ck_assert_int_eq(cmdline_append(&c, "q"), -E2BIG);
	ck_assert_int_eq(cmdline_appendf(&c, "%d", 1), -E2BIG);
	ck_assert_mem_eq(c.buf, before.buf, sizeof(c.buf));
	ck_assert_uint_eq(c.len, before.len);
}
END_TEST

START_TEST(overflow_on_empty_line)
{
	static char big[ARCH_CMDLINE_MAX + 8];
	struct cmdline c;
	cmdline_init(&c);
	fill(big, ARCH_CMDLINE_MAX, 'a');
	ck_assert_int_eq(cmdline_append(&c, big), -E2BIG);
	ck_assert_str_eq(c.buf, "");
	ck_assert_uint_eq(c.len, 0);
}
END_TEST

static Suite *cmdline_suite(void)
{
	Suite *s = suite_create("cmdline");
	TCase *tc = tcase_create("append");
	tcase_add_test(tc, init_is_empty);
	tcase_add_test(tc, append_joins_with_one_space);
	tcase_add_test(tc, empty_append_is_a_no_op);
	tcase_add_test(tc, appendf_formats);
	tcase_add_test(tc, fills_to_the_last_byte);
	tcase_add_test(tc, overflow_is_e2big_and_leaves_line_unchanged);
	tcase_add_test(tc, overflow_on_empty_line);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(cmdline_suite());
}
