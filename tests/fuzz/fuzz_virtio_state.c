/*
 * libFuzzer target for virtio_mmio_restore: the input is a transport blob
 * and the guest RAM it is restored against (a small heap block, so that
 * AddressSanitizer catches any access outside it). What restore takes is
 * then used as a guest would: every queue kicked, the registers read, the
 * device reset. A device with state of its own (save/restore ops) or
 * without is chosen by the first byte.
 *
 * Input layout: 0 flags (bit 0: the device has state of its own), 1..2
 * blob length (little-endian), the blob, then RAM (FUZZ_RAM bytes at most).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest_mem.h"
#include "virtio/mmio.h"
#include "virtio/virtqueue.h"

#define FUZZ_RAM 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_dev {
	const struct virtio_queues *q;
	uint8_t state[16];
};

static int fd_activate(void *dev, uint64_t features, const struct virtio_queues *q)
{
	(void)features;
	((struct fuzz_dev *)dev)->q = q;
	return 0;
}

static int fd_restore(void *dev, uint64_t features, const struct virtio_queues *q, const void *blob,
		      size_t len)
{
	struct fuzz_dev *f = dev;
	if (len > sizeof(f->state))
		return -EINVAL;
	memcpy(f->state, blob, len);
	return fd_activate(dev, features, q);
}

static int fd_save(void *dev, void **blob, size_t *len)
{
	(void)dev;
	*blob = NULL;
	*len = 0;
	return 0;
}

/* Every available chain back as used, as a simple device does. */
static void fd_notify(void *dev, unsigned queue)
{
	static struct vq_chain ch;
	struct fuzz_dev *f = dev;
	struct virtqueue *vq = &f->q->vq[queue];
	int r;
	while ((r = vq_pop(vq, &ch)) == 1)
		vq_push(vq, ch.head, ch.writable);
	if (r < 0)
		f->q->queue_broken(f->q->transport, queue);
	else
		f->q->notify_used(f->q->transport, queue);
}

static void fd_reset(void *dev)
{
	((struct fuzz_dev *)dev)->q = NULL;
}

static void fd_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
	memcpy(data, ((struct fuzz_dev *)dev)->state + off, len);
}

#define FUZZ_OPS                                                                 \
	.name = "fuzz", .device_id = 42, .num_queues = 3, .queue_max_size = 16,  \
	.features = 1ULL << 0, .config_size = 16, .config_read = fd_config_read, \
	.activate = fd_activate, .queue_notify = fd_notify, .reset = fd_reset

static const struct virtio_device_ops plain_ops = { FUZZ_OPS };
static const struct virtio_device_ops state_ops = { FUZZ_OPS, .save = fd_save,
						    .restore = fd_restore };

static void fuzz_irq(void *ctx)
{
	(*(int *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_mmio t;
	struct fuzz_dev dev = { 0 };
	int irqs = 0;

	if (size < 3)
		return 0;
	size_t blen = (size_t)data[1] | (size_t)data[2] << 8;
	if (blen > size - 3)
		blen = size - 3;
	const uint8_t *blob = data + 3;
	size_t rlen = size - 3 - blen;
	if (rlen > FUZZ_RAM)
		rlen = FUZZ_RAM;

	uint8_t *ram = calloc(1, FUZZ_RAM);
	if (!ram)
		return 0;
	memcpy(ram, blob + blen, rlen);
	struct guest_mem gm = {
		.memfd = -1,
		.base = ram,
		.size = FUZZ_RAM,
		.nregions = 1,
		.regions = { { .gpa = 0, .size = FUZZ_RAM, .hva = ram } },
	};
	/* a copy of exactly blen bytes: a read past it is caught */
	uint8_t *b = malloc(blen ? blen : 1);
	if (!b || virtio_mmio_init(&t, &gm, data[0] & 1 ? &state_ops : &plain_ops, &dev, fuzz_irq,
				   &irqs) < 0) {
		free(b);
		free(ram);
		return 0;
	}
	memcpy(b, blob, blen);
	if (virtio_mmio_restore(&t, b, blen) == 0) {
		uint8_t v[4];
		for (unsigned q = 0; q < 4; q++)
			virtio_mmio_notify(&t, q);
		for (uint64_t off = 0; off < 0x110; off += 4)
			virtio_mmio_read(&t, off, v, 4);
		void *again;
		size_t alen;
		if (virtio_mmio_save(&t, &again, &alen) == 0)
			free(again);
		uint8_t zero[4] = { 0 };
		virtio_mmio_write(&t, VIRTIO_MMIO_STATUS, zero, 4);
	}
	virtio_mmio_destroy(&t);
	free(b);
	free(ram);
	return 0;
}
