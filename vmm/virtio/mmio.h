/*
 * virtio-mmio transport, version 2 ("modern") register layout only
 * (virtio 1.x, 4.2.2). One struct virtio_mmio per device window.
 *
 * A device is a static const struct virtio_device_ops plus its own state
 * (`dev`). The transport never writes into the ops table; the device never
 * sees the registers. It gets its queues, once the driver sets DRIVER_OK,
 * through struct virtio_queues.
 *
 * The guest controls every register value it writes: selectors, queue
 * sizes and addresses, feature bits, status bits, notification indices and
 * config space offsets. All of them are checked here before use.
 *
 * Threads:
 *  - virtio_mmio_read/_write: vCPU threads, any number at once.
 *  - virtio_mmio_notify: the VMM's event thread (ioeventfd on QueueNotify),
 *    and the vCPU path for a QueueNotify write.
 *  - virtio_mmio_config_changed, and the notify_used/queue_broken callbacks
 *    handed to the device: any thread, lock-free (atomics only).
 * t->lock guards the register state. The device's config_read,
 * config_write, activate, queue_notify and reset are called with it held,
 * so they never run concurrently with each other; they must not call
 * virtio_mmio_read/_write/_notify. Device threads of its own must stop
 * touching the queues before reset() returns.
 */
#ifndef HUSK_VIRTIO_MMIO_H
#define HUSK_VIRTIO_MMIO_H

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtqueue.h"

struct guest_mem;

/*
 * Register offsets (VIRTIO_MMIO_*), interrupt bits (VIRTIO_MMIO_INT_*),
 * device status bits (VIRTIO_CONFIG_S_*) and VIRTIO_F_VERSION_1 are the
 * kernel's. The kernel's VIRTIO_MMIO_MAGIC_VALUE, _VERSION and _VENDOR_ID
 * are register offsets; the values read from them are VMMIO_*_VALUE here.
 */
#define VMMIO_MAGIC_VALUE     0x74726976 /* "virt" */
#define VMMIO_VERSION_VALUE   2		 /* modern (virtio 1.x) only */
#define VMMIO_VENDOR_ID_VALUE 0x6b737568 /* "husk" */

/* Ours: the size of one device's window, and the queues a device may have. */
#define VIRTIO_MMIO_WINDOW     0x200
#define VIRTIO_MMIO_MAX_QUEUES 8

/* What an activated device may use; valid from activate() until reset() returns. */
struct virtio_queues {
	struct virtqueue *vq; /* num queues, configured by the driver (check .ready) */
	unsigned num;
	void *transport;
	/* After vq_push: raise the used-buffer interrupt if the guest wants it. */
	void (*notify_used)(void *transport, unsigned queue);
	/* After vq_pop failed: DEVICE_NEEDS_RESET and a config-change interrupt. */
	void (*queue_broken)(void *transport, unsigned queue);
	/* A back end outside the VMM used buffers and decided to signal: interrupt. */
	void (*interrupt)(void *transport, unsigned queue);
};

struct virtio_device_ops {
	const char *name; /* log prefix */
	uint32_t device_id;
	unsigned num_queues;	 /* 1..VIRTIO_MMIO_MAX_QUEUES */
	uint16_t queue_max_size; /* a power of two, at most VQ_SIZE_MAX */
	uint64_t features;	 /* offered; VIRTIO_F_VERSION_1 is always added */
	uint32_t config_size;	 /* bytes of config space at 0x100 */
	/* offset + len <= config_size, len 1, 2, 4 or 8: checked by the transport. */
	void (*config_read)(void *dev, uint32_t offset, uint8_t *data, unsigned len);
	void (*config_write)(void *dev, uint32_t offset, const uint8_t *data, unsigned len);
	/* Once, at DRIVER_OK; features are the accepted ones. Failure: NEEDS_RESET. */
	int (*activate)(void *dev, uint64_t features, const struct virtio_queues *q);
	/* The guest kicked a ready queue of an active device. */
	void (*queue_notify)(void *dev, unsigned queue);
	/* Status 0: forget everything; stop using the queues before returning. */
	void (*reset)(void *dev);
	/*
	 * Snapshots, both optional. save: the device's own state as a malloc'd
	 * blob (*blob NULL and *len 0 for none), or a negative errno (logged)
	 * when it cannot be saved now. restore: instead of activate, when an
	 * active device is restored, with the blob save gave (hostile input:
	 * check it); a device without it is activated. Both with t->lock held.
	 */
	int (*save)(void *dev, void **blob, size_t *len);
	int (*restore)(void *dev, uint64_t features, const struct virtio_queues *q,
		       const void *blob, size_t len);
};

/* The guest's staging values for one queue, copied into the virtqueue at QueueReady. */
struct virtio_mmio_queue {
	uint32_t num;
	uint64_t desc, driver, device;
};

struct virtio_mmio {
	pthread_mutex_t lock;
	const struct virtio_device_ops *ops;
	void *dev;
	const struct guest_mem *gm;
	void (*raise_irq)(void *ctx);
	void *irq_ctx;

	/* Guest-written, under lock. */
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint32_t status; /* without DEVICE_NEEDS_RESET, see below */
	uint64_t driver_features;
	struct virtio_mmio_queue qregs[VIRTIO_MMIO_MAX_QUEUES];

	/* Host state, under lock. */
	bool active;
	struct virtqueue vq[VIRTIO_MMIO_MAX_QUEUES];
	struct virtio_queues queues;

	/* Atomics: set from any thread without the lock. */
	uint32_t interrupt_status;
	uint32_t needs_reset;
	uint32_t config_generation;
};

/* -EINVAL if the ops table is incomplete or its limits are out of range. */
int virtio_mmio_init(struct virtio_mmio *t, const struct guest_mem *gm,
		     const struct virtio_device_ops *ops, void *dev, void (*raise_irq)(void *ctx),
		     void *irq_ctx);
void virtio_mmio_destroy(struct virtio_mmio *t);

/* offset within the window; data holds len bytes, little-endian. */
void virtio_mmio_read(struct virtio_mmio *t, uint64_t offset, uint8_t *data, unsigned len);
void virtio_mmio_write(struct virtio_mmio *t, uint64_t offset, const uint8_t *data, unsigned len);

/* A notification for `queue` (guest-chosen value): ignored unless it is ready and active. */
void virtio_mmio_notify(struct virtio_mmio *t, uint32_t queue);

/* The device changed its config space: bump ConfigGeneration, config interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio *t);

/*
 * Snapshots. save: the registers, each queue's configuration and progress
 * and the device's own state (ops->save) as one malloc'd blob, with the
 * vCPUs and the device's threads quiet; a negative errno (logged) if the
 * device refuses. restore: into a transport just set up (virtio_mmio_init,
 * nothing written since), before any vCPU runs. The blob is checked
 * whole first (-EINVAL, logged, t untouched); then the queues are
 * configured again through vq_configure (the addresses are checked
 * against this guest's RAM), an active device is restored (ops->restore)
 * or activated, and every ready queue is processed once as if kicked, so
 * that buffers the guest posted before the save are served.
 */
int virtio_mmio_save(struct virtio_mmio *t, void **blob, size_t *len);
int virtio_mmio_restore(struct virtio_mmio *t, const void *blob, size_t len);

#endif
