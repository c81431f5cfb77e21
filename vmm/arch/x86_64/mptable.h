/* Intel MultiProcessor Specification 1.4 tables: how Linux finds every vCPU without ACPI. */
#ifndef HUSK_ARCH_MPTABLE_H
#define HUSK_ARCH_MPTABLE_H

#include "guest_mem.h"

#define MPTABLE_MAX_CPUS 254   /* 8-bit APIC ids; the IO-APIC takes the next one */
#define MPTABLE_IOAPIC_PINS 24

/* Write the floating pointer and configuration table at MM_MPTABLE. */
int mptable_write(const struct guest_mem *gm, unsigned ncpus);

#endif
