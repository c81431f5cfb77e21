/* The bzImage loader (Linux x86 boot protocol 2.12 or later, 64-bit entry). */
#ifndef HUSK_ARCH_BZIMAGE_H
#define HUSK_ARCH_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "boot/boot_image.h"

/*
 * Load a bzImage's protected-mode kernel at ARCH_KERNEL_START; entry is its
 * 64-bit entry, initrd_end from initrd_addr_max, and arch.hdr its setup header.
 */
int bzimage_load(const struct guest_mem *gm, const uint8_t *img, size_t len,
		 struct boot_image *out);

#endif
