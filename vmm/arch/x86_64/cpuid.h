/* Per-vCPU CPUID, derived from what KVM supports. No KVM calls here. */
#ifndef HUSK_ARCH_CPUID_H
#define HUSK_ARCH_CPUID_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

/*
 * A feature to withhold from the guest: bits cleared in one register of a
 * leaf; for leaves with subleaves (KVM_CPUID_FLAG_SIGNIFCANT_INDEX), only in
 * subleaf `index`.
 */
struct cpuid_mask {
	uint32_t function;
	enum cpuid_reg reg;
	uint32_t clear;
	uint32_t index;
};

/* Bits used by the masks and by the per-vCPU fix-ups. */
#define CPUID_1_ECX_CX16	 (1u << 13)
#define CPUID_1_ECX_POPCNT	 (1u << 23)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_XSAVE	 (1u << 26)
#define CPUID_1_ECX_OSXSAVE	 (1u << 27)
#define CPUID_1_ECX_HYPERVISOR	 (1u << 31)
#define CPUID_1_EDX_HTT		 (1u << 28)
#define CPUID_7_EBX_ERMS	 (1u << 9)
#define CPUID_7_EBX_SMAP	 (1u << 20)
#define CPUID_7_EDX_FSRM	 (1u << 4)
#define CPUID_KVM_FEATURES	 0x40000001u
#define CPUID_KVM_PV_SEND_IPI	 (1u << 11)

/*
 * Advertise the TSC-deadline mode of the local APIC timer, which KVM
 * emulates but leaves out of its supported CPUID (KVM_CAP_TSC_DEADLINE_TIMER
 * says whether it can). With it the guest needs no APIC timer calibration,
 * a busy wait of several timer ticks at boot.
 */
void cpuid_add_tsc_deadline(struct kvm_cpuid2 *c);

/*
 * Turn KVM's supported CPUID into the one for vCPU vcpu_id of nvcpus:
 * APIC ids, the hypervisor bit, topology, then the masks.
 */
void cpuid_fixup(struct kvm_cpuid2 *c, unsigned vcpu_id, unsigned nvcpus,
		 const struct cpuid_mask *masks, size_t nmasks);

#endif
