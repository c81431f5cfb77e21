/* exit_report_format: the one-line crash reason, and that it never writes past its buffer. */
#include <stdint.h>
#include <string.h>

#include "kvm/exit_report.h"
#include "unit.h"

static const uint8_t stac[] = { 0x0f, 0x01, 0xcb, 0x90, 0x90 };

START_TEST(names_rip_bytes_and_instruction)
{
	char out[256];
	exit_report_format(out, sizeof(out), 2, "triple fault", 0xffffffff81000123ULL, stac,
			   sizeof(stac));
	ck_assert_str_eq(out, "vcpu2: triple fault at rip 0xffffffff81000123, "
			      "code 0f 01 cb 90 90 (stac)");
	ck_assert_ptr_nonnull(strstr(out, "rip 0x"));
}
END_TEST

START_TEST(unknown_instruction)
{
	static const uint8_t code[] = { 0x48, 0x89, 0xe5 };
	char out[256];
	exit_report_format(out, sizeof(out), 0, "internal error", 0x1000000, code, sizeof(code));
	ck_assert_ptr_nonnull(strstr(out, "rip 0x1000000"));
	ck_assert_ptr_nonnull(strstr(out, "code 48 89 e5"));
	ck_assert_ptr_null(strstr(out, "(stac)"));
	ck_assert_ptr_nonnull(strstr(out, "vcpu0: internal error"));
}
END_TEST

START_TEST(sixteen_bytes)
{
	uint8_t code[16];
	char out[256];
	for (unsigned i = 0; i < sizeof(code); i++)
		code[i] = (uint8_t)(0xa0 + i);
	code[0] = 0xcc;
	exit_report_format(out, sizeof(out), 7, "shutdown", 0xabc, code, sizeof(code));
	ck_assert_ptr_nonnull(strstr(out, "code cc a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af"));
	ck_assert_ptr_nonnull(strstr(out, "(int3)"));
}
END_TEST

START_TEST(code_unreadable)
{
	char out[256];
	exit_report_format(out, sizeof(out), 1, "triple fault", 0xdead, stac, 0);
	ck_assert_str_eq(out, "vcpu1: triple fault at rip 0xdead, code unreadable");
	exit_report_format(out, sizeof(out), 1, "triple fault", 0xdead, NULL, 0);
	ck_assert_ptr_nonnull(strstr(out, "code unreadable"));
}
END_TEST

/* A guest jumping to address 0 is a common crash: the report keeps its "rip 0x" form. */
START_TEST(rip_zero_keeps_hex_prefix)
{
	char out[256];
	exit_report_format(out, sizeof(out), 0, "triple fault", 0, stac, 0);
	ck_assert_ptr_nonnull(strstr(out, "rip 0x0"));
}
END_TEST

/* Without a vCPU to ask (a bad fd), the report still says what happened. */
START_TEST(describe_without_registers)
{
	char out[128];
	exit_report_describe(-1, NULL, 4, "triple fault", out, sizeof(out));
	ck_assert_str_eq(out, "vcpu4: triple fault (registers unreadable)");
	memset(out, '#', sizeof(out));
	exit_report_describe(-1, NULL, 4, "triple fault", out, 8);
	ck_assert_str_eq(out, "vcpu4: ");
	ck_assert_int_eq(out[8], '#');
}
END_TEST

/* For every output size: no byte past outlen is touched, and what is there is a prefix. */
static void check_truncation(const uint8_t *code, size_t ncode)
{
	char full[512];
	exit_report_format(full, sizeof(full), 3, "triple fault", 0xffffffff81234567ULL, code,
			   ncode);
	size_t flen = strlen(full);
	ck_assert_uint_gt(flen, 0);

	for (size_t outlen = 0; outlen <= flen + 2; outlen++) {
		char buf[600];
		memset(buf, '#', sizeof(buf));
		exit_report_format(buf + 8, outlen, 3, "triple fault", 0xffffffff81234567ULL, code,
				   ncode);
		for (size_t i = 0; i < 8; i++)
			ck_assert_msg(buf[i] == '#', "outlen %zu: wrote before the buffer", outlen);
		for (size_t i = 8 + outlen; i < sizeof(buf); i++)
			ck_assert_msg(buf[i] == '#', "outlen %zu: wrote byte %zu past the end",
				      outlen, i - 8 - outlen);
		if (outlen == 0)
			continue;
		size_t n = strnlen(buf + 8, outlen);
		ck_assert_msg(n < outlen, "outlen %zu: not NUL-terminated", outlen);
		ck_assert_msg(strncmp(buf + 8, full, n) == 0, "outlen %zu: '%s' is not a prefix",
			      outlen, buf + 8);
		if (outlen > flen)
			ck_assert_str_eq(buf + 8, full);
	}
}

START_TEST(tiny_buffers_do_not_overflow)
{
	uint8_t code[16];
	memcpy(code, stac, sizeof(stac));
	memset(code + sizeof(stac), 0x90, sizeof(code) - sizeof(stac));
	check_truncation(code, sizeof(code));
	check_truncation(stac, 3);
	check_truncation(stac, 0);
}
END_TEST

static Suite *exit_report_suite(void)
{
	Suite *s = suite_create("exit_report");
	TCase *tc = tcase_create("format");
	tcase_add_test(tc, names_rip_bytes_and_instruction);
	tcase_add_test(tc, unknown_instruction);
	tcase_add_test(tc, sixteen_bytes);
	tcase_add_test(tc, code_unreadable);
	tcase_add_test(tc, rip_zero_keeps_hex_prefix);
	tcase_add_test(tc, tiny_buffers_do_not_overflow);
	tcase_add_test(tc, describe_without_registers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(exit_report_suite());
}
