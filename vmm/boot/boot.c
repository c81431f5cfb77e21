#include "boot/boot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "boot/boot_image.h"
#include "boot/cmdline.h"
#include "boot/gunzip.h"
#include "file_map.h"
#include "husk/path.h"
#include "log.h"

int boot_build_cmdline(struct cmdline *c, const struct vmm_config *cfg,
		       const struct kvm_flavour *fl, const char *devices)
{
	cmdline_init(c);
	int r = cmdline_append(c, cfg->console_device == CONSOLE_SERIAL ? BOOT_CONSOLE_SERIAL :
									  BOOT_CONSOLE_VIRTIO);
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

/*
 * The image in f, or, where f is gzip-compressed, what it inflates to (at most
 * max bytes) in *owned, which the caller frees.
 */
static int boot_image_bytes(const struct file_map *f, size_t max, const char *what, uint8_t **owned,
			    const uint8_t **data, size_t *size)
{
	*owned = NULL;
	*data = f->data;
	*size = f->size;
	if (!gunzip_is_gzip(f->data, f->size))
		return 0;
	int r = gunzip_inflate(f->data, f->size, max, what, owned, size);
	*data = *owned;
	return r;
}

int boot_load(const struct guest_mem *gm, const struct vmm_config *cfg, struct boot_loaded *out)
{
	struct file_map kernel = { 0 }, initrd = { 0 };
	cleanup_free uint8_t *kernel_owned = NULL;
	cleanup_free uint8_t *initrd_owned = NULL;
	const uint8_t *data;
	size_t size;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = file_map_open(&kernel, cfg->kernel, "kernel")) < 0)
		return r;
	if ((r = boot_image_bytes(&kernel, gm_low_end(gm), "kernel", &kernel_owned, &data, &size)) <
	    0)
		goto out;
	if ((r = arch_boot_load_kernel(gm, data, size, &out->kernel)) < 0) {
		log_err("boot", "%s is not a kernel husk-vmm can boot", cfg->kernel);
		goto out;
	}
	if (cfg->initrd) {
		if ((r = file_map_open(&initrd, cfg->initrd, "initramfs")) < 0)
			goto out;
		if ((r = boot_image_bytes(&initrd, boot_initrd_room(gm, &out->kernel), "initramfs",
					  &initrd_owned, &data, &size)) < 0)
			goto out;
		if ((r = boot_place_initrd(gm, &out->kernel, size, &out->initrd_gpa)) < 0)
			goto out;
		if ((r = gm_write(gm, out->initrd_gpa, data, size)) < 0)
			goto out;
		out->initrd_size = size;
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
