/* virtio-fs through vhost-user (see virtio_fs.h). */
#include "devices/virtio_fs.h"

#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/device_module.h"
#include "devices/devmgr.h"
#include "devices/fs_backend.h"
#include "guest_mem.h"
#include "log.h"

#define VIRTIO_FS_QUEUE_SIZE 256

_Static_assert(sizeof(((struct virtio_fs_config *)0)->tag) == VIRTIO_FS_TAG_MAX,
	       "virtio-fs tag size");

int virtio_fs_init(struct virtio_fs *fs, int fd, const char *tag, const struct guest_mem *gm,
		   struct event_loop *el)
{
	memset(fs, 0, sizeof(*fs));
	fs->vu.fd = -1;
	for (unsigned i = 0; i < VIRTIO_FS_QUEUES; i++)
		fs->vq[i] = (struct virtio_fs_queue){ fs, i, -1, -1 };
	if (strlen(tag) == 0 || strlen(tag) >= VIRTIO_FS_TAG_MAX) {
		if (fd >= 0)
			close(fd);
		log_err("virtio-fs", "tag '%s' must be 1 to %d bytes", tag, VIRTIO_FS_TAG_MAX - 1);
		return -EINVAL;
	}
	memcpy(fs->tag, tag, strlen(tag)); /* NUL-padded, not terminated when full */
	fs->gm = gm;
	fs->el = el;
	for (unsigned i = 0; i < VIRTIO_FS_QUEUES; i++) {
		fs->vq[i].kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		fs->vq[i].call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fs->vq[i].kick < 0 || fs->vq[i].call < 0) {
			int e = -errno;
			if (fd >= 0)
				close(fd);
			return e;
		}
	}
	return fd < 0 ? 0 : vu_open(&fs->vu, fd);
}

void virtio_fs_destroy(struct virtio_fs *fs)
{
	vu_close(&fs->vu);
	for (unsigned i = 0; i < VIRTIO_FS_QUEUES; i++) {
		if (fs->vq[i].kick >= 0)
			close(fs->vq[i].kick);
		if (fs->vq[i].call >= 0)
			close(fs->vq[i].call);
		fs->vq[i].kick = fs->vq[i].call = -1;
	}
}

static void fs_config_read(void *dev, uint32_t offset, uint8_t *data, unsigned len)
{
	struct virtio_fs *fs = dev;
	struct virtio_fs_config cfg = { .num_request_queues = htole32(VIRTIO_FS_QUEUES - 1) };
	memcpy(cfg.tag, fs->tag, VIRTIO_FS_TAG_MAX);
	memcpy(data, (const uint8_t *)&cfg + offset, len); /* bounds checked by the transport */
}

/* The back end used buffers of a ring: interrupt the guest. */
static void fs_on_call(void *ctx, uint32_t events)
{
	struct virtio_fs_queue *q = ctx;
	uint64_t v;
	(void)events;
	if (read(q->call, &v, sizeof(v)) == sizeof(v) && q->fs->active)
		q->fs->q.interrupt(q->fs->q.transport, q->index);
}

static void fs_stop(struct virtio_fs *fs)
{
	for (unsigned i = 0; i < VIRTIO_FS_QUEUES; i++) {
		el_remove(fs->el, fs->vq[i].call);
		if (fs->active && !fs->broken && fs->vu.fd >= 0 && fs->q.vq[i].ready)
			vu_stop_ring(&fs->vu, i);
	}
	fs->active = false;
}

static int fs_activate(void *dev, uint64_t features, const struct virtio_queues *q)
{
	struct virtio_fs *fs = dev;
	int r;

	if (fs->broken)
		return -EIO;
	fs->q = *q;
	if (fs->vu.fd < 0) {
		fs->active = true; /* no back end: the guest's buffers wait */
		return 0;
	}
	if ((r = vu_set_features(&fs->vu, features)) < 0 ||
	    (r = vu_set_mem_table(&fs->vu, fs->gm)) < 0)
		goto fail;
	for (unsigned i = 0; i < VIRTIO_FS_QUEUES; i++) {
		const struct virtqueue *vq = &q->vq[i];
		if (!vq->ready)
			continue;
		/*
		 * The transport checked and translated the ring addresses. The
		 * VMM never takes from these rings: last_avail_idx is 0 for a new
		 * ring, and after a restore where the device (with no back end
		 * then, see fs_save) stopped, which is also its used index.
		 */
		r = vu_setup_ring(&fs->vu, i, vq->size, (uint64_t)(uintptr_t)vq->desc,
				  (uint64_t)(uintptr_t)vq->avail, (uint64_t)(uintptr_t)vq->used,
				  vq->last_avail_idx, fs->vq[i].kick, fs->vq[i].call);
		if (r < 0 ||
		    (r = el_add(fs->el, fs->vq[i].call, EPOLLIN, fs_on_call, &fs->vq[i])) < 0)
			goto fail;
	}
	fs->active = true;
	return 0;
fail:
	/* the back end is gone or confused: this device stays broken */
	fs->broken = true;
	for (unsigned i = 0; i < VIRTIO_FS_QUEUES; i++)
		el_remove(fs->el, fs->vq[i].call);
	log_err("virtio-fs", "the vhost-user back end failed: %s", strerror(-r));
	return r;
}

static void fs_queue_notify(void *dev, unsigned queue)
{
	struct virtio_fs *fs = dev;
	uint64_t one = 1;
	if (fs->active && fs->vu.fd >= 0 && queue < VIRTIO_FS_QUEUES &&
	    write(fs->vq[queue].kick, &one, sizeof(one)) < 0) {
		/* saturated: the back end has a kick pending anyway */
	}
}

static void fs_reset(void *dev)
{
	fs_stop(dev);
}

/*
 * A running virtiofsd has taken from the rings what the VMM never sees:
 * such a device is not saved (asking it where it stopped would stop it).
 * A template's shares have no back end; one whose driver has not started
 * it yet has taken nothing. No state of its own.
 */
static int fs_save(void *dev, void **blob, size_t *len)
{
	struct virtio_fs *fs = dev;
	if (fs->active && fs->vu.fd >= 0) {
		log_err("virtio-fs",
			"%.*s: cannot be saved while a virtiofsd serves it (share it with "
			"--fs TAG, no directory, in a VM to be saved)",
			VIRTIO_FS_TAG_MAX, fs->tag);
		return -EBUSY;
	}
	*blob = NULL;
	*len = 0;
	return 0;
}

const struct virtio_device_ops virtio_fs_ops = {
	.name = "virtio-fs",
	.device_id = VIRTIO_ID_FS,
	.num_queues = VIRTIO_FS_QUEUES,
	.queue_max_size = VIRTIO_FS_QUEUE_SIZE,
	.features = 0,
	.config_size = sizeof(struct virtio_fs_config),
	.config_read = fs_config_read,
	.activate = fs_activate,
	.queue_notify = fs_queue_notify,
	.reset = fs_reset,
	.save = fs_save,
};

/* --- the module: --fs TAG[=DIR] ----------------------------------------- */

struct fs_module_state {
	struct virtio_mmio t[CONFIG_MAX_FS];
	struct virtio_fs fs[CONFIG_MAX_FS];
	struct fs_backend backend[CONFIG_MAX_FS];
	unsigned n; /* devices set up, or tried */
};

static const struct option fs_opts[] = {
	{ "fs", required_argument, NULL, 0 },
	{ 0 },
};

static int fs_parse(struct vmm_config *c, int val, const char *arg)
{
	(void)val;
	const char *eq = strchr(arg, '=');
	size_t taglen = eq ? (size_t)(eq - arg) : strlen(arg);
	if (!taglen || taglen >= CONFIG_FS_TAG_MAX || (eq && !eq[1])) {
		log_err("config", "--fs '%s': TAG or TAG=DIR with a tag of 1 to 35 bytes", arg);
		return -EINVAL;
	}
	if (c->nfs == CONFIG_MAX_FS) {
		log_err("config", "at most %d --fs options", CONFIG_MAX_FS);
		return -EINVAL;
	}
	struct fs_config *fs = &c->fs[c->nfs++];
	snprintf(fs->tag, sizeof(fs->tag), "%.*s", (int)taglen, arg);
	fs->dir = eq ? eq + 1 : NULL;
	return 0;
}

static int fs_add(const struct vmm_config *c, const struct device_env *env, void **state)
{
	if (!c->nfs)
		return 0;
	struct fs_module_state *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*state = s;
	for (unsigned i = 0; i < c->nfs; i++) {
		/* no directory: the device is there, nothing serves it (a template's) */
		int r, fd = c->fs[i].dir ? fsb_start(&s->backend[i], c->fs[i].dir) : -1;
		if (c->fs[i].dir && fd < 0)
			return fd;
		s->n++;
		if ((r = virtio_fs_init(&s->fs[i], fd, c->fs[i].tag, env->mem, env->el)) < 0 ||
		    (r = devmgr_add(env->dm, &s->t[i], &virtio_fs_ops, &s->fs[i])) < 0)
			return r;
	}
	return 0;
}

static void fs_destroy(void *state)
{
	struct fs_module_state *s = state;
	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++) {
		fsb_stop(&s->backend[i]);
		virtio_fs_destroy(&s->fs[i]);
	}
	free(s);
}

const struct device_module virtio_fs_module = {
	.name = "virtio-fs",
	.opts = fs_opts,
	.usage = "  --fs TAG=DIR         share DIR with the guest over virtio-fs (mount -t\n"
		 "                       virtiofs TAG), served by a virtiofsd of its own\n"
		 "                       (repeatable)\n"
		 "  --fs TAG             a virtio-fs device with no back end: the guest\n"
		 "                       sees it, nothing serves it (for a VM to be saved;\n"
		 "                       the restore gives it its TAG=DIR)\n",
	.parse = fs_parse,
	.add = fs_add,
	.destroy = fs_destroy,
};
