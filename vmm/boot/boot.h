/* Everything that goes into guest RAM before the first instruction runs. */
#ifndef HUSK_BOOT_BOOT_H
#define HUSK_BOOT_BOOT_H

#include <stdint.h>

#include "arch/arch.h"
#include "boot/boot_image.h"
#include "boot/cmdline.h"
#include "config.h"
#include "guest_mem.h"
#include "kvm/flavour.h"

/* The command line every husk guest gets, before the flavour's and the user's. */
#define BOOT_BASE_CMDLINE "reboot=k panic=-1 halt_reset"
/* The console: hvc0 (early messages on the platform's UART until it is up), or that UART. */
#define BOOT_CONSOLE_VIRTIO "console=hvc0 " ARCH_CONSOLE_EARLY
#define BOOT_CONSOLE_SERIAL ARCH_CONSOLE_SERIAL

/*
 * The whole kernel command line: base, the flavour's additions, the
 * devices' entries (may be NULL), then the user's.
 */
int boot_build_cmdline(struct cmdline *c, const struct vmm_config *cfg,
		       const struct kvm_flavour *fl, const char *devices);

/* The kernel and the initramfs, in guest RAM. */
struct boot_loaded {
	struct boot_image kernel;
	uint64_t initrd_gpa;
	uint64_t initrd_size; /* 0: none */
};

/*
 * Load the kernel and initramfs named in cfg into guest RAM. Only the
 * guest RAM is touched: the VM's own set-up may still be under way.
 */
int boot_load(const struct guest_mem *gm, const struct vmm_config *cfg, struct boot_loaded *out);

/*
 * Then write the command line and everything the kernel reads at entry
 * (arch_boot_write; devices: their command-line entries; irq_end: one past
 * the highest IRQ they use, 0 for none). *entry gets the kernel's entry.
 */
int boot_finish(const struct guest_mem *gm, const struct vmm_config *cfg,
		const struct kvm_flavour *fl, const char *devices, unsigned irq_end,
		const struct boot_loaded *ld, uint64_t *entry);

#endif
