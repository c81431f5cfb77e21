/* The x86 port's i8042: its reset command on the port-I/O bus. */
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/i8042.h"
#include "devices/iobus.h"
#include "unit.h"

static void count_reset(void *ctx)
{
	(*(int *)ctx)++;
}

START_TEST(i8042_reset_command)
{
	struct iobus b;
	int resets = 0;
	struct i8042 k = { .reset = count_reset, .ctx = &resets };
	uint8_t d;
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(iobus_register(&b, I8042_BASE, I8042_PORTS, &i8042_io_ops, &k), 0);

	static const uint8_t others[] = { 0x00, 0x20, 0x60, 0xaa, 0xad, 0xd1, 0xf0, 0xff };
	for (size_t i = 0; i < sizeof(others); i++) {
		d = others[i];
		iobus_access(&b, 0x64, true, &d, 1);
	}
	d = 0xfe;
	iobus_access(&b, 0x60, true, &d, 1); /* data port: not a command */
	iobus_access(&b, 0x61, true, &d, 1);
	ck_assert_int_eq(resets, 0);

	d = 0xfe;
	iobus_access(&b, 0x64, true, &d, 1);
	ck_assert_int_eq(resets, 1);

	d = 0xff;
	iobus_access(&b, 0x64, false, &d, 1);
	ck_assert_uint_eq(d, 0); /* status: nothing buffered */
	d = 0xff;
	iobus_access(&b, 0x60, false, &d, 1);
	ck_assert_uint_eq(d, 0);
	ck_assert_int_eq(resets, 1);
}
END_TEST

START_TEST(i8042_without_hook)
{
	struct iobus b;
	struct i8042 k = { .reset = NULL, .ctx = NULL };
	uint8_t d = 0xfe;
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(iobus_register(&b, I8042_BASE, I8042_PORTS, &i8042_io_ops, &k), 0);
	iobus_access(&b, 0x64, true, &d, 1);
	ck_assert_uint_eq(d, 0xfe);
}
END_TEST

static Suite *i8042_suite(void)
{
	Suite *s = suite_create("i8042");
	TCase *kb = tcase_create("i8042");
	tcase_add_test(kb, i8042_reset_command);
	tcase_add_test(kb, i8042_without_hook);
	suite_add_tcase(s, kb);
	return s;
}

int main(void)
{
	return unit_run(i8042_suite());
}
