/* cpuid_fixup on a hand-made CPUID table: per-vCPU ids, the hypervisor bit, and masks. */
#include <linux/kvm.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/cpuid.h"
#include "kvm/flavour.h"
#include "unit.h"

enum { L0, L1, L7_0, L7_1, LB_0, LB_1, L1F, LKVM, LKVM1, L8_1, NENT };

static struct kvm_cpuid2 *table(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + NENT * sizeof(c->entries[0]));
	ck_assert_ptr_nonnull(c);
	c->nent = NENT;
	struct kvm_cpuid_entry2 *e = c->entries;
	e[L0] = (struct kvm_cpuid_entry2){
		.function = 0, .eax = 0x1f, .ebx = 0x756e6547, .ecx = 0x6c65746e, .edx = 0x49656e69
	};
	e[L1] = (struct kvm_cpuid_entry2){ .function = 1,
					   .eax = 0x000806c1,
					   .ebx = 0x12345678,
					   .ecx = 0x7ffafbff,
					   .edx = 0xbfebfbff };
	e[L7_0] = (struct kvm_cpuid_entry2){ .function = 7,
					     .index = 0,
					     .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
					     .eax = 1,
					     .ebx = 0xffffffff,
					     .ecx = 0x12345678,
					     .edx = 0x9abcdef0 };
	e[L7_1] = (struct kvm_cpuid_entry2){ .function = 7,
					     .index = 1,
					     .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
					     .eax = 0x30,
					     .ebx = 0,
					     .ecx = 0,
					     .edx = 0 };
	e[LB_0] = (struct kvm_cpuid_entry2){ .function = 0xb,
					     .index = 0,
					     .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
					     .eax = 1,
					     .ebx = 1,
					     .ecx = 0x100,
					     .edx = 0x55 };
	e[LB_1] = (struct kvm_cpuid_entry2){ .function = 0xb,
					     .index = 1,
					     .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
					     .eax = 4,
					     .ebx = 8,
					     .ecx = 0x201,
					     .edx = 0x66 };
	e[L1F] = (struct kvm_cpuid_entry2){ .function = 0x1f, .edx = 0x77 };
	e[LKVM] = (struct kvm_cpuid_entry2){ .function = 0x40000000,
					     .eax = 0x40000001,
					     .ebx = 0x4b4d564b,
					     .ecx = 0x564b4d56,
					     .edx = 0x4d };
	e[LKVM1] = (struct kvm_cpuid_entry2){ .function = CPUID_KVM_FEATURES,
					      .eax = 0xffffffff,
					      .edx = 0x1 };
	e[L8_1] = (struct kvm_cpuid_entry2){ .function = 0x80000001,
					     .ecx = 0x121,
					     .edx = 0x2c100800 };
	return c;
}

static void same_entry(const struct kvm_cpuid2 *a, const struct kvm_cpuid2 *b, unsigned i)
{
	ck_assert_msg(memcmp(&a->entries[i], &b->entries[i], sizeof(a->entries[i])) == 0,
		      "entry %u (leaf %#x.%u) changed", i, a->entries[i].function,
		      a->entries[i].index);
}

START_TEST(per_vcpu_ids_and_hypervisor_bit)
{
	struct kvm_cpuid2 *c = table(), *orig = table();
	cpuid_fixup(c, 3, 4, NULL, 0);

	const struct kvm_cpuid_entry2 *l1 = &c->entries[L1];
	ck_assert_uint_eq(l1->ebx >> 24, 3);	      /* initial APIC id */
	ck_assert_uint_eq((l1->ebx >> 16) & 0xff, 4); /* logical processors */
	ck_assert_uint_eq((l1->ebx >> 8) & 0xff, 8);  /* CLFLUSH: 64 bytes */
	ck_assert_uint_eq(l1->ebx & 0xff, 0x78);      /* brand index kept */
	ck_assert_uint_eq(l1->ecx, orig->entries[L1].ecx | CPUID_1_ECX_HYPERVISOR);
	ck_assert_uint_eq(l1->edx, orig->entries[L1].edx | CPUID_1_EDX_HTT);
	ck_assert_uint_eq(l1->eax, orig->entries[L1].eax);

	ck_assert_uint_eq(c->entries[LB_0].edx, 3);
	ck_assert_uint_eq(c->entries[LB_1].edx, 3);
	ck_assert_uint_eq(c->entries[L1F].edx, 3);
	ck_assert_uint_eq(c->entries[LB_1].eax, 4);
	ck_assert_uint_eq(c->entries[LB_1].ebx, 8);
	ck_assert_uint_eq(c->entries[LB_1].ecx, 0x201);

	same_entry(c, orig, L0);
	same_entry(c, orig, L7_0);
	same_entry(c, orig, L7_1);
	same_entry(c, orig, LKVM);
	same_entry(c, orig, LKVM1);
	same_entry(c, orig, L8_1);
	free(c);
	free(orig);
}
END_TEST

START_TEST(single_vcpu_has_no_htt)
{
	struct kvm_cpuid2 *c = table();
	cpuid_fixup(c, 0, 1, NULL, 0);
	ck_assert_uint_eq(c->entries[L1].ebx >> 24, 0);
	ck_assert_uint_eq((c->entries[L1].ebx >> 16) & 0xff, 1);
	ck_assert_uint_eq(c->entries[L1].edx & CPUID_1_EDX_HTT, 0);
	ck_assert_uint_eq(c->entries[L1].ecx & CPUID_1_ECX_HYPERVISOR, CPUID_1_ECX_HYPERVISOR);
	ck_assert_uint_eq(c->entries[LB_0].edx, 0);
	free(c);
}
END_TEST

START_TEST(last_vcpu_id)
{
	struct kvm_cpuid2 *c = table();
	cpuid_fixup(c, 253, 254, NULL, 0);
	ck_assert_uint_eq(c->entries[L1].ebx >> 24, 253);
	ck_assert_uint_eq((c->entries[L1].ebx >> 16) & 0xff, 254);
	ck_assert_uint_eq(c->entries[LB_0].edx, 253);
	free(c);
}
END_TEST

START_TEST(pvm_masks_clear_exactly_their_bits)
{
	const struct kvm_flavour *fl = flavour_detect(FLAVOUR_PVM, "/nonexistent");
	ck_assert_str_eq(fl->name, "pvm");
	ck_assert_uint_gt(fl->arch.nmasks, 0);
	ck_assert_uint_eq(flavour_detect(FLAVOUR_HARDWARE, "/nonexistent")->arch.nmasks, 0);
	struct kvm_cpuid2 *c = table(), *orig = table();
	cpuid_fixup(c, 1, 2, fl->arch.masks, fl->arch.nmasks);

	uint32_t l1_clear = CPUID_1_ECX_XSAVE | CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_CX16 |
			    CPUID_1_ECX_POPCNT;
	/* every mask's bits are gone, and every other bit is as before */
	ck_assert_uint_eq(c->entries[L1].ecx,
			  (orig->entries[L1].ecx | CPUID_1_ECX_HYPERVISOR) & ~l1_clear);
	ck_assert_uint_eq(c->entries[L1].edx, orig->entries[L1].edx | CPUID_1_EDX_HTT);
	ck_assert_uint_eq(c->entries[L7_0].ebx,
			  orig->entries[L7_0].ebx & ~(CPUID_7_EBX_SMAP | CPUID_7_EBX_ERMS));
	ck_assert_uint_eq(c->entries[L7_0].ecx, orig->entries[L7_0].ecx);
	ck_assert_uint_eq(c->entries[L7_0].edx, orig->entries[L7_0].edx & ~CPUID_7_EDX_FSRM);
	ck_assert_uint_eq(c->entries[L7_0].eax, orig->entries[L7_0].eax);
	ck_assert_uint_eq(c->entries[LKVM1].eax, 0xffffffffu & ~CPUID_KVM_PV_SEND_IPI);
	ck_assert_uint_eq(c->entries[LKVM1].edx, orig->entries[LKVM1].edx);
	same_entry(c, orig, L0);
	same_entry(c, orig, L7_1);
	same_entry(c, orig, LKVM);
	same_entry(c, orig, L8_1);

	/* the masks themselves say the same thing */
	for (size_t m = 0; m < fl->arch.nmasks; m++) {
		const struct cpuid_mask *k = &fl->arch.masks[m];
		if (k->function == 1) {
			ck_assert_int_eq(k->reg, CPUID_ECX);
			ck_assert_uint_eq(k->clear, l1_clear);
		}
	}
	free(c);
	free(orig);
}
END_TEST

START_TEST(tsc_deadline_is_added_to_leaf_1_only)
{
	struct kvm_cpuid2 *c = table(), *orig = table();
	c->entries[L1].ecx &= ~CPUID_1_ECX_TSC_DEADLINE;
	cpuid_add_tsc_deadline(c);
	ck_assert_uint_eq(c->entries[L1].ecx, orig->entries[L1].ecx | CPUID_1_ECX_TSC_DEADLINE);
	ck_assert_uint_eq(c->entries[L1].edx, orig->entries[L1].edx);
	for (unsigned i = 0; i < NENT; i++)
		if (i != L1)
			same_entry(c, orig, i);

	/* it survives the per-vCPU fix-up and the kvm_pvm masks */
	const struct kvm_flavour *fl = flavour_detect(FLAVOUR_PVM, "/nonexistent");
	cpuid_fixup(c, 0, 1, fl->arch.masks, fl->arch.nmasks);
	ck_assert_uint_ne(c->entries[L1].ecx & CPUID_1_ECX_TSC_DEADLINE, 0);
	free(c);
	free(orig);
}
END_TEST

START_TEST(mask_hits_only_its_subleaf)
{
	static const struct cpuid_mask masks[] = {
		{ 0xb, CPUID_EBX, 0xffffffff, 1 },
	};
	struct kvm_cpuid2 *c = table(), *orig = table();
	cpuid_fixup(c, 0, 1, masks, 1);
	ck_assert_uint_eq(c->entries[LB_1].ebx, 0);
	ck_assert_uint_eq(c->entries[LB_0].ebx, orig->entries[LB_0].ebx);
	free(c);
	free(orig);
}
END_TEST

START_TEST(mask_hits_only_its_register)
{
	static const struct cpuid_mask masks[] = {
		{ 0x80000001, CPUID_EDX, 0x00000800, 0 },
		{ 0x80000001, CPUID_EAX, 0xffffffff, 0 }, /* already 0: stays 0 */
		{ 0x12345678, CPUID_EBX, 0xffffffff, 0 }, /* leaf not in the table */
		{ 0, CPUID_ECX, 0x0000000f, 0 },
	};
	struct kvm_cpuid2 *c = table(), *orig = table();
	cpuid_fixup(c, 0, 1, masks, sizeof(masks) / sizeof(masks[0]));
	ck_assert_uint_eq(c->entries[L8_1].edx, orig->entries[L8_1].edx & ~0x800u);
	ck_assert_uint_eq(c->entries[L8_1].ecx, orig->entries[L8_1].ecx);
	ck_assert_uint_eq(c->entries[L8_1].eax, 0);
	ck_assert_uint_eq(c->entries[L0].ecx, orig->entries[L0].ecx & ~0xfu);
	ck_assert_uint_eq(c->entries[L0].ebx, orig->entries[L0].ebx);
	ck_assert_uint_eq(c->entries[L0].edx, orig->entries[L0].edx);
	same_entry(c, orig, L7_0);
	same_entry(c, orig, LKVM1);
	free(c);
	free(orig);
}
END_TEST

START_TEST(hardware_has_no_masks_and_empty_table_is_fine)
{
	const struct kvm_flavour *fl = flavour_detect(FLAVOUR_HARDWARE, "/nonexistent");
	ck_assert_uint_eq(fl->arch.nmasks, 0);
	struct kvm_cpuid2 *c = table(), *orig = table();
	cpuid_fixup(c, 0, 1, fl->arch.masks, fl->arch.nmasks);
	same_entry(c, orig, L7_0);
	same_entry(c, orig, LKVM1);
	c->nent = 0;
	memcpy(orig, c, sizeof(*c) + NENT * sizeof(c->entries[0]));
	cpuid_fixup(c, 5, 6, NULL, 0);
	ck_assert_mem_eq(c, orig, sizeof(*c) + NENT * sizeof(c->entries[0]));
	free(c);
	free(orig);
}
END_TEST

static Suite *cpuid_suite(void)
{
	Suite *s = suite_create("cpuid");
	TCase *tc = tcase_create("fixup");
	tcase_add_test(tc, per_vcpu_ids_and_hypervisor_bit);
	tcase_add_test(tc, single_vcpu_has_no_htt);
	tcase_add_test(tc, last_vcpu_id);
	tcase_add_test(tc, pvm_masks_clear_exactly_their_bits);
	tcase_add_test(tc, mask_hits_only_its_register);
	tcase_add_test(tc, tsc_deadline_is_added_to_leaf_1_only);
	tcase_add_test(tc, mask_hits_only_its_subleaf);
	tcase_add_test(tc, hardware_has_no_masks_and_empty_table_is_fine);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(cpuid_suite());
}
