/* What a kernel loader reports about the image it put into guest RAM. */
#ifndef HUSK_BOOT_IMAGE_H
#define HUSK_BOOT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <asm/bootparam.h>

#include "guest_mem.h"

enum boot_kind { BOOT_ELF, BOOT_BZIMAGE };

struct boot_image {
	enum boot_kind kind;
	uint64_t entry;	     /* guest-physical 64-bit entry point */
	uint64_t start, end; /* guest-physical range the kernel may use */
	bool has_hdr;	     /* hdr was copied from a bzImage */
	struct setup_header hdr;
};

/* Load an ELF vmlinux (64-bit boot protocol entry at e_entry). */
int elf_load(const struct guest_mem *gm, const uint8_t *img, size_t len, struct boot_image *out);

/* Load a bzImage's protected-mode kernel; entry is its 64-bit entry. */
int bzimage_load(const struct guest_mem *gm, const uint8_t *img, size_t len,
		 struct boot_image *out);

/* Pick the loader by magic: ELF or a bzImage setup header. */
int boot_load_kernel(const struct guest_mem *gm, const uint8_t *img, size_t len,
		     struct boot_image *out);

/*
 * Choose where an initramfs of size bytes goes: page-aligned at the top of
 * low RAM (below the kernel's initrd_addr_max), above the kernel.
 */
int boot_place_initrd(const struct guest_mem *gm, const struct boot_image *k, uint64_t size,
		      uint64_t *gpa);

/* The most bytes of initramfs boot_place_initrd could place (bounds inflating one). */
uint64_t boot_initrd_room(const struct guest_mem *gm, const struct boot_image *k);

#endif
