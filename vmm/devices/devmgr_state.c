/* The device manager's snapshots: each slot's identity and transport (see devmgr.h). */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devmgr.h"
#include "log.h"
#include "virtio/blob.h"

#define DEVMGR_BLOB_MAGIC   0x5253474d /* "MGSR" */
#define DEVMGR_BLOB_VERSION 1
#define DEVMGR_CONFIG_MAX   (VIRTIO_MMIO_WINDOW - VIRTIO_MMIO_CONFIG)

struct devmgr_ident {
	uint32_t device_id;
	uint64_t base;
	uint32_t irq;
	uint32_t config_len;
	uint8_t config[DEVMGR_CONFIG_MAX];
};

static void devmgr_ident(const struct devmgr_slot *s, struct devmgr_ident *id)
{
	memset(id, 0, sizeof(*id));
	id->device_id = s->t->ops->device_id;
	id->base = s->base;
	id->irq = s->irq;
	id->config_len = s->t->ops->config_size;
	/* as the guest reads it, a byte at a time, under the transport's lock */
	for (uint32_t i = 0; i < id->config_len; i++)
		virtio_mmio_read(s->t, VIRTIO_MMIO_CONFIG + i, &id->config[i], 1);
}

static const char *devmgr_kind(uint32_t device_id, char *buf, size_t size)
{
	switch (device_id) {
	case VIRTIO_ID_NET: return "virtio-net";
	case VIRTIO_ID_BLOCK: return "virtio-blk";
	case VIRTIO_ID_CONSOLE: return "virtio-console";
	case VIRTIO_ID_RNG: return "virtio-rng";
	case VIRTIO_ID_VSOCK: return "virtio-vsock";
	case VIRTIO_ID_FS: return "virtio-fs";
	default: snprintf(buf, size, "virtio device %u", device_id); return buf;
	}
}

/* The config field at byte off of a device kind's config space, for messages. */
static const char *devmgr_config_field(uint32_t device_id, uint32_t off)
{
	static const struct {
		uint32_t id, end; /* the field ends before end */
		const char *name;
	} fields[] = {
		{ VIRTIO_ID_NET, 6, "MAC" },
		{ VIRTIO_ID_NET, 8, "status" },
		{ VIRTIO_ID_NET, 10, "queue pairs" },
		{ VIRTIO_ID_NET, 12, "MTU" },
		{ VIRTIO_ID_BLOCK, 8, "capacity" },
		{ VIRTIO_ID_FS, 36, "tag" },
		{ VIRTIO_ID_FS, 40, "request queues" },
		{ VIRTIO_ID_VSOCK, 8, "guest CID" },
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i].id == device_id && off < fields[i].end)
			return fields[i].name;
	return "config space";
}

uint64_t devmgr_layout_hash(const struct devmgr *dm)
{
	/* FNV-1a over what devmgr_save writes as identities, in the same byte order */
	struct blob_writer w;
	struct devmgr_ident id;
	uint64_t h = 0xcbf29ce484222325ULL;

	blob_writer_init(&w);
	blob_put_u32(&w, dm->n);
	for (unsigned i = 0; i < dm->n; i++) {
		devmgr_ident(&dm->slots[i], &id);
		blob_put_u32(&w, id.device_id);
		blob_put_u64(&w, id.base);
		blob_put_u32(&w, id.irq);
		blob_put_sized(&w, id.config, id.config_len);
	}
	for (size_t i = 0; i < w.len; i++) {
		h ^= w.p[i];
		h *= 0x100000001b3ULL;
	}
	if (w.failed)
		h = 0; /* out of memory: no layout matches it */
	blob_writer_discard(&w);
	return h;
}

int devmgr_save(struct devmgr *dm, void **blob, size_t *len)
{
	struct blob_writer w;
	struct devmgr_ident id;

	*blob = NULL;
	*len = 0;
	blob_writer_init(&w);
	blob_put_header(&w, DEVMGR_BLOB_MAGIC, DEVMGR_BLOB_VERSION);
	blob_put_u32(&w, dm->n);
	for (unsigned i = 0; i < dm->n; i++) {
		void *tb;
		size_t tlen;
		devmgr_ident(&dm->slots[i], &id);
		blob_put_u32(&w, id.device_id);
		blob_put_u64(&w, id.base);
		blob_put_u32(&w, id.irq);
		blob_put_sized(&w, id.config, id.config_len);
		int r = virtio_mmio_save(dm->slots[i].t, &tb, &tlen);
		if (r < 0) {
			log_err("devices", "slot %u (%s) cannot be saved", i,
				dm->slots[i].t->ops->name);
			blob_writer_discard(&w);
			return r;
		}
		blob_put_sized(&w, tb, tlen);
		free(tb);
	}
	return blob_writer_finish(&w, "devices", blob, len);
}

/* Slot i of the snapshot against slot i here: 0, or -EINVAL with the difference logged. */
static int devmgr_compare(const struct devmgr_slot *s, unsigned i, const struct devmgr_ident *saved)
{
	struct devmgr_ident here;
	char b1[32], b2[32];

	devmgr_ident(s, &here);
	if (saved->device_id != here.device_id) {
		log_err("devices", "slot %u: %s in the snapshot, %s here", i,
			devmgr_kind(saved->device_id, b1, sizeof(b1)),
			devmgr_kind(here.device_id, b2, sizeof(b2)));
		return -EINVAL;
	}
	const char *kind = devmgr_kind(here.device_id, b1, sizeof(b1));
	if (saved->base != here.base || saved->irq != here.irq) {
		log_err("devices",
			"slot %u (%s): window %#llx IRQ %u in the snapshot, %#llx IRQ %u here", i,
			kind, (unsigned long long)saved->base, saved->irq,
			(unsigned long long)here.base, here.irq);
		return -EINVAL;
	}
	if (saved->config_len != here.config_len) {
		log_err("devices",
			"slot %u (%s): %u bytes of configuration in the snapshot, %u here", i, kind,
			saved->config_len, here.config_len);
		return -EINVAL;
	}
	for (uint32_t off = 0; off < here.config_len; off++)
		if (saved->config[off] != here.config[off]) {
			log_err("devices", "slot %u (%s): its configuration differs (%s)", i, kind,
				devmgr_config_field(here.device_id, off));
			return -EINVAL;
		}
	return 0;
}

int devmgr_restore(struct devmgr *dm, const void *blob, size_t len)
{
	struct blob_reader r;
	uint32_t n;
	const void *tblob[DEVMGR_MAX_DEVICES];
	size_t tlen[DEVMGR_MAX_DEVICES];
	struct devmgr_ident *saved = calloc(1, sizeof(*saved));

	if (!saved)
		return -ENOMEM;
	blob_reader_init(&r, blob, len);
	if (!blob_get_header(&r, "devices", DEVMGR_BLOB_MAGIC, DEVMGR_BLOB_VERSION) ||
	    !blob_get_u32(&r, &n)) {
		blob_reader_end(&r, "devices");
		free(saved);
		return -EINVAL;
	}
	if (n != dm->n) {
		log_err("devices", "the snapshot has %u devices, this VM %u", n, dm->n);
		free(saved);
		return -EINVAL;
	}
	/* every identity first: nothing is restored into another layout */
	for (unsigned i = 0; i < n; i++) {
		const void *cfg;
		size_t cfg_len;
		blob_get_u32(&r, &saved->device_id);
		blob_get_u64(&r, &saved->base);
		blob_get_u32(&r, &saved->irq);
		blob_get_sized(&r, &cfg, &cfg_len, DEVMGR_CONFIG_MAX);
		blob_get_sized(&r, &tblob[i], &tlen[i], BLOB_MAX);
		if (r.failed) {
			blob_reader_end(&r, "devices");
			free(saved);
			return -EINVAL;
		}
		saved->config_len = (uint32_t)cfg_len;
		memcpy(saved->config, cfg, cfg_len);
		int rc = devmgr_compare(&dm->slots[i], i, saved);
		if (rc < 0) {
			free(saved);
			return rc;
		}
	}
	free(saved);
	if (blob_reader_end(&r, "devices") < 0)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		int rc = virtio_mmio_restore(dm->slots[i].t, tblob[i], tlen[i]);
		if (rc < 0) {
			log_err("devices", "slot %u (%s) cannot be restored", i,
				dm->slots[i].t->ops->name);
			return rc;
		}
	}
	return 0;
}
