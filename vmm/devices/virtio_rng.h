/* virtio-rng (device 4): guest buffers filled from the host's getrandom(). */
#ifndef HUSK_DEVICES_VIRTIO_RNG_H
#define HUSK_DEVICES_VIRTIO_RNG_H

#include "virtio/mmio.h"

struct virtio_rng {
	struct virtio_queues q;
	bool active;
};

extern const struct virtio_device_ops virtio_rng_ops;

#endif
