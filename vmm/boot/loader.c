/* Picks the kernel loader by magic and places the initramfs. */
#include <errno.h>
#include <string.h>

#include "boot/boot_image.h"
#include "log.h"

int boot_load_kernel(const struct guest_mem *gm, const uint8_t *img, size_t len,
		     struct boot_image *out)
{
	if (len >= 4 && memcmp(img, "\177ELF", 4) == 0)
		return elf_load(gm, img, len, out);
	return bzimage_load(gm, img, len, out);
}

/* The end of the RAM an initramfs may use: low RAM, below the kernel's initrd_addr_max. */
static uint64_t boot_initrd_top(const struct guest_mem *gm, const struct boot_image *k)
{
	uint64_t top = gm_low_end(gm);
	if (k->has_hdr && k->hdr.initrd_addr_max && (uint64_t)k->hdr.initrd_addr_max + 1 < top)
		top = (uint64_t)k->hdr.initrd_addr_max + 1;
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
