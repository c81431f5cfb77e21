/* The 64-bit boot state: identity page tables and GDT in guest RAM, and the register values. */
#include <linux/kvm.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/cpu_boot.h"
#include "arch/x86_64/memmap.h"
#include "guest_mem.h"
#include "unit.h"

static uint64_t rd64(const struct guest_mem *gm, uint64_t gpa)
{
	uint64_t v;
	const void *p = gm_gpa_to_hva(gm, gpa, sizeof(v));
	ck_assert_ptr_nonnull(p);
	memcpy(&v, p, sizeof(v));
	return v;
}

START_TEST(identity_map_of_first_gib)
{
	struct guest_mem gm;
	ck_assert_int_eq(gm_init(&gm, 64ULL << 20), 0);
	memset(gm_gpa_to_hva(&gm, MM_PML4, 0x4000), 0xff, 0x4000); /* stale junk */
	ck_assert_int_eq(x86_write_boot_tables(&gm), 0);

	uint64_t pml4e = rd64(&gm, MM_PML4);
	ck_assert_uint_eq(pml4e & ~0xfffULL, MM_PDPT);
	ck_assert_uint_eq(pml4e & 3, 3); /* present, writable */
	uint64_t pdpte = rd64(&gm, MM_PDPT);
	ck_assert_uint_eq(pdpte & ~0xfffULL, MM_PD);
	ck_assert_uint_eq(pdpte & 3, 3);
	for (unsigned i = 1; i < 512; i++) {
		ck_assert_uint_eq(rd64(&gm, MM_PML4 + 8 * i), 0);
		ck_assert_uint_eq(rd64(&gm, MM_PDPT + 8 * i), 0);
	}
	/* 512 large pages of 2 MiB: 1 GiB mapped to itself */
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t pde = rd64(&gm, MM_PD + 8 * i);
		ck_assert_uint_eq(pde & ~0xfffULL, i << 21);
		ck_assert_uint_eq(pde & 0x83, 0x83); /* present, writable, 2 MiB */
	}
	ck_assert_uint_eq(512ULL << 21, MM_IDENTITY_MAP);
	gm_destroy(&gm);
}
END_TEST

static void check_descriptor(uint64_t d, const struct kvm_segment *s)
{
	ck_assert_uint_eq((d >> 40) & 0xf, s->type);
	ck_assert_uint_eq((d >> 44) & 1, s->s);
	ck_assert_uint_eq((d >> 45) & 3, s->dpl);
	ck_assert_uint_eq((d >> 47) & 1, s->present);
	ck_assert_uint_eq((d >> 53) & 1, s->l);
	ck_assert_uint_eq((d >> 54) & 1, s->db);
	ck_assert_uint_eq((d >> 55) & 1, s->g);
}

START_TEST(sregs_match_the_gdt_in_memory)
{
	struct guest_mem gm;
	struct kvm_sregs s;
	ck_assert_int_eq(gm_init(&gm, 64ULL << 20), 0);
	ck_assert_int_eq(x86_write_boot_tables(&gm), 0);
	memset(&s, 0, sizeof(s));
	x86_boot_sregs(&s);

	ck_assert_uint_eq(s.gdt.base, MM_GDT);
	ck_assert_uint_ge(s.gdt.limit, 4 * 8 - 1);
	ck_assert_uint_eq(s.cs.selector, 8);
	ck_assert_uint_eq(s.cs.l, 1);
	ck_assert_uint_eq(s.cs.db, 0);
	ck_assert_uint_eq(s.cs.present, 1);
	ck_assert_uint_eq(s.cs.type & 0x8, 0x8); /* code */
	ck_assert_uint_eq(s.ds.selector, 16);
	ck_assert_uint_eq(s.ds.type & 0x8, 0); /* data */
	ck_assert_uint_eq(s.ds.limit, 0xffffffff);
	ck_assert_uint_eq(s.ss.selector, s.ds.selector);
	ck_assert_uint_eq(s.es.selector, s.ds.selector);
	ck_assert_uint_eq(s.tr.selector, 24);
	ck_assert_uint_eq(s.tr.type, 0xb); /* busy 64-bit TSS */
	ck_assert_uint_eq(s.tr.s, 0);
	ck_assert_uint_eq(s.tr.unusable, 0);

	/* the selectors index descriptors that say the same as the cached parts */
	check_descriptor(rd64(&gm, MM_GDT + s.cs.selector), &s.cs);
	check_descriptor(rd64(&gm, MM_GDT + s.ds.selector), &s.ds);
	check_descriptor(rd64(&gm, MM_GDT + s.tr.selector), &s.tr);
	ck_assert_uint_eq(rd64(&gm, MM_GDT), 0);

	ck_assert_uint_eq(s.cr0 & 0x80000001, 0x80000001); /* PG, PE */
	ck_assert_uint_eq(s.cr3, MM_PML4);
	ck_assert_uint_eq(s.cr4 & (1 << 5), 1 << 5); /* PAE */
	ck_assert_uint_eq(s.efer & 0x500, 0x500);    /* LME, LMA */
	gm_destroy(&gm);
}
END_TEST

START_TEST(regs_and_fpu)
{
	struct kvm_regs r;
	struct kvm_fpu f;
	memset(&r, 0xee, sizeof(r));
	x86_boot_regs(&r, 0x1000200, MM_ZERO_PAGE);
	ck_assert_uint_eq(r.rip, 0x1000200);
	ck_assert_uint_eq(r.rsi, MM_ZERO_PAGE);
	ck_assert_uint_eq(r.rsp, MM_BOOT_STACK);
	ck_assert_uint_eq(r.rflags, 2);
	ck_assert_uint_eq(r.rax | r.rbx | r.rcx | r.rdx | r.rdi | r.r8 | r.r15, 0);

	memset(&f, 0xee, sizeof(f));
	x86_boot_fpu(&f);
	ck_assert_uint_eq(f.fcw, 0x37f);
	ck_assert_uint_eq(f.mxcsr, 0x1f80);
	ck_assert_uint_eq(f.fsw, 0);
}
END_TEST

START_TEST(msrs_fill_at_most_max)
{
	struct kvm_msr_entry e[64];
	memset(e, 0xee, sizeof(e));
	size_t n = x86_boot_msrs(e, 64);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_lt(n, 64);
	int misc = 0;
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(e[i].reserved, 0);
		if (e[i].index == 0x1a0) {
			misc = 1;
			ck_assert_uint_eq(e[i].data & 1, 1); /* fast strings */
		}
	}
	ck_assert(misc);
	ck_assert_uint_eq(e[n].index, 0xeeeeeeee);

	memset(e, 0xee, sizeof(e));
	ck_assert_uint_eq(x86_boot_msrs(e, 3), 3);
	ck_assert_uint_eq(e[3].index, 0xeeeeeeee);
	ck_assert_uint_eq(x86_boot_msrs(e, 0), 0);
}
END_TEST

START_TEST(lint_modes)
{
	struct kvm_lapic_state l;
	uint32_t lvt0 = 0x00010000 | 0x700 | 0x31, lvt1 = 0x00000400 | 0x42, v;
	memset(&l, 0, sizeof(l));
	memcpy(&l.regs[0x350], &lvt0, 4);
	memcpy(&l.regs[0x360], &lvt1, 4);
	x86_lapic_set_lints(&l);
	memcpy(&v, &l.regs[0x350], 4);
	ck_assert_uint_eq((v >> 8) & 7, 7);		/* ExtINT */
	ck_assert_uint_eq(v & ~0x700u, lvt0 & ~0x700u); /* other bits kept */
	memcpy(&v, &l.regs[0x360], 4);
	ck_assert_uint_eq((v >> 8) & 7, 4); /* NMI */
	ck_assert_uint_eq(v & ~0x700u, lvt1 & ~0x700u);
}
END_TEST

static Suite *cpu_boot_suite(void)
{
	Suite *s = suite_create("cpu_boot");
	TCase *tc = tcase_create("state");
	tcase_set_timeout(tc, 30); /* each test maps guest RAM: slow under ASan on a busy host */
	tcase_add_test(tc, identity_map_of_first_gib);
	tcase_add_test(tc, sregs_match_the_gdt_in_memory);
	tcase_add_test(tc, regs_and_fpu);
	tcase_add_test(tc, msrs_fill_at_most_max);
	tcase_add_test(tc, lint_modes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(cpu_boot_suite());
}
