/*
 * x86_insn_name: the instructions a crash report names. Bytes are placed so
 * that they end right before an inaccessible page: reading one byte too far
 * crashes the test.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86_64/insn.h"
#include "unit.h"

static uint8_t *area;
static size_t page;

static void setup(void)
{
	page = (size_t)sysconf(_SC_PAGESIZE);
	area = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(area, MAP_FAILED);
	ck_assert_int_eq(mprotect(area + page, page, PROT_NONE), 0);
}

static void teardown(void)
{
	munmap(area, 2 * page);
}

static const char *name_of(const uint8_t *bytes, size_t len)
{
	uint8_t *p = area + page - len;
	memcpy(p, bytes, len);
	return x86_insn_name(p, len);
}

static void expect(const char *want, const uint8_t *bytes, size_t len, int line)
{
	const char *got = name_of(bytes, len);
	char hex[64] = "";
	for (size_t i = 0; i < len && i < 16; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", bytes[i]);
	ck_assert_msg((got == NULL && want == NULL) ||
			      (got != NULL && want != NULL && strcmp(got, want) == 0),
		      "line %d: bytes %sdecode as %s, expected %s", line, hex, got ? got : "NULL",
		      want ? want : "NULL");
}

/* EXPECT("name" or NULL, byte, byte, ...) */
#define EXPECT(want, ...)                                    \
	do {                                                 \
		static const uint8_t b_[] = { __VA_ARGS__ }; \
		expect(want, b_, sizeof(b_), __LINE__);      \
	} while (0)

START_TEST(named_instructions)
{
	EXPECT("stac", 0x0f, 0x01, 0xcb);
	EXPECT("clac", 0x0f, 0x01, 0xca);
	EXPECT("cmpxchg16b", 0x48, 0x0f, 0xc7, 0x0e);
	EXPECT("cmpxchg8b", 0x0f, 0xc7, 0x0e);
	EXPECT("popcnt", 0xf3, 0x0f, 0xb8, 0xc0);
	EXPECT("xsave", 0x0f, 0xae, 0x27);
	EXPECT("xrstor", 0x0f, 0xae, 0x2f);
	EXPECT("xsaveopt", 0x0f, 0xae, 0x37);
	EXPECT("xsavec", 0x0f, 0xc7, 0x27);
	EXPECT("xsaves", 0x0f, 0xc7, 0x2f);
	EXPECT("xrstors", 0x0f, 0xc7, 0x1f);
	EXPECT("xgetbv", 0x0f, 0x01, 0xd0);
	EXPECT("xsetbv", 0x0f, 0x01, 0xd1);
	EXPECT("int3", 0xcc);
	EXPECT("int", 0xcd, 0x80);
	EXPECT("fwait", 0x9b);
	EXPECT("hlt", 0xf4);
	EXPECT("ud2", 0x0f, 0x0b);
	EXPECT("cpuid", 0x0f, 0xa2);
	EXPECT("wrmsr", 0x0f, 0x30);
	EXPECT("rdmsr", 0x0f, 0x32);
	EXPECT("rdtsc", 0x0f, 0x31);
	EXPECT("syscall", 0x0f, 0x05);
	EXPECT("tzcnt", 0xf3, 0x48, 0x0f, 0xbc, 0xc0);
	EXPECT("lzcnt", 0xf3, 0x0f, 0xbd, 0xc0);
}
END_TEST

START_TEST(prefixes_are_skipped)
{
	EXPECT("cmpxchg16b", 0xf0, 0x48, 0x0f, 0xc7, 0x0e); /* lock */
	EXPECT("cmpxchg8b", 0xf0, 0x0f, 0xc7, 0x0e);
	EXPECT("ud2", 0x2e, 0x0f, 0x0b);
	EXPECT("xsave", 0x65, 0x48, 0x0f, 0xae, 0x27); /* gs: xsave64 */
	EXPECT("popcnt", 0x66, 0xf3, 0x0f, 0xb8, 0xc0);
	EXPECT("cmpxchg8b", 0x0f, 0xc7, 0x4c, 0x24, 0x08); /* with SIB+disp */
	EXPECT("cmpxchg8b", 0x40, 0x0f, 0xc7, 0x0e);	   /* REX without W */
}
END_TEST

START_TEST(unknown_or_other_forms_are_null)
{
	EXPECT(NULL, 0x90);
	EXPECT(NULL, 0x48, 0x89, 0xe5);	      /* mov %rsp,%rbp */
	EXPECT(NULL, 0x0f, 0xb8, 0xc0);	      /* no f3: not popcnt */
	EXPECT(NULL, 0x0f, 0xbc, 0xc0);	      /* bsf, not tzcnt */
	EXPECT(NULL, 0x0f, 0xae, 0xe8);	      /* lfence (register form) */
	EXPECT(NULL, 0x0f, 0xae, 0xf0);	      /* mfence */
	EXPECT(NULL, 0x0f, 0xae, 0xf8);	      /* sfence */
	EXPECT(NULL, 0x0f, 0xc7, 0xf0);	      /* rdrand */
	EXPECT(NULL, 0x0f, 0xae, 0x38);	      /* clflush */
	EXPECT(NULL, 0x0f, 0x01, 0xf8);	      /* swapgs */
	EXPECT(NULL, 0x66, 0x0f, 0xae, 0x38); /* clflushopt */
}
END_TEST

/*
 * The xsave family (0f ae /4 /5 /6, 0f c7 /3 /4 /5) takes no mandatory
 * prefix: with 66 or f3 in front the same bytes are other instructions, so
 * they must not be named as xsave instructions.
 */
START_TEST(clwb_is_not_xsaveopt)
{
	EXPECT(NULL, 0x66, 0x0f, 0xae, 0x30); /* clwb (%rax) */
}
END_TEST

START_TEST(ptwrite_is_not_xsave)
{
	EXPECT(NULL, 0xf3, 0x0f, 0xae, 0x20); /* ptwrite (%rax) */
}
END_TEST

START_TEST(short_buffers_are_safe)
{
	static const uint8_t full[] = { 0xf3, 0x48, 0x0f, 0xc7, 0x0e };
	/* every prefix of a few encodings, including the empty one */
	const uint8_t *const seqs[] = {
		(const uint8_t[]){ 0x0f, 0x01, 0xcb },
		(const uint8_t[]){ 0x48, 0x0f, 0xc7, 0x0e },
		(const uint8_t[]){ 0xf3, 0x0f, 0xb8, 0xc0 },
		(const uint8_t[]){ 0x0f, 0xae, 0x27 },
		full,
	};
	static const size_t lens[] = { 3, 4, 4, 3, sizeof(full) };
	for (size_t s = 0; s < sizeof(seqs) / sizeof(seqs[0]); s++)
		for (size_t n = 0; n < lens[s]; n++)
			(void)name_of(seqs[s], n);
	ck_assert_pstr_eq(name_of(full, 0), NULL);
	EXPECT(NULL, 0x0f);
	EXPECT(NULL, 0x0f, 0xae); /* ModRM missing */
	EXPECT(NULL, 0x48, 0x0f, 0xc7);
	EXPECT(NULL, 0xf3);
	EXPECT(NULL, 0x48);
	ck_assert_pstr_eq(x86_insn_name(area, 0), NULL);
}
END_TEST

START_TEST(long_prefix_runs_are_safe)
{
	uint8_t b[20];
	for (size_t n = 1; n <= sizeof(b); n++) {
		memset(b, 0x66, n);
		(void)name_of(b, n);
		memset(b, 0xf3, n);
		b[n - 1] = 0x48;
		(void)name_of(b, n);
	}
	/* 14 prefixes and then the opcode is still recognised */
	memset(b, 0x2e, 14);
	b[14] = 0xcc;
	ck_assert_pstr_eq(name_of(b, 15), "int3");
	/* every byte value alone, and after 0f */
	for (unsigned v = 0; v < 256; v++) {
		uint8_t one = (uint8_t)v, two[2] = { 0x0f, (uint8_t)v };
		(void)name_of(&one, 1);
		(void)name_of(two, 2);
	}
}
END_TEST

static Suite *insn_suite(void)
{
	Suite *s = suite_create("insn");
	TCase *tc = tcase_create("name");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, named_instructions);
	tcase_add_test(tc, prefixes_are_skipped);
	tcase_add_test(tc, unknown_or_other_forms_are_null);
	tcase_add_test(tc, clwb_is_not_xsaveopt);
	tcase_add_test(tc, ptwrite_is_not_xsave);
	tcase_add_test(tc, short_buffers_are_safe);
	tcase_add_test(tc, long_prefix_runs_are_safe);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(insn_suite());
}
