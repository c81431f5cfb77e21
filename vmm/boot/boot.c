#include "boot/boot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "boot/boot_image.h"
#include "boot/cmdline.h"
#include "file_map.h"
#include "log.h"

int boot_build_cmdline(struct cmdline *c, const struct vmm_config *cfg,
			      const struct kvm_flavour *fl, const char *devices)
{
	cmdline_init(c);
	int r = cmdline_append(c, cfg->console_device == CONSOLE_SERIAL ? BOOT_CONSOLE_SERIAL
								 : BOOT_CONSOLE_VIRTIO);
	if (!r)
		r = cmdline_append(c, BOOT_BASE_CMDLINE);
	if (!r)
		r = cmdline_append(c, fl->cmdline);
	if (!r && devices)
		r = cmdline_append(c, devices);
	if (!r && cfg->cmdline)
		r = cmdline_append(c, cfg->cmdline);
	return r;
}

int boot_load(const struct guest_mem *gm, const struct vmm_config *cfg, struct boot_loaded *out)
{
	struct file_map kernel = { 0 }, initrd = { 0 };
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = file_map_open(&kernel, cfg->kernel, "kernel")) < 0)
		return r;
	if ((r = boot_load_kernel(gm, kernel.data, kernel.size, &out->kernel)) < 0) {
		log_err("boot", "%s is not a kernel husk-vmm can boot", cfg->kernel);
		goto out;
	}
	if (cfg->initrd) {
		if ((r = file_map_open(&initrd, cfg->initrd, "initramfs")) < 0)
			goto out;
		if ((r = boot_place_initrd(gm, &out->kernel, initrd.size, &out->initrd_gpa)) < 0)
			goto out;
		if ((r = gm_write(gm, out->initrd_gpa, initrd.data, initrd.size)) < 0)
			goto out;
		out->initrd_size = initrd.size;
	}
out:
	file_map_close(&initrd);
	file_map_close(&kernel);
	return r;
}

int boot_finish(const struct guest_mem *gm, const struct vmm_config *cfg,
		const struct kvm_flavour *fl, const char *devices, unsigned irq_end,
		const struct boot_loaded *ld, uint64_t *entry)
{
	struct cmdline *cl = malloc(sizeof(*cl));
	int r;

	if (!cl)
		return -ENOMEM;
	if ((r = boot_build_cmdline(cl, cfg, fl, devices)) < 0)
		goto out;
	if ((r = arch_boot_write(gm, cfg->vcpus, irq_end, cl->buf, cl->len, ld)) < 0)
		goto out;
	*entry = ld->kernel.entry;
out:
	free(cl);
	return r;
}
