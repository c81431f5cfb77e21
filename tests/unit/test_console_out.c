/* Console output: lines to the fd, hooks for the first byte and each line. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "devices/console_out.h"
#include "unit.h"

static int firsts, lines;
static char last[CONSOLE_LINE_MAX + 1];

static void on_first(void *ctx)
{
	(void)ctx;
	firsts++;
}

static void on_line(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	lines++;
	memcpy(last, line, len);
	last[len] = '\0';
}

static const struct console_hooks hooks = { .first_byte = on_first, .line = on_line };

START_TEST(lines_hooks_and_flush)
{
	int p[2];
	char buf[2048];
	struct console_out co;
	firsts = lines = 0;
	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	console_out_init(&co, p[1], &hooks, NULL);
	console_out_put(&co, "", 0);
	ck_assert_int_eq(firsts, 0);
	console_out_put(&co, "hello\nwor", 9);
	ck_assert_int_eq(firsts, 1);
	ck_assert_int_eq(lines, 1);
	ck_assert_str_eq(last, "hello\n");
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), 6); /* the partial line waits */
	console_out_put(&co, "ld", 2);
	console_out_flush(&co);
	ck_assert_int_eq(firsts, 1);
	ck_assert_str_eq(last, "world");
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), 5);
	/* a line longer than the buffer comes out in pieces, nothing lost */
	char big[CONSOLE_LINE_MAX + 10];
	memset(big, 'x', sizeof(big));
	console_out_put(&co, big, sizeof(big));
	console_out_destroy(&co);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), (int)sizeof(big));
	close(p[0]);
	close(p[1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("console_out");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, lines_hooks_and_flush);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
