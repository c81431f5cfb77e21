/*
 * Places the initramfs above the kernel (the port's arch_boot_load_kernel
 * put it there and said how high an initramfs may go).
 */
#include <errno.h>

#include "boot/boot_image.h"
#include "log.h"

/* The end of the RAM an initramfs may use: low RAM, below the kernel's initrd_end. */
static uint64_t boot_initrd_top(const struct guest_mem *gm, const struct boot_image *k)
{
	uint64_t top = gm_low_end(gm);
	if (k->initrd_end && k->initrd_end < top)
		top = k->initrd_end;
	return top;
}

uint64_t boot_initrd_room(const struct guest_mem *gm, const struct boot_image *k)
{
	uint64_t top = boot_initrd_top(gm, k) & ~0xfffULL;
	uint64_t start = (k->end + 0xfff) & ~0xfffULL;
	return top > start ? top - start : 0;
}

int boot_place_initrd(const struct guest_mem *gm, const struct boot_image *k, uint64_t size,
		      uint64_t *gpa)
{
	uint64_t top = boot_initrd_top(gm, k);
	if (size > top || ((top - size) & ~0xfffULL) < k->end) {
		log_err("initrd",
			"initramfs of %llu KiB does not fit in guest RAM above the "
			"kernel (%llu MiB of low RAM)",
			(unsigned long long)(size >> 10),
			(unsigned long long)(gm_low_end(gm) >> 20));
		return -ENOMEM;
	}
	*gpa = (top - size) & ~0xfffULL;
	return 0;
}
