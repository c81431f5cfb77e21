#include "arch/x86_64/cpuid.h"

static uint32_t *cpuid_reg_ptr(struct kvm_cpuid_entry2 *e, enum cpuid_reg r)
{
	switch (r) {
	case CPUID_EAX: return &e->eax;
	case CPUID_EBX: return &e->ebx;
	case CPUID_ECX: return &e->ecx;
	default: return &e->edx;
	}
}

void cpuid_add_tsc_deadline(struct kvm_cpuid2 *c)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1)
			c->entries[i].ecx |= CPUID_1_ECX_TSC_DEADLINE;
}

void cpuid_fixup(struct kvm_cpuid2 *c, unsigned vcpu_id, unsigned nvcpus,
		 const struct cpuid_mask *masks, size_t nmasks)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* APIC id, logical processor count, CLFLUSH line size 64 bytes */
			e->ebx = (vcpu_id << 24) | ((nvcpus & 0xff) << 16) | (8u << 8) |
				 (e->ebx & 0xff);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (nvcpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			else
				e->edx &= ~CPUID_1_EDX_HTT;
			break;
		case 0xb:
		case 0x1f:
			/* x2APIC id of this vCPU for every topology level */
			e->edx = vcpu_id;
			break;
		default: break;
		}
		for (size_t m = 0; m < nmasks; m++) {
			if (masks[m].function != e->function)
				continue;
			if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
			    e->index != masks[m].index)
				continue;
			*cpuid_reg_ptr(e, masks[m].reg) &= ~masks[m].clear;
		}
	}
}
