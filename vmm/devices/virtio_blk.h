/* virtio-blk (device 2) backed by a raw image file, read-write or read-only, with flush. */
#ifndef HUSK_DEVICES_VIRTIO_BLK_H
#define HUSK_DEVICES_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "virtio/mmio.h"

struct virtio_blk {
	int fd;
	bool read_only;
	uint64_t size; /* bytes; a multiple of 512 is used */
	char id[20];   /* VIRTIO_BLK_T_GET_ID answer */
	struct virtio_queues q;
	bool active;
};

/* The ops table for b: read-only images also offer VIRTIO_BLK_F_RO. */
const struct virtio_device_ops *virtio_blk_ops_for(const struct virtio_blk *b);

/* Open the disk d names; -errno with a message if it cannot be used. */
int virtio_blk_open(struct virtio_blk *b, const struct disk_config *d);
void virtio_blk_close(struct virtio_blk *b);

#endif
