/* The 16550A model through the port bus: output to a pipe, registers, the THRE interrupt, hooks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/iobus.h"
#include "devices/serial.h"
#include "unit.h"

#define COM1 0x3f8 /* where the x86 port puts it; any base serves */
enum { THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

struct events {
	int irq_calls, level, first_bytes, lines;
	char line[4][SERIAL_LINE_MAX + 1];
	size_t line_len[4];
};

static void on_irq(void *ctx, int level)
{
	struct events *e = ctx;
	e->irq_calls++;
	e->level = level;
}

static void on_first_byte(void *ctx)
{
	((struct events *)ctx)->first_bytes++;
}

static void on_line(void *ctx, const char *line, size_t len)
{
	struct events *e = ctx;
	if (e->lines < 4) {
		memcpy(e->line[e->lines], line, len);
		e->line[e->lines][len] = '\0';
		e->line_len[e->lines] = len;
	}
	e->lines++;
}

static const struct serial_hooks hooks = {
	.irq = on_irq,
	.first_byte = on_first_byte,
	.line = on_line,
};

static struct serial s;
static struct iobus bus;
static struct events ev;
static int pfd[2];

static void setup(void)
{
	ck_assert_int_eq(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
	memset(&ev, 0, sizeof(ev));
	memset(&bus, 0, sizeof(bus));
	serial_init(&s, pfd[1], &hooks, &ev);
	ck_assert_int_eq(iobus_register(&bus, COM1, SERIAL_PORTS, &serial_io_ops, &s), 0);
}

static void teardown(void)
{
	serial_destroy(&s);
	close(pfd[0]);
	close(pfd[1]);
}

static uint8_t in(unsigned reg)
{
	uint8_t v = 0x5a;
	iobus_access(&bus, (uint16_t)(COM1 + reg), false, &v, 1);
	return v;
}

static void out(unsigned reg, uint8_t v)
{
	iobus_access(&bus, (uint16_t)(COM1 + reg), true, &v, 1);
}

static void send(const char *str)
{
	while (*str)
		out(THR, (uint8_t)*str++);
}

/* Whatever is waiting in the pipe, as a string. */
static const char *drain(void)
{
	static char buf[4096];
	ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
	if (n < 0) {
		ck_assert_int_eq(errno, EAGAIN);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

START_TEST(output_reaches_the_fd)
{
	send("hello\n");
	ck_assert_str_eq(drain(), "hello\n");
	/* a partial line waits for its newline, or a flush */
	send("abc");
	ck_assert_str_eq(drain(), "");
	serial_flush(&s);
	ck_assert_str_eq(drain(), "abc");
	serial_flush(&s);
	ck_assert_str_eq(drain(), "");
}
END_TEST

START_TEST(destroy_flushes)
{
	send("tail");
	serial_destroy(&s);
	ck_assert_str_eq(drain(), "tail");
	serial_init(&s, pfd[1], &hooks, &ev); /* for teardown */
}
END_TEST

START_TEST(line_status_and_modem_status)
{
	ck_assert_uint_eq(in(LSR), 0x60);
	send("x");
	ck_assert_uint_eq(in(LSR), 0x60);
	out(LSR, 0x00); /* read-only */
	ck_assert_uint_eq(in(LSR), 0x60);
	ck_assert_uint_eq(in(MSR), 0xb0);
	ck_assert_uint_eq(in(THR), 0); /* no input */
}
END_TEST

START_TEST(thre_interrupt)
{
	ck_assert_uint_eq(in(IIR), 0x01);
	ck_assert_int_eq(ev.irq_calls, 0);

	out(IER, 0x02);
	ck_assert_int_eq(ev.irq_calls, 1);
	ck_assert_int_eq(ev.level, 1);
	ck_assert_uint_eq(in(IER), 0x02);

	ck_assert_uint_eq(in(IIR), 0x02); /* reading it acknowledges */
	ck_assert_int_eq(ev.level, 0);
	ck_assert_int_eq(ev.irq_calls, 2);
	ck_assert_uint_eq(in(IIR), 0x01);
	ck_assert_int_eq(ev.irq_calls, 2);

	/* each byte sent empties THR again */
	send("a");
	ck_assert_int_eq(ev.level, 1);
	ck_assert_uint_eq(in(IIR), 0x02);
	ck_assert_int_eq(ev.level, 0);

	/* interrupt disabled: no line change */
	out(IER, 0x00);
	send("b");
	ck_assert_int_eq(ev.level, 0);
	ck_assert_uint_eq(in(IIR), 0x01);
}
END_TEST

START_TEST(thre_interrupt_with_fifo)
{
	out(FCR, 0x07);
	ck_assert_uint_eq(in(IIR), 0xc1);
	out(IER, 0x02);
	ck_assert_int_eq(ev.level, 1);
	ck_assert_uint_eq(in(IIR), 0xc2);
	ck_assert_int_eq(ev.level, 0);
	ck_assert_uint_eq(in(IIR), 0xc1);
	out(FCR, 0x00);
	ck_assert_uint_eq(in(IIR), 0x01);
}
END_TEST

START_TEST(disabling_ier_lowers_the_line)
{
	out(IER, 0x02);
	ck_assert_int_eq(ev.level, 1);
	out(IER, 0x00);
	ck_assert_int_eq(ev.level, 0);
	ck_assert_uint_eq(in(IIR), 0x01);
	out(IER, 0xff);
	ck_assert_uint_eq(in(IER), 0x0f); /* only the defined bits */
}
END_TEST

START_TEST(dlab_selects_divisor_latches)
{
	out(IER, 0x01);
	out(LCR, 0x83);
	ck_assert_uint_eq(in(LCR), 0x83);
	out(THR, 0x01); /* DLL */
	out(IER, 0x02); /* DLM */
	ck_assert_uint_eq(in(THR), 0x01);
	ck_assert_uint_eq(in(IER), 0x02);
	ck_assert_int_eq(ev.first_bytes, 0);
	ck_assert_int_eq(ev.irq_calls, 0);
	serial_flush(&s);
	ck_assert_str_eq(drain(), "");

	out(LCR, 0x03);
	ck_assert_uint_eq(in(IER), 0x01); /* the real IER again */
	ck_assert_uint_eq(in(THR), 0x00);
	send("ok\n");
	ck_assert_str_eq(drain(), "ok\n");
	out(LCR, 0x83);
	ck_assert_uint_eq(in(THR), 0x01); /* divisor kept */
	ck_assert_uint_eq(in(IER), 0x02);
}
END_TEST

START_TEST(line_hook_gets_whole_lines)
{
	send("ab\ncd\n\n");
	ck_assert_int_eq(ev.lines, 3);
	ck_assert_str_eq(ev.line[0], "ab\n");
	ck_assert_uint_eq(ev.line_len[0], 3);
	ck_assert_str_eq(ev.line[1], "cd\n");
	ck_assert_str_eq(ev.line[2], "\n");
	send("half");
	ck_assert_int_eq(ev.lines, 3);
	send(" done\n");
	ck_assert_int_eq(ev.lines, 4);
	ck_assert_str_eq(ev.line[3], "half done\n");
	ck_assert_str_eq(drain(), "ab\ncd\n\nhalf done\n");
}
END_TEST

START_TEST(long_line_is_cut_at_buffer_size)
{
	char big[SERIAL_LINE_MAX + 11];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[sizeof(big) - 2] = '\n';
	send(big);
	ck_assert_int_eq(ev.lines, 2);
	ck_assert_uint_eq(ev.line_len[0], SERIAL_LINE_MAX);
	ck_assert_uint_eq(ev.line_len[1], 10);
	ck_assert_str_eq(drain(), big);
}
END_TEST

START_TEST(first_byte_fires_once)
{
	ck_assert_int_eq(ev.first_bytes, 0);
	send("a");
	ck_assert_int_eq(ev.first_bytes, 1);
	send("bc\nd");
	ck_assert_int_eq(ev.first_bytes, 1);
}
END_TEST

START_TEST(scratch_register_round_trips)
{
	for (unsigned v = 0; v < 256; v++) {
		out(SCR, (uint8_t)v);
		ck_assert_uint_eq(in(SCR), v);
	}
	ck_assert_str_eq(drain(), "");
}
END_TEST

START_TEST(loopback_sends_nothing)
{
	out(MCR, 0xff);
	ck_assert_uint_eq(in(MCR), 0x1f);
	ck_assert_uint_eq(in(MSR), 0xf0); /* DTR, RTS, OUT1, OUT2 looped back */
	out(MCR, 0x10 | 0x01);
	ck_assert_uint_eq(in(MSR), 0x20); /* DTR -> DSR */
	send("lost\n");
	ck_assert_int_eq(ev.first_bytes, 0);
	ck_assert_int_eq(ev.lines, 0);
	ck_assert_str_eq(drain(), "");
	out(MCR, 0x03);
	send("kept\n");
	ck_assert_str_eq(drain(), "kept\n");
}
END_TEST

START_TEST(wide_reads_are_zero_extended)
{
	uint8_t d[4] = { 0xaa, 0xaa, 0xaa, 0xaa };
	iobus_access(&bus, COM1 + LSR, false, d, 4);
	ck_assert_uint_eq(d[0], 0x60);
	ck_assert_uint_eq(d[1] | d[2] | d[3], 0);
}
END_TEST

START_TEST(reader_gone_drops_output)
{
	signal(SIGPIPE, SIG_IGN);
	close(pfd[0]);
	pfd[0] = open("/dev/null", O_RDONLY);
	send("nobody listens\n");
	ck_assert_int_eq(ev.lines, 1);
	ck_assert_uint_eq(in(LSR), 0x60);
}
END_TEST

/* A second UART, as a restore finds it. */
static uint8_t in2(struct serial *u, unsigned reg)
{
	uint8_t v = 0x5a;
	serial_io_ops.read(u, (uint16_t)reg, &v, 1);
	return v;
}

START_TEST(snapshot_round_trip)
{
	out(LCR, 0x80);
	out(THR, 0x01); /* divisor 0x0201 */
	out(IER, 0x02);
	out(LCR, 0x03);
	out(FCR, 0x01);
	out(MCR, 0x0b);
	out(SCR, 0x42);
	out(IER, 0x02); /* THRE interrupt: the line is up */
	ck_assert_int_eq(ev.level, 1);

	void *b;
	size_t n;
	ck_assert_int_eq(serial_save(&s, &b, &n), 0);

	struct serial u;
	struct events ev2 = { 0 };
	serial_init(&u, pfd[1], &hooks, &ev2);
	ck_assert_int_eq(serial_restore(&u, b, n), 0);
	ck_assert_int_eq(ev2.irq_calls, 1); /* KVM hears the line's level again */
	ck_assert_int_eq(ev2.level, 1);
	ck_assert_uint_eq(in2(&u, LCR), 0x03);
	ck_assert_uint_eq(in2(&u, MCR), 0x0b);
	ck_assert_uint_eq(in2(&u, SCR), 0x42);
	ck_assert_uint_eq(in2(&u, IER), 0x02);
	ck_assert_uint_eq(in2(&u, IIR), 0xc2); /* FIFO on, THRE pending: reading acknowledges */
	ck_assert_int_eq(ev2.level, 0);
	serial_io_ops.write(&u, LCR, (const uint8_t[]){ 0x83 }, 1);
	ck_assert_uint_eq(in2(&u, THR), 0x01);
	ck_assert_uint_eq(in2(&u, IER), 0x02);

	/* damaged: every truncation, a byte too many, another magic, an IER the guest cannot set */
	struct serial v;
	struct events ev3 = { 0 };
	serial_init(&v, pfd[1], &hooks, &ev3);
	for (size_t len = 0; len < n; len++)
		ck_assert_int_eq(serial_restore(&v, b, len), -EINVAL);
	uint8_t *c = calloc(1, n + 1);
	memcpy(c, b, n);
	ck_assert_int_eq(serial_restore(&v, c, n + 1), -EINVAL);
	c[0] ^= 1;
	ck_assert_int_eq(serial_restore(&v, c, n), -EINVAL);
	c[0] ^= 1;
	c[6] = 0xff; /* IER */
	ck_assert_int_eq(serial_restore(&v, c, n), -EINVAL);
	ck_assert_int_eq(ev3.irq_calls, 0);
	ck_assert_uint_eq(in2(&v, LCR), 0);
	free(c);
	free(b);
	serial_destroy(&v);
	serial_destroy(&u);
}
END_TEST

static Suite *serial_suite(void)
{
	Suite *su = suite_create("serial");
	TCase *tc = tcase_create("uart");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, output_reaches_the_fd);
	tcase_add_test(tc, destroy_flushes);
	tcase_add_test(tc, line_status_and_modem_status);
	tcase_add_test(tc, thre_interrupt);
	tcase_add_test(tc, thre_interrupt_with_fifo);
	tcase_add_test(tc, disabling_ier_lowers_the_line);
	tcase_add_test(tc, dlab_selects_divisor_latches);
	tcase_add_test(tc, line_hook_gets_whole_lines);
	tcase_add_test(tc, long_line_is_cut_at_buffer_size);
	tcase_add_test(tc, first_byte_fires_once);
	tcase_add_test(tc, scratch_register_round_trips);
	tcase_add_test(tc, loopback_sends_nothing);
	tcase_add_test(tc, wide_reads_are_zero_extended);
	tcase_add_test(tc, reader_gone_drops_output);
	tcase_add_test(tc, snapshot_round_trip);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return unit_run(serial_suite());
}
