#include "devices/virtio_console.h"

#include <linux/virtio_ids.h>

#include "virtio/chain_io.h"
#include "virtio/process.h"

enum { CONSOLE_RXQ = 0, CONSOLE_TXQ = 1 };

static int console_activate(void *dev, uint64_t features, const struct virtio_queues *q)
{
	struct virtio_console *c = dev;
	(void)features;
	c->q = *q;
	c->active = true;
	return 0;
}

/* Guest output: every readable byte of the chain to the console stream. */
static int64_t console_output(void *ctx, const struct vq_chain *chain)
{
	struct virtio_console *c = ctx;
	struct chain_piece p[VQ_SIZE_MAX];
	unsigned np = chain_readable_pieces(chain, 0, chain->readable, p, VQ_SIZE_MAX);
	for (unsigned i = 0; i < np; i++)
		console_out_put(c->out, p[i].base, p[i].len);
	return 0;
}

static void console_queue_notify(void *dev, unsigned queue)
{
	struct virtio_console *c = dev;
	if (c->active && queue == CONSOLE_TXQ)
		virtio_process_queue(&c->q, CONSOLE_TXQ, "virtio-console", console_output, c);
}

static void console_reset(void *dev)
{
	struct virtio_console *c = dev;
	c->active = false;
}

const struct virtio_device_ops virtio_console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.num_queues = 2,
	.queue_max_size = 64,
	.features = 0,
	.config_size = 0,
	.activate = console_activate,
	.queue_notify = console_queue_notify,
	.reset = console_reset,
};
