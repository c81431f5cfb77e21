/* The one registration of every device module (see device_module.h). */
#include "devices/device_module.h"

extern const struct device_module virtio_rng_module;
extern const struct device_module virtio_blk_module;
extern const struct device_module virtio_fs_module;
extern const struct device_module virtio_net_module;
extern const struct device_module vsock_module;

const struct device_module *const device_modules[DEVICE_MODULES_MAX + 1] = {
	&virtio_rng_module, &virtio_blk_module, &virtio_fs_module,
	&virtio_net_module, &vsock_module,	NULL,
};
