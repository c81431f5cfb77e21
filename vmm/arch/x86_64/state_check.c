/* The x86 state blobs' sections and their checks (see state.h); no KVM calls. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/state.h"
#include "log.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A section holding exactly one structure. */
#define ONE(tag, type, req)                         \
	{                                           \
		tag, #type, sizeof(type), 1, 1, req \
	}

static const struct xsb_spec x86_vm_spec[] = {
	ONE(X86_VM_PIC_MASTER, struct kvm_irqchip, true),
	ONE(X86_VM_PIC_SLAVE, struct kvm_irqchip, true),
	ONE(X86_VM_IOAPIC, struct kvm_irqchip, true),
	ONE(X86_VM_PIT, struct kvm_pit_state2, true),
	ONE(X86_VM_CLOCK, struct kvm_clock_data, true),
};

int x86_vm_state_parse(const void *blob, size_t len, struct x86_vm_state *st)
{
	static const uint32_t chip_ids[3] = { KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE,
					      KVM_IRQCHIP_IOAPIC };
	struct xsb_view v[NELEM(x86_vm_spec)];
	int r = xsb_parse(blob, len, X86_STATE_VM_MAGIC, "VM state", x86_vm_spec,
			  NELEM(x86_vm_spec), v);
	if (r < 0)
		return r;
	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < 3; i++) {
		memcpy(&st->chip[i], v[i].data, sizeof(st->chip[i]));
		if (st->chip[i].chip_id != chip_ids[i]) {
			log_err("state", "VM state: section %u holds irqchip %u, not %u", i + 1,
				st->chip[i].chip_id, chip_ids[i]);
			return -EINVAL;
		}
	}
	memcpy(&st->pit, v[3].data, sizeof(st->pit));
	memcpy(&st->clock, v[4].data, sizeof(st->clock));
	return 0;
}

static const struct xsb_spec x86_vcpu_spec[] = {
	ONE(X86_VCPU_REGS, struct kvm_regs, true),
	ONE(X86_VCPU_SREGS, struct kvm_sregs, true),
	ONE(X86_VCPU_FPU, struct kvm_fpu, false),
	{ X86_VCPU_XSAVE, "XSAVE area", X86_STATE_XSAVE_UNIT,
	  X86_STATE_XSAVE_MIN / X86_STATE_XSAVE_UNIT, X86_STATE_XSAVE_MAX / X86_STATE_XSAVE_UNIT,
	  false },
	ONE(X86_VCPU_XCRS, struct kvm_xcrs, false),
	{ X86_VCPU_MSRS, "MSRs", sizeof(struct kvm_msr_entry), 0, X86_STATE_MAX_MSRS, true },
	ONE(X86_VCPU_LAPIC, struct kvm_lapic_state, true),
	ONE(X86_VCPU_EVENTS, struct kvm_vcpu_events, true),
	ONE(X86_VCPU_MP_STATE, struct kvm_mp_state, true),
	ONE(X86_VCPU_DEBUGREGS, struct kvm_debugregs, false),
	{ X86_VCPU_CPUID, "CPUID", sizeof(struct kvm_cpuid_entry2), 1, X86_STATE_MAX_CPUID, true },
};

/* The view of tag in v (x86_vcpu_spec's order). */
static const struct xsb_view *vcpu_view(const struct xsb_view *v, uint32_t tag)
{
	for (size_t i = 0; i < NELEM(x86_vcpu_spec); i++)
		if (x86_vcpu_spec[i].tag == tag)
			return &v[i];
	return NULL; /* not reached: every tag has a spec */
}

/* Each CPUID leaf and subleaf at most once (up to 256 entries: quadratic is fine). */
static int cpuid_check_unique(const struct xsb_view *v, uint32_t n)
{
	struct kvm_cpuid_entry2 a, b;
	for (uint32_t i = 0; i < n; i++) {
		memcpy(&a, v->data + (size_t)i * sizeof(a), sizeof(a));
		for (uint32_t j = i + 1; j < n; j++) {
			memcpy(&b, v->data + (size_t)j * sizeof(b), sizeof(b));
			if (a.function == b.function && a.index == b.index) {
				log_err("state",
					"vCPU state: CPUID leaf %#x index %u appears twice",
					a.function, a.index);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int x86_vcpu_state_parse(const void *blob, size_t len, struct x86_vcpu_state *st)
{
	struct xsb_view v[NELEM(x86_vcpu_spec)];
	int r = xsb_parse(blob, len, X86_STATE_VCPU_MAGIC, "vCPU state", x86_vcpu_spec,
			  NELEM(x86_vcpu_spec), v);
	if (r < 0)
		return r;
	memset(st, 0, sizeof(*st));
	const struct xsb_view *fpu = vcpu_view(v, X86_VCPU_FPU);
	const struct xsb_view *xsave = vcpu_view(v, X86_VCPU_XSAVE);
	if (!fpu->data == !xsave->data) {
		log_err("state", "vCPU state: it must hold either an FPU or an XSAVE section");
		return -EINVAL;
	}
	memcpy(&st->regs, vcpu_view(v, X86_VCPU_REGS)->data, sizeof(st->regs));
	memcpy(&st->sregs, vcpu_view(v, X86_VCPU_SREGS)->data, sizeof(st->sregs));
	memcpy(&st->lapic, vcpu_view(v, X86_VCPU_LAPIC)->data, sizeof(st->lapic));
	memcpy(&st->events, vcpu_view(v, X86_VCPU_EVENTS)->data, sizeof(st->events));
	memcpy(&st->mp_state, vcpu_view(v, X86_VCPU_MP_STATE)->data, sizeof(st->mp_state));
	if ((st->has_fpu = fpu->data))
		memcpy(&st->fpu, fpu->data, sizeof(st->fpu));
	st->xsave = *xsave;
	const struct xsb_view *xcrs = vcpu_view(v, X86_VCPU_XCRS);
	if ((st->has_xcrs = xcrs->data)) {
		memcpy(&st->xcrs, xcrs->data, sizeof(st->xcrs));
		if (st->xcrs.nr_xcrs > KVM_MAX_XCRS) {
			log_err("state", "vCPU state: %u XCRs, more than KVM's %d",
				st->xcrs.nr_xcrs, KVM_MAX_XCRS);
			return -EINVAL;
		}
	}
	const struct xsb_view *dregs = vcpu_view(v, X86_VCPU_DEBUGREGS);
	if ((st->has_debugregs = dregs->data))
		memcpy(&st->debugregs, dregs->data, sizeof(st->debugregs));
	st->msrs = *vcpu_view(v, X86_VCPU_MSRS);
	st->nmsrs = st->msrs.len / sizeof(struct kvm_msr_entry);
	st->cpuid = *vcpu_view(v, X86_VCPU_CPUID);
	st->ncpuid = st->cpuid.len / sizeof(struct kvm_cpuid_entry2);
	return cpuid_check_unique(&st->cpuid, st->ncpuid);
}

/* Bits of a leaf KVM rewrites while the guest runs (kvm_update_cpuid_runtime). */
static uint32_t cpuid_runtime_bits(uint32_t function, uint32_t index, enum cpuid_reg reg)
{
	switch (function) {
	case 1:
		if (reg == CPUID_ECX)
			return CPUID_1_ECX_OSXSAVE | (1u << 3); /* OSXSAVE, MONITOR/MWAIT */
		if (reg == CPUID_EDX)
			return 1u << 9; /* APIC: the APIC base's enable bit */
		return 0;
	case 7: return index == 0 && reg == CPUID_ECX ? 1u << 4 : 0;		   /* OSPKE */
	case 0xd: return (index == 0 || index == 1) && reg == CPUID_EBX ? ~0u : 0; /* XSAVE sizes */
	default: return 0;
	}
}

static const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid_entry2 *e, size_t n,
						 uint32_t function, uint32_t index)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].function == function && e[i].index == index)
			return &e[i];
	return NULL;
}

int x86_cpuid_compare(const struct kvm_cpuid_entry2 *saved, size_t nsaved,
		      const struct kvm_cpuid_entry2 *cur, size_t ncur, char *why, size_t whylen)
{
	static const char *const names[] = { "eax", "ebx", "ecx", "edx" };
	for (size_t i = 0; i < nsaved; i++) {
		const struct kvm_cpuid_entry2 *s = &saved[i];
		const struct kvm_cpuid_entry2 *c = cpuid_find(cur, ncur, s->function, s->index);
		if (!c) {
			snprintf(why, whylen, "CPUID leaf %#x index %u is saved but not here",
				 s->function, s->index);
			return -EINVAL;
		}
		const uint32_t sv[4] = { s->eax, s->ebx, s->ecx, s->edx };
		const uint32_t cv[4] = { c->eax, c->ebx, c->ecx, c->edx };
		for (int r = CPUID_EAX; r <= CPUID_EDX; r++) {
			uint32_t keep = ~cpuid_runtime_bits(s->function, s->index, r);
			if ((sv[r] & keep) != (cv[r] & keep)) {
				snprintf(why, whylen,
					 "CPUID leaf %#x index %u differs: %s %#010x saved, "
					 "%#010x here",
					 s->function, s->index, names[r], sv[r], cv[r]);
				return -EINVAL;
			}
		}
	}
	for (size_t i = 0; i < ncur; i++)
		if (!cpuid_find(saved, nsaved, cur[i].function, cur[i].index)) {
			snprintf(why, whylen, "CPUID leaf %#x index %u is here but not saved",
				 cur[i].function, cur[i].index);
			return -EINVAL;
		}
	return 0;
}
