/*
 * MP tables as the guest reads them: floating pointer at MM_MPTABLE, its
 * checksum, the "PCMP" configuration table it points to, and the entries.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/memmap.h"
#include "arch/x86_64/mptable.h"
#include "guest_mem.h"
#include "unit.h"

#define MPF_LEN	      16
#define MPC_HDR_LEN   44
#define MPC_CPU_LEN   20
#define MPC_OTHER_LEN 8

static struct guest_mem gm;

static void setup(void)
{
	ck_assert_int_eq(gm_init(&gm, 64ULL << 20), 0);
	/* garbage where the tables go, so that stale bytes would show */
	memset(gm_gpa_to_hva(&gm, MM_MPTABLE - 0x400, 0x4000), 0x5a, 0x4000);
}

static void teardown(void)
{
	gm_destroy(&gm);
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

struct walk {
	unsigned entries, cpus, bsps, buses, ioapics, intsrcs, lintsrcs;
	uint8_t cpu_apicid[256];
	uint8_t intsrc_pin[MPTABLE_IOAPIC_PINS];
	uint8_t ioapic_id;
	uint32_t ioapic_addr;
};

/* Check everything a guest would check, then count the entries by type. */
static void read_tables(struct walk *w)
{
	memset(w, 0, sizeof(*w));
	const uint8_t *mpf = gm_gpa_to_hva(&gm, MM_MPTABLE, MPF_LEN);
	ck_assert_ptr_nonnull(mpf);
	ck_assert_mem_eq(mpf, "_MP_", 4);
	ck_assert_uint_eq(mpf[8], 1); /* length in 16-byte units */
	ck_assert_uint_eq(mpf[9], 4); /* MP spec 1.4 */
	ck_assert_uint_eq(sum8(mpf, MPF_LEN), 0);
	ck_assert_uint_eq(mpf[11], 0); /* feature 1: a table, not a default config */
	uint32_t physptr = rd32(mpf + 4);
	ck_assert_uint_ne(physptr, 0);

	const uint8_t *mpc = gm_gpa_to_hva(&gm, physptr, MPC_HDR_LEN);
	ck_assert_ptr_nonnull(mpc);
	ck_assert_mem_eq(mpc, "PCMP", 4);
	uint16_t len = rd16(mpc + 4);
	ck_assert_uint_ge(len, MPC_HDR_LEN);
	ck_assert_uint_eq(mpc[6], 4);
	mpc = gm_gpa_to_hva(&gm, physptr, len);
	ck_assert_ptr_nonnull(mpc);
	ck_assert_uint_eq(sum8(mpc, len), 0);
	/* the tables stay inside the area e820 reserves */
	ck_assert_uint_le((uint64_t)physptr + len, MM_HIGH_RAM_START);
	ck_assert_uint_eq(rd32(mpc + 36), (uint32_t)MM_LAPIC);
	uint16_t count = rd16(mpc + 34);

	size_t off = MPC_HDR_LEN;
	while (off < len) {
		const uint8_t *e = mpc + off;
		switch (e[0]) {
		case 0:
			ck_assert_uint_le(off + MPC_CPU_LEN, len);
			ck_assert_msg(e[3] & 1, "cpu entry %u not enabled", w->cpus);
			if (e[3] & 2)
				w->bsps++;
			if (w->cpus == 0)
				ck_assert_msg(e[3] & 2, "first cpu is not the BSP");
			w->cpu_apicid[w->cpus++] = e[1];
			off += MPC_CPU_LEN;
			break;
		case 1:
			w->buses++;
			off += MPC_OTHER_LEN;
			break;
		case 2:
			w->ioapics++;
			w->ioapic_id = e[1];
			ck_assert_uint_eq(e[3] & 1, 1);
			w->ioapic_addr = rd32(e + 4);
			off += MPC_OTHER_LEN;
			break;
		case 3:
			ck_assert_uint_lt(w->intsrcs, MPTABLE_IOAPIC_PINS);
			ck_assert_uint_eq(e[5], e[7]); /* ISA IRQ n is pin n */
			w->intsrc_pin[w->intsrcs++] = e[7];
			off += MPC_OTHER_LEN;
			break;
		case 4:
			w->lintsrcs++;
			off += MPC_OTHER_LEN;
			break;
		default: ck_abort_msg("unknown entry type %u at offset %zu", e[0], off);
		}
		w->entries++;
	}
	ck_assert_uint_eq(off, len); /* entries end exactly at the table's end */
	ck_assert_uint_eq(w->entries, count);
}

static void check_cpus(unsigned n)
{
	struct walk w;
	ck_assert_int_eq(mptable_write(&gm, n, 0), 0);
	read_tables(&w);
	ck_assert_uint_eq(w.cpus, n);
	ck_assert_uint_eq(w.bsps, 1);
	ck_assert_uint_eq(w.buses, 1);
	ck_assert_uint_eq(w.ioapics, 1);
	ck_assert_uint_eq(w.ioapic_addr, (uint32_t)MM_IOAPIC);
	ck_assert_uint_eq(w.intsrcs, MPTABLE_ISA_PINS);
	ck_assert_uint_eq(w.lintsrcs, 2);
	/* distinct APIC ids, none shared with the IO-APIC */
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_ne(w.cpu_apicid[i], w.ioapic_id);
		for (unsigned j = 0; j < i; j++)
			ck_assert_uint_ne(w.cpu_apicid[i], w.cpu_apicid[j]);
	}
}

START_TEST(one_cpu)
{
	check_cpus(1);
}
END_TEST

START_TEST(four_cpus)
{
	check_cpus(4);
	struct walk w;
	read_tables(&w);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(w.cpu_apicid[i], i);
}
END_TEST

START_TEST(most_cpus)
{
	check_cpus(MPTABLE_MAX_CPUS);
}
END_TEST

START_TEST(rewriting_with_fewer_cpus)
{
	ck_assert_int_eq(mptable_write(&gm, 8, 0), 0);
	check_cpus(2);
}
END_TEST

static void check_pins(unsigned irq_end, unsigned want)
{
	struct walk w;
	ck_assert_int_eq(mptable_write(&gm, 2, irq_end), 0);
	read_tables(&w);
	ck_assert_uint_eq(w.intsrcs, want);
	for (unsigned i = 0; i < want; i++)
		ck_assert_uint_eq(w.intsrc_pin[i], i);
	ck_assert_uint_eq(w.cpus, 2);
	ck_assert_uint_eq(w.lintsrcs, 2);
}

START_TEST(pins_follow_the_devices)
{
	check_pins(0, MPTABLE_ISA_PINS);
	check_pins(6, MPTABLE_ISA_PINS);
	check_pins(MPTABLE_ISA_PINS, MPTABLE_ISA_PINS);
	check_pins(20, 20);
	check_pins(MPTABLE_IOAPIC_PINS, MPTABLE_IOAPIC_PINS);
	check_pins(17, 17); /* shorter again after a longer table */

	/* beyond the IO-APIC: refused, the table written before stays */
	ck_assert_int_eq(mptable_write(&gm, 2, MPTABLE_IOAPIC_PINS + 1), -EINVAL);
	ck_assert_int_eq(mptable_write(&gm, 2, 1000), -EINVAL);
	struct walk w;
	read_tables(&w);
	ck_assert_uint_eq(w.intsrcs, 17);
}
END_TEST

START_TEST(bad_cpu_counts)
{
	const uint8_t *mpf = gm_gpa_to_hva(&gm, MM_MPTABLE, MPF_LEN);
	ck_assert_int_eq(mptable_write(&gm, 0, 0), -EINVAL);
	ck_assert_int_eq(mptable_write(&gm, MPTABLE_MAX_CPUS + 1, 0), -EINVAL);
	ck_assert_int_eq(mptable_write(&gm, 255, 0), -EINVAL);
	ck_assert_int_eq(mptable_write(&gm, 100000, 0), -EINVAL);
	ck_assert_uint_eq(mpf[0], 0x5a); /* nothing written */
}
END_TEST

static Suite *mptable_suite(void)
{
	Suite *s = suite_create("mptable");
	TCase *tc = tcase_create("write");
	tcase_set_timeout(tc, 30); /* each test maps guest RAM: slow under ASan on a busy host */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, one_cpu);
	tcase_add_test(tc, four_cpus);
	tcase_add_test(tc, most_cpus);
	tcase_add_test(tc, rewriting_with_fewer_cpus);
	tcase_add_test(tc, pins_follow_the_devices);
	tcase_add_test(tc, bad_cpu_counts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(mptable_suite());
}
