/*
 * The x86 VM and vCPU state blobs (arch_vm_save and friends in arch.h):
 * their sections, and the checks a blob passes before any of it reaches
 * KVM. No KVM calls here (state_check.c); the ioctls are in state.c.
 */
#ifndef HUSK_ARCH_X86_STATE_H
#define HUSK_ARCH_X86_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "arch/x86_64/state_blob.h"

#define X86_STATE_VM_MAGIC   "HUSKXVM"	/* 7 characters and the NUL */
#define X86_STATE_VCPU_MAGIC "HUSKXCPU" /* 8 characters, no NUL */

/* Bounds on what a blob may hold (KVM's own limits, or well above them). */
#define X86_STATE_MAX_MSRS   1024
#define X86_STATE_MAX_CPUID  256   /* KVM_MAX_CPUID_ENTRIES */
#define X86_STATE_XSAVE_MIN  4096  /* sizeof(struct kvm_xsave) */
#define X86_STATE_XSAVE_MAX  65536 /* KVM_CAP_XSAVE2 says about 11 KiB with AMX */
#define X86_STATE_XSAVE_UNIT 4

enum x86_vm_tag {
	X86_VM_PIC_MASTER = 1, /* struct kvm_irqchip, chip_id KVM_IRQCHIP_PIC_MASTER */
	X86_VM_PIC_SLAVE,      /* struct kvm_irqchip, chip_id KVM_IRQCHIP_PIC_SLAVE */
	X86_VM_IOAPIC,	       /* struct kvm_irqchip, chip_id KVM_IRQCHIP_IOAPIC */
	X86_VM_PIT,	       /* struct kvm_pit_state2 */
	X86_VM_CLOCK,	       /* struct kvm_clock_data */
};

enum x86_vcpu_tag {
	X86_VCPU_REGS = 1,  /* struct kvm_regs */
	X86_VCPU_SREGS,	    /* struct kvm_sregs */
	X86_VCPU_FPU,	    /* struct kvm_fpu, where KVM has no XSAVE */
	X86_VCPU_XSAVE,	    /* struct kvm_xsave, as long as KVM_CAP_XSAVE2 says */
	X86_VCPU_XCRS,	    /* struct kvm_xcrs, where KVM has them */
	X86_VCPU_MSRS,	    /* struct kvm_msr_entry[] */
	X86_VCPU_LAPIC,	    /* struct kvm_lapic_state */
	X86_VCPU_EVENTS,    /* struct kvm_vcpu_events */
	X86_VCPU_MP_STATE,  /* struct kvm_mp_state */
	X86_VCPU_DEBUGREGS, /* struct kvm_debugregs, where KVM has them */
	X86_VCPU_CPUID,	    /* struct kvm_cpuid_entry2[]: the CPUID the vCPU had */
};

/* A VM blob, checked and copied out. */
struct x86_vm_state {
	struct kvm_irqchip chip[3]; /* PIC master, PIC slave, IO-APIC */
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

/*
 * A vCPU blob, checked: the fixed-size structures copied out, the
 * variable ones (XSAVE area, MSRs, CPUID) left in the blob, unaligned.
 */
struct x86_vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	bool has_fpu, has_xcrs, has_debugregs;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct xsb_view xsave; /* data NULL where the blob has FPU instead */
	struct xsb_view msrs;  /* nmsrs struct kvm_msr_entry */
	struct xsb_view cpuid; /* ncpuid struct kvm_cpuid_entry2 */
	uint32_t nmsrs, ncpuid;
};

/* Check a blob and fill st: 0, or -EINVAL with a message naming the fault. */
int x86_vm_state_parse(const void *blob, size_t len, struct x86_vm_state *st);
int x86_vcpu_state_parse(const void *blob, size_t len, struct x86_vcpu_state *st);

/*
 * Whether a vCPU's CPUID (cur, now) is the one saved: every leaf and
 * subleaf alike, but for the bits KVM itself changes as the guest runs
 * (OSXSAVE, OSPKE, MWAIT and the APIC bit follow CR4, MISC_ENABLE and the
 * APIC base; leaf 0xd's sizes follow XCR0), which the restored registers
 * set again. 0, or -EINVAL with the first difference written to why.
 */
int x86_cpuid_compare(const struct kvm_cpuid_entry2 *saved, size_t nsaved,
		      const struct kvm_cpuid_entry2 *cur, size_t ncur, char *why, size_t whylen);

#endif
