/* The Linux x86 "zero page": setup header, command line, initramfs, e820 map. */
#ifndef HUSK_ARCH_BOOTPARAMS_H
#define HUSK_ARCH_BOOTPARAMS_H

#include <stdint.h>
#include <asm/bootparam.h>

#include "boot/boot_image.h"

struct boot_args {
	uint64_t cmdline_gpa;
	uint32_t cmdline_len; /* without the NUL */
	uint64_t initrd_gpa;
	uint64_t initrd_size; /* 0: none */
};

/* Fill bp for kernel k; guest RAM layout from gm. */
int bp_build(struct boot_params *bp, const struct guest_mem *gm, const struct boot_image *k,
	     const struct boot_args *a);

#endif
