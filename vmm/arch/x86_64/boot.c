/*
 * What an x86 kernel reads at its 64-bit entry, written once the kernel and
 * initramfs are in guest RAM: the command line, the zero page with an RNG
 * seed in setup_data, the boot page tables and GDT, and the MP table.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "arch/arch.h"
#include "arch/x86_64/bootparams.h"
#include "arch/x86_64/cpu_boot.h"
#include "arch/x86_64/memmap.h"
#include "arch/x86_64/mptable.h"
#include "boot/boot.h"
#include "log.h"

#define BOOT_RNG_SEED_BYTES 32

/*
 * Seed the guest kernel's RNG from the host's through setup_data, so that
 * it need not gather entropy, which is slow where its code runs emulated
 * (the guest kernel is built with RANDOM_TRUST_BOOTLOADER).
 */
static int boot_write_rng_seed(const struct guest_mem *gm, struct boot_params *bp)
{
	struct setup_data *sd = gm_gpa_to_hva(gm, MM_SETUP_DATA, sizeof(*sd) + BOOT_RNG_SEED_BYTES);
	if (!sd)
		return -ENOMEM;
	memset(sd, 0, sizeof(*sd));
	sd->type = SETUP_RNG_SEED;
	sd->len = BOOT_RNG_SEED_BYTES;
	if (getrandom(sd->data, BOOT_RNG_SEED_BYTES, 0) != BOOT_RNG_SEED_BYTES) {
		log_err("boot", "getrandom failed: no seed for the guest");
		return -EIO;
	}
	bp->hdr.setup_data = MM_SETUP_DATA;
	return 0;
}

int arch_boot_write(const struct guest_mem *gm, unsigned ncpus, unsigned irq_end,
		    const char *cmdline, size_t len, const struct boot_loaded *ld)
{
	struct boot_args args = { .cmdline_gpa = MM_CMDLINE,
				  .cmdline_len = (uint32_t)len,
				  .initrd_gpa = ld->initrd_gpa,
				  .initrd_size = ld->initrd_size };
	int r;

	if ((r = gm_write(gm, MM_CMDLINE, cmdline, len + 1)) < 0)
		return r;
	struct boot_params *bp = gm_gpa_to_hva(gm, MM_ZERO_PAGE, sizeof(*bp));
	if (!bp)
		return -ENOMEM;
	if ((r = bp_build(bp, gm, &ld->kernel, &args)) < 0)
		return r;
	if ((r = boot_write_rng_seed(gm, bp)) < 0)
		return r;
	if ((r = x86_write_boot_tables(gm)) < 0)
		return r;
	return mptable_write(gm, ncpus, irq_end);
}
