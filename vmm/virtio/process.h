/* The loop every device runs on a kicked queue: pop, handle, push, notify. */
#ifndef HUSK_VIRTIO_PROCESS_H
#define HUSK_VIRTIO_PROCESS_H

#include <stdint.h>

#include "virtio/mmio.h"

/*
 * Handle one chain: return how many bytes were written into its writable
 * buffers, or a negative value if the chain is malformed for this device
 * (the queue is then reported broken, as for a bad descriptor chain).
 */
typedef int64_t (*virtio_chain_fn)(void *ctx, const struct vq_chain *chain);

/*
 * Pop every available chain of queue `queue`, hand each to fn, return it as
 * used, and raise one interrupt for the lot. A bad chain marks the queue
 * broken (DEVICE_NEEDS_RESET) with one log line naming the device.
 */
void virtio_process_queue(const struct virtio_queues *q, unsigned queue, const char *name,
			  virtio_chain_fn fn, void *ctx);

#endif
