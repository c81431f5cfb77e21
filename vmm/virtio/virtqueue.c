#include "virtio/virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "guest_mem.h"
#include "log.h"

/* Offsets inside the rings (2.7.6, 2.7.8). */
#define AVAIL_FLAGS 0
#define AVAIL_IDX   2
#define AVAIL_RING  4
#define USED_FLAGS  0
#define USED_IDX    2
#define USED_RING   4

void vq_init(struct virtqueue *vq, const struct guest_mem *gm)
{
	memset(vq, 0, sizeof(*vq));
	vq->gm = gm;
}

void vq_reset(struct virtqueue *vq)
{
	vq_init(vq, vq->gm);
}

static bool vq_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int vq_configure(struct virtqueue *vq, uint16_t size, uint16_t max, uint64_t desc_gpa,
		 uint64_t avail_gpa, uint64_t used_gpa)
{
	vq_reset(vq);
	if (!vq->gm || !vq_pow2(max) || max > VQ_SIZE_MAX || !vq_pow2(size) || size > max) {
		log_err("virtqueue", "queue size %u not a power of two in 1..%u", size, max);
		return -EINVAL;
	}
	if ((desc_gpa & 15) || (avail_gpa & 1) || (used_gpa & 3)) {
		log_err("virtqueue", "misaligned rings (desc %#llx avail %#llx used %#llx)",
			(unsigned long long)desc_gpa, (unsigned long long)avail_gpa,
			(unsigned long long)used_gpa);
		return -EINVAL;
	}
	uint8_t *desc = gm_gpa_to_hva(vq->gm, desc_gpa, VQ_DESC_BYTES(size));
	uint8_t *avail = gm_gpa_to_hva(vq->gm, avail_gpa, VQ_AVAIL_BYTES(size));
	uint8_t *used = gm_gpa_to_hva(vq->gm, used_gpa, VQ_USED_BYTES(size));
	if (!desc || !avail || !used) {
		log_err("virtqueue", "rings outside guest RAM (desc %#llx avail %#llx used %#llx)",
			(unsigned long long)desc_gpa, (unsigned long long)avail_gpa,
			(unsigned long long)used_gpa);
		return -EFAULT;
	}
	vq->size = size;
	vq->desc_gpa = desc_gpa;
	vq->avail_gpa = avail_gpa;
	vq->used_gpa = used_gpa;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->ready = true;
	return 0;
}

void vq_mark_broken(struct virtqueue *vq, int err)
{
	if (!vq->broken) {
		vq->broken = true;
		vq->err = err;
	}
}

static int vq_fail(struct virtqueue *vq, int err, const char *why, unsigned v)
{
	log_err("virtqueue", "%s (%u): queue broken", why, v);
	vq_mark_broken(vq, err);
	return err;
}

/* Ring fields are naturally aligned (checked at configure time). */
static uint16_t vq_load16(const uint8_t *p, int order)
{
	return le16toh(__atomic_load_n((const uint16_t *)(const void *)p, order));
}

/*
 * One descriptor, copied out of guest memory once: every check below is on
 * the copy. The compiler barrier stops the compiler from re-reading the
 * guest's memory in place of the copy. Indirect tables need not be aligned,
 * hence memcpy.
 */
static struct virtq_desc vq_read_desc(const uint8_t *table, uint16_t i)
{
	struct virtq_desc d;
	memcpy(&d, table + (size_t)i * sizeof(d), sizeof(d));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	d.addr = le64toh(d.addr);
	d.len = le32toh(d.len);
	d.flags = le16toh(d.flags);
	d.next = le16toh(d.next);
	return d;
}

/* Walk the chain starting at head; nothing in vq changes here. */
static int vq_walk(struct virtqueue *vq, uint16_t head, struct vq_chain *c)
{
	const uint8_t *table = vq->desc;
	uint32_t table_n = vq->size;
	bool indirect = false, seen_write = false;
	uint64_t rd = 0, wr = 0;
	unsigned count = 0;
	uint16_t i = head;

	c->head = head;
	c->nbufs = 0;
	for (;;) {
		struct virtq_desc d = vq_read_desc(table, i);

		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (indirect)
				return vq_fail(vq, -EINVAL, "nested indirect descriptor", i);
			if (count || (d.flags & VRING_DESC_F_NEXT))
				return vq_fail(vq, -EINVAL, "indirect descriptor not alone", i);
			if (!d.len || d.len % sizeof(struct virtq_desc) ||
			    d.len / sizeof(struct virtq_desc) > vq->size)
				return vq_fail(vq, -EINVAL, "bad indirect table length", d.len);
			table = gm_gpa_to_hva(vq->gm, d.addr, d.len);
			if (!table)
				return vq_fail(vq, -EFAULT, "indirect table outside guest RAM", i);
			table_n = d.len / (uint32_t)sizeof(struct virtq_desc);
			indirect = true;
			i = 0;
			continue;
		}
		if (count == vq->size)
			return vq_fail(vq, -ELOOP, "chain longer than the queue", head);
		count++;

		bool w = d.flags & VRING_DESC_F_WRITE;
		if (!w && seen_write)
			return vq_fail(vq, -EINVAL, "readable descriptor after a writable one", i);
		seen_write |= w;
		if (d.len) {
			void *hva = gm_gpa_to_hva(vq->gm, d.addr, d.len);
			if (!hva)
				return vq_fail(vq, -EFAULT, "buffer outside guest RAM", i);
			c->buf[c->nbufs++] =
				(struct vq_buf){ .hva = hva, .len = d.len, .device_writes = w };
			if (w)
				wr += d.len;
			else
				rd += d.len;
			if (rd > UINT32_MAX || wr > UINT32_MAX)
				return vq_fail(vq, -EINVAL, "chain larger than 4 GiB", head);
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= table_n)
			return vq_fail(vq, -EINVAL, "next index out of range", d.next);
		i = d.next;
	}
	c->readable = (uint32_t)rd;
	c->writable = (uint32_t)wr;
	return 1;
}

int vq_pop(struct virtqueue *vq, struct vq_chain *chain)
{
	if (vq->broken)
		return vq->err;
	if (!vq->ready)
		return 0;

	/* Acquire: the ring entry and descriptors are read after the index. */
	uint16_t avail_idx = vq_load16(vq->avail + AVAIL_IDX, __ATOMIC_ACQUIRE);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail_idx);
	if (!pending)
		return 0;
	if (pending > vq->size)
		return vq_fail(vq, -EINVAL, "available index ran ahead", avail_idx);

	uint16_t slot = vq->last_avail_idx & (uint16_t)(vq->size - 1);
	uint16_t head = vq_load16(vq->avail + AVAIL_RING + 2 * (size_t)slot, __ATOMIC_RELAXED);
	if (head >= vq->size)
		return vq_fail(vq, -EINVAL, "head index out of range", head);

	int r = vq_walk(vq, head, chain);
	if (r < 0)
		return r;
	vq->last_avail_idx++;
	return 1;
}

int vq_push(struct virtqueue *vq, uint16_t head, uint32_t written)
{
	if (vq->broken)
		return vq->err;
	if (!vq->ready || head >= vq->size || vq->used_idx == vq->last_avail_idx)
		return -EINVAL;

	uint16_t slot = vq->used_idx & (uint16_t)(vq->size - 1);
	uint8_t *e = vq->used + USED_RING + sizeof(struct virtq_used_elem) * (size_t)slot;
	__atomic_store_n((uint32_t *)(void *)e, htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)(void *)(e + 4), htole32(written), __ATOMIC_RELAXED);
	vq->used_idx++;
	/* Release: the element is visible before the index that covers it. */
	__atomic_store_n((uint16_t *)(void *)(vq->used + USED_IDX), htole16(vq->used_idx),
			 __ATOMIC_RELEASE);
	return 0;
}

bool vq_should_interrupt(const struct virtqueue *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	/* Full fence: our used idx store is ordered before reading the guest's flags. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(vq_load16(vq->avail + AVAIL_FLAGS, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
}

bool vq_has_avail(const struct virtqueue *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	return vq_load16(vq->avail + AVAIL_IDX, __ATOMIC_ACQUIRE) != vq->last_avail_idx;
}

void vq_unpop(struct virtqueue *vq)
{
	if (vq->ready && !vq->broken)
		vq->last_avail_idx--;
}
