#include "virtio/mmio.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest_mem.h"
#include "log.h"
#include "virtio/blob.h"

/*
 * Register offsets (4.2.2) are the kernel's VIRTIO_MMIO_* from <linux/virtio_mmio.h>;
 * write-only registers (features, selectors, queue addresses, notify, ack) read as 0.
 */

static uint64_t vmmio_offered(const struct virtio_mmio *t)
{
	return t->ops->features | (1ULL << VIRTIO_F_VERSION_1);
}

static void vmmio_interrupt(struct virtio_mmio *t, uint32_t bits)
{
	__atomic_fetch_or(&t->interrupt_status, bits, __ATOMIC_SEQ_CST);
	t->raise_irq(t->irq_ctx);
}

/* DEVICE_NEEDS_RESET, announced once until the next reset. Lock-free. */
static void vmmio_needs_reset(struct virtio_mmio *t)
{
	if (__atomic_exchange_n(&t->needs_reset, 1, __ATOMIC_ACQ_REL))
		return;
	vmmio_interrupt(t, VIRTIO_MMIO_INT_CONFIG);
}

/* struct virtio_queues callbacks: any thread, no lock. */
static void vmmio_cb_notify_used(void *transport, unsigned queue)
{
	struct virtio_mmio *t = transport;
	if (queue < t->ops->num_queues && vq_should_interrupt(&t->vq[queue]))
		vmmio_interrupt(t, VIRTIO_MMIO_INT_VRING);
}

static void vmmio_cb_interrupt(void *transport, unsigned queue)
{
	(void)queue;
	vmmio_interrupt(transport, VIRTIO_MMIO_INT_VRING);
}

static void vmmio_cb_queue_broken(void *transport, unsigned queue)
{
	struct virtio_mmio *t = transport;
	if (!__atomic_load_n(&t->needs_reset, __ATOMIC_ACQUIRE))
		log_err("virtio-mmio", "%s: queue %u broken, device needs reset", t->ops->name,
			queue);
	vmmio_needs_reset(t);
}

int virtio_mmio_init(struct virtio_mmio *t, const struct guest_mem *gm,
		     const struct virtio_device_ops *ops, void *dev, void (*raise_irq)(void *ctx),
		     void *irq_ctx)
{
	memset(t, 0, sizeof(*t));
	uint16_t qmax = ops ? ops->queue_max_size : 0;
	if (!gm || !ops || !ops->name || !ops->activate || !ops->queue_notify || !ops->reset ||
	    !raise_irq || !ops->num_queues || ops->num_queues > VIRTIO_MMIO_MAX_QUEUES || !qmax ||
	    (qmax & (qmax - 1)) || qmax > VQ_SIZE_MAX ||
	    ops->config_size > VIRTIO_MMIO_WINDOW - VIRTIO_MMIO_CONFIG ||
	    (ops->config_size && !ops->config_read)) {
		log_err("virtio-mmio", "%s: bad device description",
			ops && ops->name ? ops->name : "?");
		return -EINVAL;
	}
	int r = pthread_mutex_init(&t->lock, NULL);
	if (r) {
		log_err("virtio-mmio", "%s: mutex: %s", ops->name, strerror(r));
		return -r;
	}
	t->ops = ops;
	t->dev = dev;
	t->gm = gm;
	t->raise_irq = raise_irq;
	t->irq_ctx = irq_ctx;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		vq_init(&t->vq[i], gm);
	t->queues = (struct virtio_queues){
		.vq = t->vq,
		.num = ops->num_queues,
		.transport = t,
		.notify_used = vmmio_cb_notify_used,
		.queue_broken = vmmio_cb_queue_broken,
		.interrupt = vmmio_cb_interrupt,
	};
	return 0;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	if (t->ops)
		pthread_mutex_destroy(&t->lock);
	t->ops = NULL;
}

/* Status 0 (4.2.3.1): the device forgets the driver. Under lock. */
static void vmmio_reset_locked(struct virtio_mmio *t)
{
	t->ops->reset(t->dev);
	t->active = false;
	t->status = 0;
	t->device_features_sel = 0;
	t->driver_features_sel = 0;
	t->driver_features = 0;
	t->queue_sel = 0;
	memset(t->qregs, 0, sizeof(t->qregs));
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		vq_reset(&t->vq[i]);
	__atomic_store_n(&t->interrupt_status, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&t->needs_reset, 0, __ATOMIC_SEQ_CST);
}

/* The queue the guest selected, or NULL if QueueSel is out of range. */
static struct virtio_mmio_queue *vmmio_selq(struct virtio_mmio *t)
{
	return t->queue_sel < t->ops->num_queues ? &t->qregs[t->queue_sel] : NULL;
}

static uint32_t vmmio_read_locked(struct virtio_mmio *t, uint64_t off)
{
	bool qok = t->queue_sel < t->ops->num_queues;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return VMMIO_MAGIC_VALUE;
	case VIRTIO_MMIO_VERSION: return VMMIO_VERSION_VALUE;
	case VIRTIO_MMIO_DEVICE_ID: return t->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return VMMIO_VENDOR_ID_VALUE;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (t->device_features_sel > 1)
			return 0;
		return (uint32_t)(vmmio_offered(t) >> (32 * t->device_features_sel));
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: return t->device_features_sel;
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return qok ? t->ops->queue_max_size : 0;
	case VIRTIO_MMIO_QUEUE_READY: return qok ? t->vq[t->queue_sel].ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&t->interrupt_status, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS:
		return t->status | (__atomic_load_n(&t->needs_reset, __ATOMIC_ACQUIRE) ?
					    VIRTIO_CONFIG_S_NEEDS_RESET :
					    0);
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return __atomic_load_n(&t->config_generation, __ATOMIC_ACQUIRE);
	default: return 0;
	}
}

/* QueueReady (guest-written): 1 checks and copies the staged values. Under lock. */
static void vmmio_queue_ready(struct virtio_mmio *t, uint32_t v)
{
	struct virtio_mmio_queue *q = vmmio_selq(t);
	if (!q)
		return;
	struct virtqueue *vq = &t->vq[t->queue_sel];
	if (v == 0) {
		vq_reset(vq);
		return;
	}
	if (v != 1 || vq->ready)
		return;
	if (q->num > t->ops->queue_max_size) {
		log_err("virtio-mmio", "%s: queue %u: size %u above %u", t->ops->name, t->queue_sel,
			q->num, t->ops->queue_max_size);
		return;
	}
	/* vq_configure logs why it refuses; the queue just stays not ready. */
	vq_configure(vq, (uint16_t)q->num, t->ops->queue_max_size, q->desc, q->driver, q->device);
}

/* Status (guest-written): bits accumulate; 0 resets. Under lock. */
static void vmmio_status(struct virtio_mmio *t, uint32_t v)
{
	if (v == 0) {
		vmmio_reset_locked(t);
		return;
	}
	v &= 0xff & ~(uint32_t)VIRTIO_CONFIG_S_NEEDS_RESET; /* that one is ours */
	uint32_t added = v & ~t->status;

	if (added & VIRTIO_CONFIG_S_FEATURES_OK) {
		uint64_t unoffered = t->driver_features & ~vmmio_offered(t);
		if (unoffered || !(t->driver_features & (1ULL << VIRTIO_F_VERSION_1))) {
			log_err("virtio-mmio", "%s: driver features %#llx refused", t->ops->name,
				(unsigned long long)t->driver_features);
			v &= ~(uint32_t)VIRTIO_CONFIG_S_FEATURES_OK; /* the driver reads it back */
		}
	}
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && !((t->status | v) & VIRTIO_CONFIG_S_FEATURES_OK))
		v &= ~(uint32_t)VIRTIO_CONFIG_S_DRIVER_OK;
	t->status |= v;

	/* Once per DRIVER_OK: a failed activation is not retried until reset. */
	if ((added & v & VIRTIO_CONFIG_S_DRIVER_OK) && !t->active) {
		int r = t->ops->activate(t->dev, t->driver_features, &t->queues);
		if (r < 0) {
			log_err("virtio-mmio", "%s: activation failed: %s", t->ops->name,
				strerror(-r));
			vmmio_needs_reset(t);
			return;
		}
		t->active = true;
	}
}

static void vmmio_set_low(uint64_t *p, uint32_t v)
{
	*p = (*p & 0xffffffff00000000ULL) | v;
}

static void vmmio_set_high(uint64_t *p, uint32_t v)
{
	*p = (*p & 0xffffffffULL) | ((uint64_t)v << 32);
}

static void vmmio_write_locked(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	/* Queue layout is frozen once the device runs, or once the queue is ready. */
	struct virtio_mmio_queue *q = vmmio_selq(t);
	if (q && (t->vq[t->queue_sel].ready || (t->status & VIRTIO_CONFIG_S_DRIVER_OK)))
		q = NULL;
	bool features_open =
		!(t->status & (VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK));

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: t->device_features_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* Only words 0 and 1 exist; what was not offered fails at FEATURES_OK. */
		if (features_open && t->driver_features_sel == 0)
			vmmio_set_low(&t->driver_features, v);
		else if (features_open && t->driver_features_sel == 1)
			vmmio_set_high(&t->driver_features, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: t->driver_features_sel = v; break;
	case VIRTIO_MMIO_QUEUE_SEL: t->queue_sel = v; break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (q)
			q->num = v;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		if (q)
			vmmio_set_low(&q->desc, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (q)
			vmmio_set_high(&q->desc, v);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		if (q)
			vmmio_set_low(&q->driver, v);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		if (q)
			vmmio_set_high(&q->driver, v);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		if (q)
			vmmio_set_low(&q->device, v);
		break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (q)
			vmmio_set_high(&q->device, v);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (!(t->status & VIRTIO_CONFIG_S_DRIVER_OK))
			vmmio_queue_ready(t, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_fetch_and(&t->interrupt_status, ~v, __ATOMIC_SEQ_CST);
		break;
	case VIRTIO_MMIO_STATUS: vmmio_status(t, v); break;
	default: break; /* read-only or unknown: ignored */
	}
}

/* Config space: 1, 2, 4 or 8 bytes wholly inside the device's config_size. */
static bool vmmio_config_ok(const struct virtio_mmio *t, uint64_t off, unsigned len)
{
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return false;
	return off <= t->ops->config_size && len <= t->ops->config_size - off;
}

void virtio_mmio_read(struct virtio_mmio *t, uint64_t offset, uint8_t *data, unsigned len)
{
	memset(data, 0, len);
	if (offset >= VIRTIO_MMIO_WINDOW)
		return;
	if (offset >= VIRTIO_MMIO_CONFIG) {
		uint64_t off = offset - VIRTIO_MMIO_CONFIG;
		if (!vmmio_config_ok(t, off, len))
			return;
		pthread_mutex_lock(&t->lock);
		t->ops->config_read(t->dev, (uint32_t)off, data, len);
		pthread_mutex_unlock(&t->lock);
		return;
	}
	if (len != 4 || (offset & 3))
		return;
	pthread_mutex_lock(&t->lock);
	uint32_t v = htole32(vmmio_read_locked(t, offset));
	pthread_mutex_unlock(&t->lock);
	memcpy(data, &v, 4);
}

void virtio_mmio_write(struct virtio_mmio *t, uint64_t offset, const uint8_t *data, unsigned len)
{
	if (offset >= VIRTIO_MMIO_WINDOW)
		return;
	if (offset >= VIRTIO_MMIO_CONFIG) {
		uint64_t off = offset - VIRTIO_MMIO_CONFIG;
		if (!t->ops->config_write || !vmmio_config_ok(t, off, len))
			return;
		pthread_mutex_lock(&t->lock);
		t->ops->config_write(t->dev, (uint32_t)off, data, len);
		pthread_mutex_unlock(&t->lock);
		return;
	}
	if (len != 4 || (offset & 3))
		return;
	uint32_t v;
	memcpy(&v, data, 4);
	v = le32toh(v);
	if (offset == VIRTIO_MMIO_QUEUE_NOTIFY) {
		virtio_mmio_notify(t, v);
		return;
	}
	pthread_mutex_lock(&t->lock);
	vmmio_write_locked(t, offset, v);
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_notify(struct virtio_mmio *t, uint32_t queue)
{
	pthread_mutex_lock(&t->lock);
	if (t->active && queue < t->ops->num_queues && t->vq[queue].ready) {
		t->ops->queue_notify(t->dev, queue);
		/* In case the device did not report it itself. */
		if (t->vq[queue].broken)
			vmmio_cb_queue_broken(t, queue);
	}
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	__atomic_fetch_add(&t->config_generation, 1, __ATOMIC_ACQ_REL);
	vmmio_interrupt(t, VIRTIO_MMIO_INT_CONFIG);
}

/* --- snapshots ------------------------------------------------------------ */

#define VMMIO_BLOB_MAGIC   0x4f494d56 /* "VMIO" */
#define VMMIO_BLOB_VERSION 1
#define VMMIO_INT_BITS	   (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG)
#define VMMIO_STATUS_BITS                                                                   \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK | \
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_FAILED)

/* Everything a blob holds, read and checked before the transport is touched. */
struct vmmio_saved {
	uint32_t device_features_sel, driver_features_sel, queue_sel, status;
	uint64_t driver_features;
	bool active, needs_reset;
	uint32_t interrupt_status, config_generation;
	struct virtio_mmio_queue qregs[VIRTIO_MMIO_MAX_QUEUES];
	struct virtqueue vq[VIRTIO_MMIO_MAX_QUEUES]; /* the fields saved; no pointers */
	const void *dev_blob;
	size_t dev_len;
};

int virtio_mmio_save(struct virtio_mmio *t, void **blob, size_t *len)
{
	struct blob_writer w;
	void *dev_blob = NULL;
	size_t dev_len = 0;

	*blob = NULL;
	*len = 0;
	pthread_mutex_lock(&t->lock);
	if (t->ops->save) {
		int r = t->ops->save(t->dev, &dev_blob, &dev_len);
		if (r < 0) {
			pthread_mutex_unlock(&t->lock);
			return r;
		}
	}
	blob_writer_init(&w);
	blob_put_header(&w, VMMIO_BLOB_MAGIC, VMMIO_BLOB_VERSION);
	blob_put_u32(&w, t->ops->device_id);
	blob_put_u16(&w, (uint16_t)t->ops->num_queues);
	blob_put_u32(&w, t->device_features_sel);
	blob_put_u32(&w, t->driver_features_sel);
	blob_put_u32(&w, t->queue_sel);
	blob_put_u32(&w, t->status);
	blob_put_u64(&w, t->driver_features);
	blob_put_u8(&w, t->active);
	blob_put_u8(&w, __atomic_load_n(&t->needs_reset, __ATOMIC_ACQUIRE) != 0);
	blob_put_u32(&w, __atomic_load_n(&t->interrupt_status, __ATOMIC_SEQ_CST));
	blob_put_u32(&w, __atomic_load_n(&t->config_generation, __ATOMIC_ACQUIRE));
	for (unsigned i = 0; i < t->ops->num_queues; i++) {
		const struct virtio_mmio_queue *q = &t->qregs[i];
		const struct virtqueue *vq = &t->vq[i];
		blob_put_u32(&w, q->num);
		blob_put_u64(&w, q->desc);
		blob_put_u64(&w, q->driver);
		blob_put_u64(&w, q->device);
		blob_put_u8(&w, vq->ready);
		if (!vq->ready)
			continue;
		blob_put_u16(&w, vq->size);
		blob_put_u64(&w, vq->desc_gpa);
		blob_put_u64(&w, vq->avail_gpa);
		blob_put_u64(&w, vq->used_gpa);
		blob_put_u16(&w, vq->last_avail_idx);
		blob_put_u16(&w, vq->used_idx);
		blob_put_u8(&w, vq->broken);
		blob_put_u32(&w, (uint32_t)(vq->broken ? -vq->err : 0));
	}
	blob_put_sized(&w, dev_blob, dev_len);
	pthread_mutex_unlock(&t->lock);
	free(dev_blob);
	return blob_writer_finish(&w, t->ops->name, blob, len);
}

/*
 * One queue's saved progress, checked as far as it can be without guest RAM:
 * false (logged) if it cannot be; a short blob is left to blob_reader_end.
 */
static bool vmmio_read_vq(const struct virtio_mmio *t, struct blob_reader *r, unsigned i,
			  struct virtqueue *vq)
{
	uint32_t err = 0;
	blob_get_bool(r, &vq->ready);
	if (r->failed || !vq->ready)
		return true;
	blob_get_u16(r, &vq->size);
	blob_get_u64(r, &vq->desc_gpa);
	blob_get_u64(r, &vq->avail_gpa);
	blob_get_u64(r, &vq->used_gpa);
	blob_get_u16(r, &vq->last_avail_idx);
	blob_get_u16(r, &vq->used_idx);
	blob_get_bool(r, &vq->broken);
	blob_get_u32(r, &err);
	if (r->failed)
		return true;
	if (!vq->size || (vq->size & (vq->size - 1)) || vq->size > t->ops->queue_max_size) {
		log_err("virtio-mmio", "%s: saved queue %u: size %u is not a power of two up to %u",
			t->ops->name, i, vq->size, t->ops->queue_max_size);
		return false;
	}
	if ((uint16_t)(vq->last_avail_idx - vq->used_idx) > vq->size) {
		log_err("virtio-mmio", "%s: saved queue %u: %u buffers taken but %u used",
			t->ops->name, i, vq->last_avail_idx, vq->used_idx);
		return false;
	}
	if (vq->broken ? (err == 0 || err > 4095) : err != 0) {
		log_err("virtio-mmio", "%s: saved queue %u: bad error %u", t->ops->name, i, err);
		return false;
	}
	vq->err = -(int)err;
	return true;
}

/* Parse and check a whole blob; false (logged) if it cannot be this device's state. */
static bool vmmio_parse(const struct virtio_mmio *t, const void *blob, size_t len,
			struct vmmio_saved *sv)
{
	const char *name = t->ops->name;
	struct blob_reader r;
	uint32_t device_id;
	uint16_t nq;

	memset(sv, 0, sizeof(*sv));
	blob_reader_init(&r, blob, len);
	if (!blob_get_header(&r, name, VMMIO_BLOB_MAGIC, VMMIO_BLOB_VERSION))
		return false;
	if (!blob_get_u32(&r, &device_id) || !blob_get_u16(&r, &nq)) {
		blob_reader_end(&r, name);
		return false;
	}
	if (device_id != t->ops->device_id || nq != t->ops->num_queues) {
		log_err("virtio-mmio",
			"%s: the state is of device %u with %u queues, not %u with %u", name,
			device_id, nq, t->ops->device_id, t->ops->num_queues);
		return false;
	}
	blob_get_u32(&r, &sv->device_features_sel);
	blob_get_u32(&r, &sv->driver_features_sel);
	blob_get_u32(&r, &sv->queue_sel);
	blob_get_u32(&r, &sv->status);
	blob_get_u64(&r, &sv->driver_features);
	blob_get_bool(&r, &sv->active);
	blob_get_bool(&r, &sv->needs_reset);
	blob_get_u32(&r, &sv->interrupt_status);
	blob_get_u32(&r, &sv->config_generation);
	for (unsigned i = 0; i < nq && !r.failed; i++) {
		struct virtio_mmio_queue *q = &sv->qregs[i];
		blob_get_u32(&r, &q->num);
		blob_get_u64(&r, &q->desc);
		blob_get_u64(&r, &q->driver);
		blob_get_u64(&r, &q->device);
		if (!r.failed && !vmmio_read_vq(t, &r, i, &sv->vq[i]))
			return false;
	}
	blob_get_sized(&r, &sv->dev_blob, &sv->dev_len, BLOB_MAX);
	if (blob_reader_end(&r, name) < 0)
		return false;

	uint32_t st = sv->status;
	if (st & ~(uint32_t)VMMIO_STATUS_BITS) {
		log_err("virtio-mmio", "%s: saved status %#x has unknown bits", name, st);
		return false;
	}
	if (st & VIRTIO_CONFIG_S_FEATURES_OK) {
		uint64_t unoffered = sv->driver_features & ~vmmio_offered(t);
		if (unoffered || !(sv->driver_features & (1ULL << VIRTIO_F_VERSION_1))) {
			log_err("virtio-mmio",
				"%s: the saved driver accepted features %#llx this device does "
				"not offer",
				name, (unsigned long long)unoffered);
			return false;
		}
	}
	if ((st & VIRTIO_CONFIG_S_DRIVER_OK) && !(st & VIRTIO_CONFIG_S_FEATURES_OK)) {
		log_err("virtio-mmio", "%s: saved status %#x: DRIVER_OK without FEATURES_OK", name,
			st);
		return false;
	}
	if (sv->active && !(st & VIRTIO_CONFIG_S_DRIVER_OK)) {
		log_err("virtio-mmio", "%s: saved as active without DRIVER_OK", name);
		return false;
	}
	if (sv->interrupt_status & ~(uint32_t)VMMIO_INT_BITS) {
		log_err("virtio-mmio", "%s: saved interrupt status %#x has unknown bits", name,
			sv->interrupt_status);
		return false;
	}
	if (sv->dev_len && !t->ops->restore) {
		log_err("virtio-mmio",
			"%s: the state has %zu bytes of device state this device "
			"cannot take",
			name, sv->dev_len);
		return false;
	}
	return true;
}

int virtio_mmio_restore(struct virtio_mmio *t, const void *blob, size_t len)
{
	struct vmmio_saved sv;
	const char *name = t->ops->name;
	int r = 0;

	if (!vmmio_parse(t, blob, len, &sv))
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	if (t->status || t->active) {
		log_err("virtio-mmio", "%s: restore into a device already in use", name);
		pthread_mutex_unlock(&t->lock);
		return -EBUSY;
	}
	/* The rings again through vq_configure: they must lie in this guest's RAM. */
	for (unsigned i = 0; i < t->ops->num_queues; i++) {
		const struct virtqueue *s = &sv.vq[i];
		if (!s->ready)
			continue;
		r = vq_configure(&t->vq[i], s->size, t->ops->queue_max_size, s->desc_gpa,
				 s->avail_gpa, s->used_gpa);
		if (r < 0) {
			log_err("virtio-mmio", "%s: saved queue %u cannot be set up here", name, i);
			goto fail;
		}
		t->vq[i].last_avail_idx = s->last_avail_idx;
		t->vq[i].used_idx = s->used_idx;
		t->vq[i].broken = s->broken;
		t->vq[i].err = s->err;
	}
	t->device_features_sel = sv.device_features_sel;
	t->driver_features_sel = sv.driver_features_sel;
	t->queue_sel = sv.queue_sel;
	t->status = sv.status;
	t->driver_features = sv.driver_features;
	memcpy(t->qregs, sv.qregs, sizeof(t->qregs));
	__atomic_store_n(&t->needs_reset, sv.needs_reset ? 1 : 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&t->interrupt_status, sv.interrupt_status, __ATOMIC_SEQ_CST);
	__atomic_store_n(&t->config_generation, sv.config_generation, __ATOMIC_SEQ_CST);
	if (sv.active) {
		r = t->ops->restore ? t->ops->restore(t->dev, t->driver_features, &t->queues,
						      sv.dev_blob, sv.dev_len) :
				      t->ops->activate(t->dev, t->driver_features, &t->queues);
		if (r < 0) {
			log_err("virtio-mmio", "%s: cannot be restored active: %s", name,
				strerror(-r));
			goto fail;
		}
		t->active = true;
		/* What the guest posted before the save, as if it kicked every queue now. */
		for (unsigned i = 0; i < t->ops->num_queues; i++) {
			if (!t->vq[i].ready)
				continue;
			t->ops->queue_notify(t->dev, i);
			if (t->vq[i].broken)
				vmmio_cb_queue_broken(t, i);
		}
	}
	pthread_mutex_unlock(&t->lock);
	/* An interrupt the guest had not acknowledged: raised again (a spare one is harmless). */
	if (__atomic_load_n(&t->interrupt_status, __ATOMIC_SEQ_CST))
		t->raise_irq(t->irq_ctx);
	return 0;
fail:
	vmmio_reset_locked(t);
	pthread_mutex_unlock(&t->lock);
	return r < 0 ? r : -EINVAL;
}
