/*
 * The state a vCPU starts in for the Linux 64-bit boot protocol: long mode,
 * paging on an identity map, flat segments, rsi = boot_params. These
 * functions fill KVM's structures; they make no KVM calls.
 */
#ifndef HUSK_ARCH_CPU_BOOT_H
#define HUSK_ARCH_CPU_BOOT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "guest_mem.h"

/* Identity page tables and the GDT, into guest RAM (once per VM). */
int x86_write_boot_tables(const struct guest_mem *gm);

/* Segment and control registers for 64-bit mode. */
void x86_boot_sregs(struct kvm_sregs *s);

/* General registers: the boot vCPU at entry, rsi = boot_params. */
void x86_boot_regs(struct kvm_regs *r, uint64_t entry, uint64_t boot_params);

/* x87/SSE state after reset. */
void x86_boot_fpu(struct kvm_fpu *f);

/* MSR values at start; returns how many entries it filled (at most max). */
size_t x86_boot_msrs(struct kvm_msr_entry *e, size_t max);

/* LINT0 as ExtINT and LINT1 as NMI, as a PC's BIOS leaves them. */
void x86_lapic_set_lints(struct kvm_lapic_state *l);

#endif
