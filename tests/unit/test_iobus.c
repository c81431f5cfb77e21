/* Port I/O dispatch. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "devices/iobus.h"
#include "unit.h"

/* A device that records its last access and answers reads with its id. */
struct probe {
	uint8_t id;
	int reads, writes;
	uint16_t off;
	unsigned size;
	uint8_t data[4];
};

static void probe_read(void *dev, uint16_t off, uint8_t *data, unsigned size)
{
	struct probe *p = dev;
	p->reads++;
	p->off = off;
	p->size = size;
	memset(data, p->id, size);
}

static void probe_write(void *dev, uint16_t off, const uint8_t *data, unsigned size)
{
	struct probe *p = dev;
	p->writes++;
	p->off = off;
	p->size = size;
	memcpy(p->data, data, size < 4 ? size : 4);
}

static const struct io_device_ops probe_ops = { .read = probe_read, .write = probe_write };

START_TEST(overlapping_ranges_are_busy)
{
	struct iobus b;
	struct probe p = { .id = 1 };
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(iobus_register(&b, 0x3f8, 8, &probe_ops, &p), 0);
	ck_assert_int_eq(iobus_register(&b, 0x3f8, 8, &probe_ops, &p), -EBUSY);
	ck_assert_int_eq(iobus_register(&b, 0x3ff, 1, &probe_ops, &p), -EBUSY);
	ck_assert_int_eq(iobus_register(&b, 0x3f0, 9, &probe_ops, &p), -EBUSY);
	ck_assert_int_eq(iobus_register(&b, 0x3fa, 2, &probe_ops, &p), -EBUSY);
	ck_assert_int_eq(iobus_register(&b, 0x300, 0x200, &probe_ops, &p), -EBUSY);
	ck_assert_uint_eq(b.n, 1);
	/* touching is not overlapping */
	ck_assert_int_eq(iobus_register(&b, 0x3f0, 8, &probe_ops, &p), 0);
	ck_assert_int_eq(iobus_register(&b, 0x400, 1, &probe_ops, &p), 0);
	ck_assert_uint_eq(b.n, 3);
}
END_TEST

START_TEST(bad_ranges_are_refused)
{
	struct iobus b;
	struct probe p = { .id = 1 };
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(iobus_register(&b, 0x80, 0, &probe_ops, &p), -EINVAL);
	ck_assert_int_eq(iobus_register(&b, 0xffff, 2, &probe_ops, &p), -EINVAL);
	ck_assert_int_eq(iobus_register(&b, 0xfff0, 0xffff, &probe_ops, &p), -EINVAL);
	ck_assert_int_eq(iobus_register(&b, 0xffff, 1, &probe_ops, &p), 0);
	for (unsigned i = 1; i < IOBUS_MAX; i++)
		ck_assert_int_eq(
			iobus_register(&b, (uint16_t)(0x100 + 0x10 * i), 4, &probe_ops, &p), 0);
	ck_assert_int_eq(iobus_register(&b, 0x1000, 1, &probe_ops, &p), -EINVAL); /* full */
	ck_assert_uint_eq(b.n, IOBUS_MAX);
}
END_TEST

START_TEST(dispatch_by_port)
{
	struct iobus b;
	struct probe a = { .id = 0xa1 }, c = { .id = 0xc3 };
	uint8_t d[4];
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(iobus_register(&b, 0x3f8, 8, &probe_ops, &a), 0);
	ck_assert_int_eq(iobus_register(&b, 0xffff, 1, &probe_ops, &c), 0);

	iobus_access(&b, 0x3fb, false, d, 1);
	ck_assert_int_eq(a.reads, 1);
	ck_assert_uint_eq(a.off, 3);
	ck_assert_uint_eq(d[0], 0xa1);

	d[0] = 0x12;
	d[1] = 0x34;
	iobus_access(&b, 0x3f8, true, d, 2);
	ck_assert_int_eq(a.writes, 1);
	ck_assert_uint_eq(a.off, 0);
	ck_assert_uint_eq(a.size, 2);
	ck_assert_uint_eq(a.data[0], 0x12);
	ck_assert_uint_eq(a.data[1], 0x34);

	iobus_access(&b, 0xffff, false, d, 1);
	ck_assert_int_eq(c.reads, 1);
	ck_assert_uint_eq(c.off, 0);
	ck_assert_uint_eq(d[0], 0xc3);
	ck_assert_int_eq(a.reads, 1);
}
END_TEST

START_TEST(unclaimed_ports_float_high)
{
	struct iobus b;
	struct probe a = { .id = 0xa1 };
	uint8_t d[4] = { 0, 0, 0, 0 };
	memset(&b, 0, sizeof(b));
	iobus_access(&b, 0x80, false, d, 4); /* empty bus */
	ck_assert_uint_eq(d[0] & d[1] & d[2] & d[3], 0xff);

	ck_assert_int_eq(iobus_register(&b, 0x3f8, 8, &probe_ops, &a), 0);
	memset(d, 0, sizeof(d));
	iobus_access(&b, 0x3f7, false, d, 2);
	ck_assert_uint_eq(d[0], 0xff);
	ck_assert_uint_eq(d[1], 0xff);
	ck_assert_uint_eq(d[2], 0); /* only size bytes */
	memset(d, 0, sizeof(d));
	iobus_access(&b, 0x400, false, d, 1);
	ck_assert_uint_eq(d[0], 0xff);
	d[0] = 0x55;
	iobus_access(&b, 0x400, true, d, 1); /* dropped */
	ck_assert_uint_eq(d[0], 0x55);
	ck_assert_int_eq(a.reads + a.writes, 0);
}
END_TEST

static Suite *iobus_suite(void)
{
	Suite *s = suite_create("iobus");
	TCase *tc = tcase_create("bus");
	tcase_add_test(tc, overlapping_ranges_are_busy);
	tcase_add_test(tc, bad_ranges_are_refused);
	tcase_add_test(tc, dispatch_by_port);
	tcase_add_test(tc, unclaimed_ports_float_high);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(iobus_suite());
}
