/* Everything that goes into guest RAM before the first instruction runs. */
#ifndef HUSK_BOOT_BOOT_H
#define HUSK_BOOT_BOOT_H

#include <stdint.h>

#include "boot/cmdline.h"
#include "config.h"
#include "guest_mem.h"
#include "kvm/flavour.h"

/* The command line every husk guest gets, before the flavour's and the user's. */
#define BOOT_BASE_CMDLINE "reboot=k panic=-1 halt_reset"
/* The console: hvc0 (early messages on the UART until it is up), or ttyS0. */
#define BOOT_CONSOLE_VIRTIO "console=hvc0 earlycon=uart8250,io,0x3f8"
#define BOOT_CONSOLE_SERIAL "console=ttyS0"

/*
 * The whole kernel command line: base, the flavour's additions, the
 * devices' entries (may be NULL), then the user's.
 */
int boot_build_cmdline(struct cmdline *c, const struct vmm_config *cfg,
		       const struct kvm_flavour *fl, const char *devices);

/*
 * Load the kernel and initramfs named in cfg, and write the command line,
 * boot_params, boot page tables and MP table (devices: their command-line
 * entries; irq_end: one past the highest IRQ they use, 0 for none).
 * *entry gets the 64-bit entry.
 */
int boot_prepare(const struct guest_mem *gm, const struct vmm_config *cfg,
		 const struct kvm_flavour *fl, const char *devices, unsigned irq_end,
		 uint64_t *entry);

#endif
