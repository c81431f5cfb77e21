/*
 * virtio-blk. A request is a chain: a 16-byte header the guest wrote
 * (type, sector), data buffers, and one status byte the device writes.
 * Every request is checked against the image: anything outside it gets
 * VIRTIO_BLK_S_IOERR, unknown types VIRTIO_BLK_S_UNSUPP.
 */
#include "devices/virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/device_module.h"
#include "devices/devmgr.h"
#include "husk/path.h"
#include "log.h"
#include "virtio/chain_io.h"
#include "virtio/process.h"

#define SECTOR 512ULL

int virtio_blk_open(struct virtio_blk *b, const struct disk_config *d)
{
	const char *path = d->path;
	struct stat st;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->read_only = d->read_only;
	b->fd = open(path, (b->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		int e = -errno;
		log_err("virtio-blk", "cannot open %s: %s", path, strerror(errno));
		return e;
	}
	if (fstat(b->fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		log_err("virtio-blk", "%s is not a regular file or block device", path);
		virtio_blk_close(b);
		return -EINVAL;
	}
	off_t end = lseek(b->fd, 0, SEEK_END);
	if (end < 0) {
		int e = -errno;
		log_err("virtio-blk", "cannot size %s: %s", path, strerror(errno));
		virtio_blk_close(b);
		return e;
	}
	b->size = (uint64_t)end & ~(SECTOR - 1);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t idlen = strlen(base);
	memcpy(b->id, base, idlen < sizeof(b->id) ? idlen : sizeof(b->id)); /* no NUL needed */
	return 0;
}

void virtio_blk_close(struct virtio_blk *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

static void blk_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
	struct virtio_blk *b = dev;
	uint64_t capacity = htole64(b->size / SECTOR); /* struct virtio_blk_config's first field */
	memcpy(data, (const uint8_t *)&capacity + off, len);
}

/* Data transfer between the image and the chain's data buffers. */
static uint8_t blk_rw(struct virtio_blk *b, const struct vq_chain *c, bool write, uint64_t offset,
		      size_t len, uint32_t *written)
{
	struct chain_piece p[VQ_SIZE_MAX];
	struct iovec iov[VQ_SIZE_MAX];

	if (len % SECTOR || offset > b->size || len > b->size - offset)
		return VIRTIO_BLK_S_IOERR;
	if (write && b->read_only)
		return VIRTIO_BLK_S_IOERR;
	unsigned n = write ? chain_readable_pieces(c, sizeof(struct virtio_blk_outhdr), len, p,
						   VQ_SIZE_MAX) :
			     chain_writable_pieces(c, 0, len, p, VQ_SIZE_MAX);
	for (unsigned i = 0; i < n; i++)
		iov[i] = (struct iovec){ .iov_base = p[i].base, .iov_len = p[i].len };
	size_t done = 0;
	unsigned first = 0;
	while (done < len && first < n) {
		ssize_t r = write ? pwritev(b->fd, iov + first, (int)(n - first),
					    (off_t)(offset + done)) :
				    preadv(b->fd, iov + first, (int)(n - first),
					   (off_t)(offset + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return VIRTIO_BLK_S_IOERR;
		done += (size_t)r;
		/* advance past whole and partial iovecs */
		size_t adv = (size_t)r;
		while (first < n && adv >= iov[first].iov_len)
			adv -= iov[first++].iov_len;
		if (first < n) {
			iov[first].iov_base = (uint8_t *)iov[first].iov_base + adv;
			iov[first].iov_len -= adv;
		}
	}
	if (!write)
		*written = (uint32_t)len;
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_handle(struct virtio_blk *b, const struct vq_chain *c, uint32_t *written)
{
	struct virtio_blk_outhdr h;

	*written = 0;
	if (chain_read(c, 0, &h, sizeof(h)) != sizeof(h))
		return VIRTIO_BLK_S_IOERR;
	uint32_t type = le32toh(h.type);
	uint64_t sector = le64toh(h.sector);
	uint64_t data_in = c->writable - 1; /* writable bytes before the status byte */
	switch (type) {
	case VIRTIO_BLK_T_IN:
		if (sector > UINT64_MAX / SECTOR)
			return VIRTIO_BLK_S_IOERR;
		return blk_rw(b, c, false, sector * SECTOR, data_in, written);
	case VIRTIO_BLK_T_OUT:
		if (sector > UINT64_MAX / SECTOR)
			return VIRTIO_BLK_S_IOERR;
		return blk_rw(b, c, true, sector * SECTOR, c->readable - sizeof(h), written);
	case VIRTIO_BLK_T_FLUSH:
		if (!b->read_only && fdatasync(b->fd) < 0)
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		size_t n = data_in < sizeof(b->id) ? data_in : sizeof(b->id);
		*written = (uint32_t)chain_write(c, 0, b->id, n);
		return VIRTIO_BLK_S_OK;
	}
	default: return VIRTIO_BLK_S_UNSUPP;
	}
}

/* One request: header, data, and the status byte written last. */
static int64_t blk_request(void *ctx, const struct vq_chain *chain)
{
	struct virtio_blk *b = ctx;
	uint32_t written = 0;
	if (chain->writable < 1 || chain->readable < sizeof(struct virtio_blk_outhdr))
		return -1; /* no header or no room for a status byte: nothing to answer with */
	uint8_t status = blk_handle(b, chain, &written);
	chain_write(chain, chain->writable - 1, &status, 1);
	return (int64_t)written + 1;
}

static void blk_queue_notify(void *dev, unsigned queue)
{
	struct virtio_blk *b = dev;
	if (b->active && queue == 0)
		virtio_process_queue(&b->q, 0, "virtio-blk", blk_request, b);
}

static int blk_activate(void *dev, uint64_t features, const struct virtio_queues *q)
{
	struct virtio_blk *b = dev;
	(void)features;
	b->q = *q;
	b->active = true;
	return 0;
}

static void blk_reset(void *dev)
{
	struct virtio_blk *b = dev;
	b->active = false;
}

static const struct virtio_device_ops virtio_blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.num_queues = 1,
	.queue_max_size = 256,
	.features = (1ULL << VIRTIO_BLK_F_FLUSH),
	.config_size = 8,
	.config_read = blk_config_read,
	.activate = blk_activate,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
};

static const struct virtio_device_ops virtio_blk_ro_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.num_queues = 1,
	.queue_max_size = 256,
	.features = (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_RO),
	.config_size = 8,
	.config_read = blk_config_read,
	.activate = blk_activate,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
};

const struct virtio_device_ops *virtio_blk_ops_for(const struct virtio_blk *b)
{
	return b->read_only ? &virtio_blk_ro_ops : &virtio_blk_ops;
}

/* --- the module: --disk PATH[,ro] --------------------------------------- */

struct blk_module_state {
	struct virtio_mmio t[CONFIG_MAX_DISKS];
	struct virtio_blk blk[CONFIG_MAX_DISKS];
	unsigned n; /* opened */
};

static const struct option blk_opts[] = {
	{ "disk", required_argument, NULL, 0 },
	{ 0 },
};

/* "PATH" or "PATH,ro". */
static int blk_parse(struct vmm_config *c, int val, const char *s)
{
	(void)val;
	if (c->ndisks == CONFIG_MAX_DISKS) {
		log_err("config", "at most %d --disk options", CONFIG_MAX_DISKS);
		return -EINVAL;
	}
	struct disk_config *d = &c->disks[c->ndisks];
	size_t n = strlen(s);
	d->read_only = n > 3 && !strcmp(s + n - 3, ",ro");
	if (d->read_only)
		n -= 3;
	struct husk_err e = { 0 };
	if (path_fmt(&e, d->path, sizeof(d->path), "%.*s", (int)n, s) < 0) {
		log_err("config", "--disk: %s", e.msg);
		return -EINVAL;
	}
	c->ndisks++;
	return 0;
}

static int blk_add(const struct vmm_config *c, const struct device_env *env, void **state)
{
	if (!c->ndisks)
		return 0;
	struct blk_module_state *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*state = s;
	for (unsigned i = 0; i < c->ndisks; i++) {
		int r = virtio_blk_open(&s->blk[i], &c->disks[i]);
		if (r < 0)
			return r;
		s->n++;
		r = devmgr_add(env->dm, &s->t[i], virtio_blk_ops_for(&s->blk[i]), &s->blk[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static void blk_destroy(void *state)
{
	struct blk_module_state *s = state;
	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++)
		virtio_blk_close(&s->blk[i]);
	free(s);
}

const struct device_module virtio_blk_module = {
	.name = "virtio-blk",
	.opts = blk_opts,
	.usage = "  --disk PATH[,ro]     a virtio-blk disk backed by a raw image (repeatable)\n",
	.parse = blk_parse,
	.add = blk_add,
	.destroy = blk_destroy,
};
