/*
 * The x86 state blobs without KVM: the format (state_blob.c) and the VM and
 * vCPU parsers and CPUID comparison (state_check.c). Good blobs parse; short,
 * foreign, malformed and out-of-bounds ones are refused before any of them
 * could reach KVM, and never read past their end (the sanitizer build runs
 * this too, each blob in a buffer of exactly its length).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/state.h"
#include "kvm/vcpu.h"
#include "unit.h"

struct blob {
	uint8_t *p;
	size_t len;
};

/* A copy of b's first len bytes in a buffer of exactly that length. */
static uint8_t *exact(const struct blob *b, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(p);
	memcpy(p, b->p, len);
	return p;
}

static void finish(struct xsb_writer *w, struct blob *b)
{
	void *p;
	ck_assert_int_eq(xsb_finish(w, &p, &b->len), 0);
	b->p = p;
}

static void vm_blob(struct blob *b)
{
	struct xsb_writer w;
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	static const uint32_t ids[3] = { KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE,
					 KVM_IRQCHIP_IOAPIC };

	xsb_begin(&w, X86_STATE_VM_MAGIC);
	for (unsigned i = 0; i < 3; i++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = ids[i];
		xsb_put(&w, X86_VM_PIC_MASTER + i, &chip, sizeof(chip));
	}
	memset(&pit, 0, sizeof(pit));
	xsb_put(&w, X86_VM_PIT, &pit, sizeof(pit));
	memset(&clock, 0, sizeof(clock));
	clock.clock = 123456789;
	xsb_put(&w, X86_VM_CLOCK, &clock, sizeof(clock));
	finish(&w, b);
}

/* The sections a vCPU blob holds, each changeable by a test before it is written. */
struct vcpu_parts {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint8_t xsave[X86_STATE_XSAVE_MIN];
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	struct kvm_debugregs dregs;
	struct kvm_cpuid_entry2 cpuid[X86_STATE_MAX_CPUID + 1];
	struct kvm_msr_entry msrs[X86_STATE_MAX_MSRS + 1];
	size_t ncpuid, nmsrs;
	bool fpu_too, no_regs, regs_twice, short_sregs;
};

static void vcpu_parts_init(struct vcpu_parts *p)
{
	memset(p, 0, sizeof(*p));
	p->regs.rip = 0x1000000;
	p->regs.r12 = 42;
	p->xcrs.nr_xcrs = 1;
	p->ncpuid = 3;
	for (unsigned i = 0; i < X86_STATE_MAX_CPUID + 1; i++)
		p->cpuid[i].function = i; /* each leaf once */
	p->nmsrs = 2;
	p->msrs[0].index = 0x10;
	p->msrs[1].index = 0xc0000080;
}

static void vcpu_blob_of(const struct vcpu_parts *p, struct blob *b)
{
	struct xsb_writer w;
	xsb_begin(&w, X86_STATE_VCPU_MAGIC);
	if (!p->no_regs)
		xsb_put(&w, X86_VCPU_REGS, &p->regs, sizeof(p->regs));
	if (p->regs_twice)
		xsb_put(&w, X86_VCPU_REGS, &p->regs, sizeof(p->regs));
	xsb_put(&w, X86_VCPU_SREGS, &p->sregs, sizeof(p->sregs) - (p->short_sregs ? 8 : 0));
	xsb_put(&w, X86_VCPU_XSAVE, p->xsave, sizeof(p->xsave));
	if (p->fpu_too) {
		struct kvm_fpu fpu;
		memset(&fpu, 0, sizeof(fpu));
		xsb_put(&w, X86_VCPU_FPU, &fpu, sizeof(fpu));
	}
	xsb_put(&w, X86_VCPU_XCRS, &p->xcrs, sizeof(p->xcrs));
	xsb_put(&w, X86_VCPU_DEBUGREGS, &p->dregs, sizeof(p->dregs));
	xsb_put(&w, X86_VCPU_LAPIC, &p->lapic, sizeof(p->lapic));
	xsb_put(&w, X86_VCPU_CPUID, p->cpuid, p->ncpuid * sizeof(p->cpuid[0]));
	xsb_put(&w, X86_VCPU_MSRS, p->msrs, p->nmsrs * sizeof(p->msrs[0]));
	xsb_put(&w, X86_VCPU_EVENTS, &p->events, sizeof(p->events));
	xsb_put(&w, X86_VCPU_MP_STATE, &p->mp, sizeof(p->mp));
	finish(&w, b);
}

static struct vcpu_parts parts; /* large: not on the stack */

static int parse_vcpu_parts(void)
{
	struct blob b;
	struct x86_vcpu_state st;
	vcpu_blob_of(&parts, &b);
	uint8_t *p = exact(&b, b.len);
	int r = x86_vcpu_state_parse(p, b.len, &st);
	free(p);
	free(b.p);
	return r;
}

START_TEST(good_blobs_parse)
{
	struct blob b;
	struct x86_vm_state vm;
	vm_blob(&b);
	ck_assert_uint_eq(b.len % 8, 0);
	uint8_t *p = exact(&b, b.len);
	ck_assert_int_eq(x86_vm_state_parse(p, b.len, &vm), 0);
	ck_assert_uint_eq(vm.chip[2].chip_id, KVM_IRQCHIP_IOAPIC);
	ck_assert_uint_eq(vm.clock.clock, 123456789);
	free(p);
	free(b.p);

	struct x86_vcpu_state st;
	vcpu_parts_init(&parts);
	vcpu_blob_of(&parts, &b);
	p = exact(&b, b.len);
	ck_assert_int_eq(x86_vcpu_state_parse(p, b.len, &st), 0);
	ck_assert_uint_eq(st.regs.rip, 0x1000000);
	ck_assert_uint_eq(st.regs.r12, 42);
	ck_assert_uint_eq(st.nmsrs, 2);
	ck_assert_uint_eq(st.ncpuid, 3);
	ck_assert_uint_eq(st.xsave.len, X86_STATE_XSAVE_MIN);
	ck_assert(!st.has_fpu && st.has_xcrs && st.has_debugregs);
	free(p);
	free(b.p);
}
END_TEST

START_TEST(every_truncation_is_refused)
{
	struct blob b;
	struct x86_vcpu_state st;
	struct x86_vm_state vm;
	vcpu_parts_init(&parts);
	vcpu_blob_of(&parts, &b);
	for (size_t len = 0; len < b.len; len++) {
		uint8_t *p = exact(&b, len);
		ck_assert_msg(x86_vcpu_state_parse(p, len, &st) == -EINVAL, "%zu of %zu bytes", len,
			      b.len);
		free(p);
	}
	ck_assert_int_eq(x86_vcpu_state_parse(NULL, 0, &st), -EINVAL);
	free(b.p);
	vm_blob(&b);
	for (size_t len = 0; len < b.len; len++) {
		uint8_t *p = exact(&b, len);
		ck_assert_int_eq(x86_vm_state_parse(p, len, &vm), -EINVAL);
		free(p);
	}
	free(b.p);
}
END_TEST

START_TEST(bad_magic_version_and_section_count_are_refused)
{
	struct blob b;
	struct x86_vcpu_state st;
	struct x86_vm_state vm;
	vcpu_parts_init(&parts);
	vcpu_blob_of(&parts, &b);
	uint8_t *p = exact(&b, b.len);

	ck_assert_int_eq(x86_vm_state_parse(p, b.len, &vm), -EINVAL); /* a vCPU's, not a VM's */
	p[0] ^= 0xff;
	ck_assert_int_eq(x86_vcpu_state_parse(p, b.len, &st), -EINVAL);
	p[0] ^= 0xff;
	uint32_t v;
	memcpy(&v, p + 8, 4);
	ck_assert_uint_eq(v, XSB_VERSION);
	v = XSB_VERSION + 1;
	memcpy(p + 8, &v, 4);
	ck_assert_int_eq(x86_vcpu_state_parse(p, b.len, &st), -EINVAL);
	v = XSB_VERSION;
	memcpy(p + 8, &v, 4);
	ck_assert_int_eq(x86_vcpu_state_parse(p, b.len, &st), 0);

	uint32_t n, bad[] = { 0, 1, 9, 11, 12, XSB_MAX_SECTIONS + 1, 0xffffffffu };
	memcpy(&n, p + 12, 4);
	ck_assert_uint_eq(n, 10);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(p + 12, &bad[i], 4);
		ck_assert_msg(x86_vcpu_state_parse(p, b.len, &st) == -EINVAL, "%u sections",
			      bad[i]);
	}
	free(p);
	free(b.p);
}
END_TEST

START_TEST(section_lengths_and_counts_are_checked)
{
	vcpu_parts_init(&parts);
	parts.short_sregs = true;
	ck_assert_int_eq(parse_vcpu_parts(), -EINVAL);

	vcpu_parts_init(&parts);
	parts.nmsrs = X86_STATE_MAX_MSRS;
	ck_assert_int_eq(parse_vcpu_parts(), 0);
	parts.nmsrs = X86_STATE_MAX_MSRS + 1;
	ck_assert_int_eq(parse_vcpu_parts(), -EINVAL);
	parts.nmsrs = 0; /* a vCPU may have no readable MSR */
	ck_assert_int_eq(parse_vcpu_parts(), 0);

	vcpu_parts_init(&parts);
	parts.ncpuid = X86_STATE_MAX_CPUID;
	ck_assert_int_eq(parse_vcpu_parts(), 0);
	parts.ncpuid = X86_STATE_MAX_CPUID + 1;
	ck_assert_int_eq(parse_vcpu_parts(), -EINVAL);
	parts.ncpuid = 0;
	ck_assert_int_eq(parse_vcpu_parts(), -EINVAL);
	parts.ncpuid = 3;
	parts.cpuid[2].function = 1; /* leaf 1 twice */
	ck_assert_int_eq(parse_vcpu_parts(), -EINVAL);
	parts.cpuid[2].index = 1; /* subleaf 1 of it: another leaf */
	ck_assert_int_eq(parse_vcpu_parts(), 0);

	vcpu_parts_init(&parts);
	parts.xcrs.nr_xcrs = KVM_MAX_XCRS + 1;
	ck_assert_int_eq(parse_vcpu_parts(), -EINVAL);
}
END_TEST

START_TEST(missing_repeated_and_conflicting_sections_are_refused)
{
	vcpu_parts_init(&parts);
	parts.no_regs = true;
	ck_assert_int_eq(parse_vcpu_parts(), -EINVAL);
	vcpu_parts_init(&parts);
	parts.regs_twice = true;
	ck_assert_int_eq(parse_vcpu_parts(), -EINVAL);
	vcpu_parts_init(&parts);
	parts.fpu_too = true;
	ck_assert_int_eq(parse_vcpu_parts(), -EINVAL);
}
END_TEST

/* A blob whose first section head is changed (tag, length), the rest as it was. */
static int parse_with_first_head(uint32_t tag, uint32_t len)
{
	struct blob b;
	struct x86_vm_state vm;
	vm_blob(&b);
	uint8_t *p = exact(&b, b.len);
	memcpy(p + XSB_HEADER_SIZE, &tag, 4);
	memcpy(p + XSB_HEADER_SIZE + 4, &len, 4);
	int r = x86_vm_state_parse(p, b.len, &vm);
	free(p);
	free(b.p);
	return r;
}

START_TEST(section_heads_are_checked)
{
	uint32_t chip = sizeof(struct kvm_irqchip);
	ck_assert_int_eq(parse_with_first_head(X86_VM_PIC_MASTER, chip), 0);
	ck_assert_int_eq(parse_with_first_head(99, chip), -EINVAL);		  /* unknown */
	ck_assert_int_eq(parse_with_first_head(X86_VM_PIC_SLAVE, chip), -EINVAL); /* twice */
	ck_assert_int_eq(parse_with_first_head(X86_VM_PIC_MASTER, chip - 8), -EINVAL);
	ck_assert_int_eq(parse_with_first_head(X86_VM_PIC_MASTER, chip + 8), -EINVAL);
	ck_assert_int_eq(parse_with_first_head(X86_VM_PIC_MASTER, 0xffffffffu), -EINVAL);
	ck_assert_int_eq(parse_with_first_head(X86_VM_PIC_MASTER, 0xfffffff8u), -EINVAL);
}
END_TEST

START_TEST(trailing_bytes_and_wrong_chips_are_refused)
{
	struct blob b;
	struct x86_vm_state vm;
	vm_blob(&b);
	uint8_t *p = calloc(1, b.len + 8);
	ck_assert_ptr_nonnull(p);
	memcpy(p, b.p, b.len);
	ck_assert_int_eq(x86_vm_state_parse(p, b.len + 8, &vm), -EINVAL);
	/* the PIC master's section holding the slave's chip id */
	uint32_t id = KVM_IRQCHIP_PIC_SLAVE;
	memcpy(p + XSB_HEADER_SIZE + XSB_SECTION_HEAD, &id, 4);
	ck_assert_int_eq(x86_vm_state_parse(p, b.len, &vm), -EINVAL);
	free(p);
	free(b.p);
}
END_TEST

START_TEST(damaged_heads_never_crash)
{
	struct blob b;
	struct x86_vcpu_state st;
	vcpu_parts_init(&parts);
	vcpu_blob_of(&parts, &b);
	/* every byte of the header and the first two section heads, each bit flipped */
	size_t heads =
		XSB_HEADER_SIZE + XSB_SECTION_HEAD + sizeof(struct kvm_regs) + XSB_SECTION_HEAD;
	for (size_t i = 0; i < heads; i++)
		for (int bit = 0; bit < 8; bit++) {
			uint8_t *p = exact(&b, b.len);
			p[i] ^= (uint8_t)(1u << bit);
			int r = x86_vcpu_state_parse(p, b.len, &st);
			ck_assert(r == 0 || r == -EINVAL);
			/* inside the registers' bytes a flip is content, which KVM checks */
			if (i < XSB_HEADER_SIZE + XSB_SECTION_HEAD)
				ck_assert_int_eq(r, -EINVAL);
			free(p);
		}
	free(b.p);
}
END_TEST

START_TEST(restore_refuses_bad_blobs_before_kvm)
{
	/* no vCPU or VM behind these: a refused blob never gets as far as an ioctl */
	struct vcpu v;
	struct vm vm;
	memset(&v, 0, sizeof(v));
	memset(&vm, 0, sizeof(vm));
	v.fd = -1;
	vm.fd = -1;
	v.vm = &vm;
	static const uint8_t junk[64] = "HUSKXCPU";
	ck_assert_int_eq(arch_vcpu_restore(&v, junk, sizeof(junk)), -EINVAL);
	ck_assert_int_eq(arch_vcpu_restore(&v, junk, 3), -EINVAL);
	ck_assert_int_eq(arch_vm_restore(&vm, junk, sizeof(junk)), -EINVAL);
	ck_assert_int_eq(arch_vm_restore(&vm, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(cpuid_compare_names_the_first_difference)
{
	struct kvm_cpuid_entry2 a[4], b[4];
	char why[160] = "";
	memset(a, 0, sizeof(a));
	a[0].function = 0;
	a[0].eax = 0xd;
	a[1].function = 1;
	a[1].eax = 0x806f8;
	a[1].ecx = 0x1;
	a[2].function = 7;
	a[3].function = 0xd;
	a[3].index = 1;
	memcpy(b, a, sizeof(a));
	ck_assert_int_eq(x86_cpuid_compare(a, 4, b, 4, why, sizeof(why)), 0);

	/* what KVM changes as the guest runs is not a difference */
	b[1].ecx |= CPUID_1_ECX_OSXSAVE;
	b[1].edx |= 1u << 9;
	b[2].ecx |= 1u << 4;
	b[3].ebx = 0x340;
	ck_assert_int_eq(x86_cpuid_compare(a, 4, b, 4, why, sizeof(why)), 0);

	/* the leaves' order is no difference; a feature is */
	struct kvm_cpuid_entry2 r[4] = { b[3], b[2], b[1], b[0] };
	ck_assert_int_eq(x86_cpuid_compare(a, 4, r, 4, why, sizeof(why)), 0);
	b[1].ecx |= CPUID_1_ECX_XSAVE;
	ck_assert_int_eq(x86_cpuid_compare(a, 4, b, 4, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "CPUID leaf 0x1 index 0 differs: ecx 0x00000001 saved, "
			      "0x0c000001 here");
	b[1] = a[1];
	ck_assert_int_eq(x86_cpuid_compare(a, 4, b, 3, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "CPUID leaf 0xd index 1 is saved but not here");
	ck_assert_int_eq(x86_cpuid_compare(a, 3, b, 4, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "CPUID leaf 0xd index 1 is here but not saved");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("arch_state");
	TCase *tc = tcase_create("blobs");
	tcase_add_test(tc, good_blobs_parse);
	tcase_add_test(tc, every_truncation_is_refused);
	tcase_add_test(tc, bad_magic_version_and_section_count_are_refused);
	tcase_add_test(tc, section_lengths_and_counts_are_checked);
	tcase_add_test(tc, missing_repeated_and_conflicting_sections_are_refused);
	tcase_add_test(tc, section_heads_are_checked);
	tcase_add_test(tc, trailing_bytes_and_wrong_chips_are_refused);
	tcase_add_test(tc, damaged_heads_never_crash);
	tcase_add_test(tc, restore_refuses_bad_blobs_before_kvm);
	tcase_add_test(tc, cpuid_compare_names_the_first_difference);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
