#include "devices/virtio_rng.h"

#include <errno.h>
#include <getopt.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <sys/random.h>

#include "devices/devmgr.h"
#include "devices/device_module.h"
#include "virtio/chain_io.h"
#include "virtio/process.h"

#define RNG_CHUNK 4096

static int rng_activate(void *dev, uint64_t features, const struct virtio_queues *q)
{
	struct virtio_rng *r = dev;
	(void)features;
	r->q = *q;
	r->active = true;
	return 0;
}

/* Fill the chain's writable buffers with random bytes. */
static int64_t rng_fill(void *ctx, const struct vq_chain *chain)
{
	uint8_t buf[RNG_CHUNK];
	size_t want = chain->writable, done = 0;
	(void)ctx;
	while (done < want) {
		size_t len = want - done < sizeof(buf) ? want - done : sizeof(buf);
		ssize_t got = getrandom(buf, len, 0);
		if (got <= 0)
			break;
		done += chain_write(chain, done, buf, (size_t)got);
	}
	return (int64_t)done;
}

static void rng_queue_notify(void *dev, unsigned queue)
{
	struct virtio_rng *r = dev;
	if (r->active && queue == 0)
		virtio_process_queue(&r->q, 0, "virtio-rng", rng_fill, r);
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

/* --- the module: --no-rng ----------------------------------------------- */

struct rng_module_state {
	struct virtio_mmio t;
	struct virtio_rng rng;
};

static const struct option rng_opts[] = {
	{ "no-rng", no_argument, NULL, 0 },
	{ 0 },
};

static int rng_parse(struct vmm_config *c, int val, const char *arg)
{
	(void)val;
	(void)arg;
	c->no_rng = true;
	return 0;
}

static int rng_add(const struct vmm_config *c, const struct device_env *env, void **state)
{
	if (c->no_rng)
		return 0;
	struct rng_module_state *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*state = s;
	return devmgr_add(env->dm, &s->t, &virtio_rng_ops, &s->rng);
}

const struct device_module virtio_rng_module = {
	.name = "virtio-rng",
	.opts = rng_opts,
	.usage = "  --no-rng             no virtio-rng entropy device\n",
	.parse = rng_parse,
	.add = rng_add,
	.destroy = free,
};
