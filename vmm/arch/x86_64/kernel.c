/* The x86 kernel loaders, picked by magic: an ELF vmlinux or a bzImage. */
#include <string.h>

#include "arch/arch.h"
#include "arch/x86_64/bzimage.h"
#include "boot/boot_image.h"

int arch_boot_load_kernel(const struct guest_mem *gm, const uint8_t *img, size_t len,
			  struct boot_image *out)
{
	if (len >= 4 && memcmp(img, "\177ELF", 4) == 0)
		return elf_load(gm, img, len, out);
	return bzimage_load(gm, img, len, out);
}
