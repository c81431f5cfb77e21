/*
 * virtio-console (device 3), a single port without the multiport feature:
 * the guest's hvc0. Output goes to the same console stream as the UART's,
 * many bytes per notification instead of one port write per byte. No input
 * yet: the receive queue is left alone.
 */
#ifndef HUSK_DEVICES_VIRTIO_CONSOLE_H
#define HUSK_DEVICES_VIRTIO_CONSOLE_H

#include <stdbool.h>

#include "devices/console_out.h"
#include "virtio/mmio.h"

struct virtio_console {
	struct console_out *out;
	struct virtio_queues q;
	bool active;
};

extern const struct virtio_device_ops virtio_console_ops;

#endif
