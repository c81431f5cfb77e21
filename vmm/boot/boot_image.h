/* What a kernel loader reports about the image it put into guest RAM. */
#ifndef HUSK_BOOT_IMAGE_H
#define HUSK_BOOT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/arch.h"
#include "guest_mem.h"

/* An ELF vmlinux, or the port's own image format (see arch_boot_load_kernel). */
enum boot_kind { BOOT_ELF, BOOT_NATIVE };

struct boot_image {
	enum boot_kind kind;
	uint64_t entry;	     /* guest-physical entry point */
	uint64_t start, end; /* guest-physical range the kernel may use */
	uint64_t
		initrd_end; /* one past the last byte an initramfs may use; 0: no limit of its own */
	struct arch_boot_image arch; /* what the port's boot tables take from the image */
};

/* Load an ELF vmlinux of ARCH_ELF_MACHINE (entry at e_entry). */
int elf_load(const struct guest_mem *gm, const uint8_t *img, size_t len, struct boot_image *out);

/*
 * Choose where an initramfs of size bytes goes: page-aligned at the top of
 * low RAM (below the kernel's initrd_end), above the kernel.
 */
int boot_place_initrd(const struct guest_mem *gm, const struct boot_image *k, uint64_t size,
		      uint64_t *gpa);

/* The most bytes of initramfs boot_place_initrd could place (bounds inflating one). */
uint64_t boot_initrd_room(const struct guest_mem *gm, const struct boot_image *k);

#endif
