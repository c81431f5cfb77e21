/*
 * The guest physical memory map, in one place.
 *
 *   0x00000000  first page: left zero (real-mode IVT / BDA)
 *   0x00006000  setup_data: the RNG seed for the guest kernel
 *   0x00007000  boot_params ("zero page")
 *   0x00008000  initial stack for the 64-bit entry (grows down)
 *   0x00009000  PML4, 0x0000a000 PDPT, 0x0000b000 PD: identity map of 1 GiB
 *   0x0000c000  GDT
 *   0x00020000  kernel command line
 *   0x0009fc00  MP floating pointer and table (EBDA; reserved in e820)
 *   0x00100000  RAM continues
 *   0x01000000  kernel (16 MiB, the x86_64 LOAD_PHYSICAL_ADDR)
 *   ...         initramfs at the top of low RAM
 *   0xc0000000  MMIO gap up to 4 GiB: virtio-mmio windows, IO-APIC, LAPIC
 *   0x100000000 RAM above 3 GiB, if any
 */
#ifndef HUSK_ARCH_MEMMAP_H
#define HUSK_ARCH_MEMMAP_H

#define MM_SETUP_DATA	  0x6000ULL
#define MM_ZERO_PAGE	  0x7000ULL
#define MM_BOOT_STACK	  0x8ff0ULL
#define MM_PML4		  0x9000ULL
#define MM_PDPT		  0xa000ULL
#define MM_PD		  0xb000ULL
#define MM_GDT		  0xc000ULL
#define MM_CMDLINE	  0x20000ULL
#define MM_CMDLINE_MAX	  2048U
#define MM_EBDA_START	  0x9fc00ULL
#define MM_MPTABLE	  MM_EBDA_START
#define MM_HIGH_RAM_START 0x100000ULL
#define MM_KERNEL_START	  0x1000000ULL
#define MM_IDENTITY_MAP	  0x40000000ULL
#define MM_GAP_START	  0xc0000000ULL
#define MM_GAP_END	  0x100000000ULL
#define MM_MMIO_START	  0xd0000000ULL
#define MM_IOAPIC	  0xfec00000ULL
#define MM_LAPIC	  0xfee00000ULL

/* The least guest RAM that holds the low structures and a kernel. */
#define MM_MIN_RAM (32ULL << 20)

#endif
