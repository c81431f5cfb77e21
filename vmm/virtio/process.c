#include "virtio/process.h"

#include <errno.h>
#include <string.h>

#include "log.h"

void virtio_process_queue(const struct virtio_queues *q, unsigned queue, const char *name,
			  virtio_chain_fn fn, void *ctx)
{
	static __thread struct vq_chain chain;
	struct virtqueue *vq = &q->vq[queue];
	int n, pushed = 0;

	while ((n = vq_pop(vq, &chain)) == 1) {
		int64_t written = fn(ctx, &chain);
		if (written < 0) {
			log_err("virtio", "%s: malformed request on queue %u", name, queue);
			vq_mark_broken(vq, -EINVAL);
			q->queue_broken(q->transport, queue);
			break;
		}
		vq_push(vq, chain.head, (uint32_t)written);
		pushed++;
	}
	if (n < 0) {
		log_err("virtio", "%s: bad descriptor chain on queue %u: %s", name, queue,
			strerror(-n));
		q->queue_broken(q->transport, queue);
	}
	if (pushed)
		q->notify_used(q->transport, queue);
}
