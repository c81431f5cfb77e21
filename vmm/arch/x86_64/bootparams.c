#include "arch/x86_64/bootparams.h"

#include <errno.h>
#include <string.h>

#include "arch/x86_64/memmap.h"
#include "log.h"

#define BP_LOADER_UNDEFINED 0xff
#define BP_E820_RAM	    1
#define BP_E820_RESERVED    2

static int bp_add_e820(struct boot_params *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	if (bp->e820_entries >= E820_MAX_ENTRIES_ZEROPAGE)
		return -ENOSPC;
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];
	e->addr = addr;
	e->size = size;
	e->type = type;
	return 0;
}

int bp_build(struct boot_params *bp, const struct guest_mem *gm, const struct boot_image *k,
	     const struct boot_args *a)
{
	memset(bp, 0, sizeof(*bp));
	if (k->arch.has_hdr)
		bp->hdr = k->arch.hdr;

	struct setup_header *h = &bp->hdr;
	h->type_of_loader = BP_LOADER_UNDEFINED;
	h->boot_flag = 0xaa55;
	h->header = 0x53726448u;
	h->loadflags |= LOADED_HIGH;
	if (!k->arch.has_hdr)
		h->kernel_alignment = 0x1000000;

	if (a->cmdline_len >= MM_CMDLINE_MAX ||
	    (h->cmdline_size && a->cmdline_len > h->cmdline_size)) {
		log_err("bootparams", "command line of %u bytes is longer than the kernel accepts",
			a->cmdline_len);
		return -E2BIG;
	}
	h->cmd_line_ptr = (uint32_t)a->cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(a->cmdline_gpa >> 32);

	if (a->initrd_size) {
		h->ramdisk_image = (uint32_t)a->initrd_gpa;
		h->ramdisk_size = (uint32_t)a->initrd_size;
		bp->ext_ramdisk_image = (uint32_t)(a->initrd_gpa >> 32);
		bp->ext_ramdisk_size = (uint32_t)(a->initrd_size >> 32);
	}

	/* RAM below the EBDA, the EBDA and BIOS area reserved, then RAM. */
	uint64_t low = gm_low_end(gm);
	int r = bp_add_e820(bp, 0, MM_EBDA_START, BP_E820_RAM);
	if (!r)
		r = bp_add_e820(bp, MM_EBDA_START, MM_HIGH_RAM_START - MM_EBDA_START,
				BP_E820_RESERVED);
	if (!r)
		r = bp_add_e820(bp, MM_HIGH_RAM_START, low - MM_HIGH_RAM_START, BP_E820_RAM);
	for (unsigned i = 1; !r && i < gm->nregions; i++)
		r = bp_add_e820(bp, gm->regions[i].gpa, gm->regions[i].size, BP_E820_RAM);
	return r;
}
