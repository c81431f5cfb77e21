#include "devices/virtio_rng.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "virtio/chain_io.h"

#define VIRTIO_ID_RNG 4
#define RNG_CHUNK 4096

static int rng_activate(void *dev, uint64_t features, const struct virtio_queues *q)
{
	struct virtio_rng *r = dev;
	(void)features;
	r->q = *q;
	r->active = true;
	return 0;
}

static void rng_queue_notify(void *dev, unsigned queue)
{
	struct virtio_rng *r = dev;
	struct virtqueue *vq = &r->q.vq[0];
	struct vq_chain chain;
	uint8_t buf[RNG_CHUNK];
	int n, pushed = 0;

	if (!r->active || queue != 0)
		return;
	while ((n = vq_pop(vq, &chain)) == 1) {
		size_t want = chain.writable, done = 0;
		while (done < want) {
			size_t len = want - done < sizeof(buf) ? want - done : sizeof(buf);
			ssize_t got = getrandom(buf, len, 0);
			if (got <= 0)
				break;
			done += chain_write(&chain, done, buf, (size_t)got);
		}
		vq_push(vq, chain.head, (uint32_t)done);
		pushed++;
	}
	if (n < 0) {
		log_err("virtio-rng", "bad descriptor chain: %s", strerror(-n));
		r->q.queue_broken(r->q.transport, 0);
	}
	if (pushed)
		r->q.notify_used(r->q.transport, 0);
}

static void rng_reset(void *dev)
{
	struct virtio_rng *r = dev;
	r->active = false;
}

const struct virtio_device_ops virtio_rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.queue_max_size = 64,
	.features = 0,
	.config_size = 0,
	.activate = rng_activate,
	.queue_notify = rng_queue_notify,
	.reset = rng_reset,
};
