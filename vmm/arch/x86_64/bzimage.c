/*
 * bzImage loader (Linux x86 boot protocol, 64-bit entry). The setup header
 * at 0x1f1 describes the image; the protected-mode kernel that follows the
 * setup sectors is loaded at 16 MiB and entered at its start + 0x200.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/arch.h"
#include "arch/x86_64/bzimage.h"
#include "log.h"

#define BZ_HDR_OFFSET  0x1f1
#define BZ_MAGIC       0x53726448u /* "HdrS" */
#define BZ_MIN_VERSION 0x020c	   /* 2.12: xloadflags */
#define BZ_ENTRY64     0x200

int bzimage_load(const struct guest_mem *gm, const uint8_t *img, size_t len, struct boot_image *out)
{
	struct setup_header hdr;

	if (len < BZ_HDR_OFFSET + sizeof(hdr)) {
		log_err("bzimage", "image is %zu bytes, too short for a setup header", len);
		return -ENOEXEC;
	}
	memcpy(&hdr, img + BZ_HDR_OFFSET, sizeof(hdr));
	if (hdr.header != BZ_MAGIC || hdr.boot_flag != 0xaa55) {
		log_err("bzimage", "no Linux setup header (HdrS) in the image");
		return -ENOEXEC;
	}
	if (hdr.version < BZ_MIN_VERSION) {
		log_err("bzimage", "boot protocol %u.%02u is older than 2.12", hdr.version >> 8,
			hdr.version & 0xff);
		return -ENOEXEC;
	}
	if (!(hdr.xloadflags & XLF_KERNEL_64)) {
		log_err("bzimage", "the kernel has no 64-bit entry point");
		return -ENOEXEC;
	}
	if (!(hdr.loadflags & LOADED_HIGH)) {
		log_err("bzimage", "zImage kernels (loaded low) are not supported");
		return -ENOEXEC;
	}

	uint64_t setup_sects = hdr.setup_sects ? hdr.setup_sects : 4;
	uint64_t setup_size = (setup_sects + 1) * 512;
	if (setup_size >= len) {
		log_err("bzimage", "setup sectors (%llu bytes) cover the whole image",
			(unsigned long long)setup_size);
		return -ENOEXEC;
	}
	uint64_t payload = len - setup_size;
	if (payload <= BZ_ENTRY64) {
		log_err("bzimage", "protected-mode kernel is too short");
		return -ENOEXEC;
	}
	/* The decompressor works in place and needs init_size bytes there. */
	uint64_t span = hdr.init_size > payload ? hdr.init_size : payload;
	if (!gm_gpa_to_hva(gm, ARCH_KERNEL_START, span)) {
		log_err("bzimage", "kernel needs %llu MiB above 16 MiB, more than guest RAM",
			(unsigned long long)(span >> 20));
		return -ENOMEM;
	}
	int r = gm_write(gm, ARCH_KERNEL_START, img + setup_size, payload);
	if (r < 0)
		return r;

	memset(out, 0, sizeof(*out));
	out->kind = BOOT_NATIVE;
	out->entry = ARCH_KERNEL_START + BZ_ENTRY64;
	out->start = ARCH_KERNEL_START;
	out->end = ARCH_KERNEL_START + span;
	if (hdr.initrd_addr_max)
		out->initrd_end = (uint64_t)hdr.initrd_addr_max + 1;
	out->arch.has_hdr = true;
	out->arch.hdr = hdr;
	return 0;
}
