/* Intel MultiProcessor Specification 1.4 tables: how Linux finds every vCPU without ACPI. */
#ifndef HUSK_ARCH_MPTABLE_H
#define HUSK_ARCH_MPTABLE_H

#include "guest_mem.h"

#define MPTABLE_MAX_CPUS    254 /* 8-bit APIC ids; the IO-APIC takes the next one */
#define MPTABLE_IOAPIC_PINS 24	/* KVM's IO-APIC */
#define MPTABLE_ISA_PINS    16	/* always described: Linux has their IRQs anyway */

/*
 * Write the floating pointer and configuration table at MM_MPTABLE, with
 * interrupt entries for the IO-APIC pins below irq_end (and at least the
 * ISA ones). Linux sets up an IRQ, with its /proc and sysfs entries, for
 * every pin described, so pins no device uses are left out.
 */
int mptable_write(const struct guest_mem *gm, unsigned ncpus, unsigned irq_end);

#endif
