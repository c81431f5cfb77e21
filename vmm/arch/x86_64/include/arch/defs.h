/*
 * What vmm/arch/arch.h leaves to the x86_64 port: its memory map under the
 * generic names, and its state in struct kvm, struct kvm_flavour and
 * struct boot_image.
 */
#ifndef HUSK_ARCH_DEFS_H
#define HUSK_ARCH_DEFS_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <asm/bootparam.h>
#include <linux/kvm.h>

#include "arch/x86_64/memmap.h"

#define ARCH_NAME	      "x86_64"
#define ARCH_ELF_MACHINE      EM_X86_64
#define ARCH_KERNEL_START     MM_KERNEL_START
#define ARCH_PC_NAME	      "rip"
#define ARCH_MIN_RAM	      MM_MIN_RAM
#define ARCH_RAM_START	      0ULL
#define ARCH_RAM_GAP_START    MM_GAP_START
#define ARCH_RAM_GAP_END      MM_GAP_END
#define ARCH_CMDLINE_MAX      MM_CMDLINE_MAX
#define ARCH_MMIO_START	      MM_MMIO_START
#define ARCH_DEVICE_IRQ_FIRST 5	 /* 4 is the UART's */
#define ARCH_DEVICE_IRQ_LAST  23 /* IO-APIC pins */
#define ARCH_CONSOLE_EARLY    "earlycon=uart8250,io,0x3f8"
#define ARCH_CONSOLE_SERIAL   "console=ttyS0"

struct cpuid_mask;

struct arch_kvm {
	struct kvm_cpuid2 *supported_cpuid; /* with TSC-deadline added if KVM has it */
	struct kvm_msr_list *msr_list;	    /* KVM's MSR index list and the MTRRs: a state's MSRs */
};

struct arch_boot_image {
	bool has_hdr;		 /* hdr was copied from a bzImage */
	struct setup_header hdr; /* the zero page starts from it */
};

struct arch_flavour {
	const struct cpuid_mask *masks; /* CPUID features withheld */
	size_t nmasks;
};

#endif
