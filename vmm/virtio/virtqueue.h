/*
 * Split virtqueue, host side (virtio 1.x, 2.7). No KVM calls, no threads:
 * a device pops descriptor chains and pushes them back as used.
 *
 * The guest controls everything in the rings: the descriptor table, the
 * available ring (flags, idx, ring[]) and the buffers. It may rewrite any of
 * it at any time, from another CPU. What the guest told the transport (size,
 * ring addresses) is copied into struct virtqueue once, checked, and never
 * read back from the guest. Every index read from guest memory is checked
 * against the host copy of the size; every buffer goes through
 * gm_gpa_to_hva(). The first bad value marks the queue broken: later calls
 * return the same error without touching guest memory again.
 *
 * Rules for what a chain may contain (anything else breaks the queue):
 *  - at most `size` buffer descriptors in one chain (-ELOOP past that);
 *  - head and next indices below the table size (-EINVAL);
 *  - every buffer inside guest RAM (-EFAULT);
 *  - device-readable buffers before device-writable ones (-EINVAL);
 *  - zero-length descriptors are SKIPPED: they count towards the chain
 *    length and the read-before-write order, but produce no vq_buf and
 *    their address is never translated;
 *  - VRING_DESC_F_INDIRECT is supported on the head descriptor only (which
 *    is how drivers use it): no NEXT flag with it, the table length a
 *    non-zero multiple of 16 of at most `size` entries, inside RAM, and no
 *    INDIRECT flag inside the table (-EINVAL); the WRITE flag on the
 *    indirect descriptor itself is ignored, as the spec says;
 *  - a chain's readable and writable totals each fit in 32 bits (-EINVAL).
 *
 * Not thread-safe: one thread at a time per queue (the device's choice).
 */
#ifndef HUSK_VIRTIO_VIRTQUEUE_H
#define HUSK_VIRTIO_VIRTQUEUE_H

#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>

struct guest_mem;

/* Largest queue size a device may ask for; a chain has at most this many buffers. */
#define VQ_SIZE_MAX 256

/*
 * Descriptor flags (VRING_DESC_F_*, guest-written), ring flags
 * (VRING_AVAIL_F_NO_INTERRUPT guest-written, VRING_USED_F_NO_NOTIFY ours) and
 * VIRTIO_RING_F_INDIRECT_DESC, the feature bit this code implements, are the
 * kernel's (<linux/virtio_ring.h>).
 */

/* Guest memory layout of the rings, all little-endian. */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Sizes in bytes the guest must provide (2.7: including the event fields). */
#define VQ_DESC_BYTES(n)  (16ULL * (n))
#define VQ_AVAIL_BYTES(n) (6ULL + 2ULL * (n))
#define VQ_USED_BYTES(n)  (6ULL + 8ULL * (n))

struct virtqueue {
	const struct guest_mem *gm;
	/* Host copies of what the guest configured; fixed while ready. */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool ready;
	/* Translated once at configure time; guest RAM never moves. */
	uint8_t *desc;
	uint8_t *avail;
	uint8_t *used;
	/* Host-owned progress: the guest cannot write these. */
	uint16_t last_avail_idx;
	uint16_t used_idx;
	bool broken;
	int err; /* the error that broke the queue */
};

struct vq_buf {
	void *hva;
	uint32_t len;
	bool device_writes;
};

struct vq_chain {
	uint16_t head;
	uint16_t nbufs;	   /* at most the queue size */
	uint32_t readable; /* total bytes of the device-readable buffers */
	uint32_t writable; /* total bytes of the device-writable buffers */
	struct vq_buf buf[VQ_SIZE_MAX];
};

/* Not ready, not broken, bound to gm. */
void vq_init(struct virtqueue *vq, const struct guest_mem *gm);

/*
 * Check and copy the guest's queue configuration, then mark it ready:
 * size a power of two in 1..max (max itself <= VQ_SIZE_MAX), rings aligned
 * (desc 16, avail 2, used 4) and wholly inside guest RAM. -EINVAL or
 * -EFAULT otherwise, and the queue stays not ready.
 */
int vq_configure(struct virtqueue *vq, uint16_t size, uint16_t max, uint64_t desc_gpa,
		 uint64_t avail_gpa, uint64_t used_gpa);

/* Back to the vq_init() state (keeps gm). */
void vq_reset(struct virtqueue *vq);

/*
 * Take the next available chain: 1 and *chain filled, 0 if none (or the
 * queue is not ready), or a negative errno if the guest's data is bad,
 * after which the queue is broken and every call returns that error.
 */
int vq_pop(struct virtqueue *vq, struct vq_chain *chain);

/*
 * Return chain `head` to the guest with `written` bytes written by the
 * device, publishing the used index (release). -EINVAL if the queue is not
 * ready, head is out of range or nothing is outstanding (a device bug: the
 * queue is not marked broken); the broken error if it is broken.
 */
int vq_push(struct virtqueue *vq, uint16_t head, uint32_t written);

/* Whether the guest wants an interrupt for used buffers (no EVENT_IDX). */
bool vq_should_interrupt(const struct virtqueue *vq);

/*
 * A device found a chain it cannot serve (its layout is wrong for the
 * device): the queue is broken from now on, as for a bad descriptor chain.
 */
void vq_mark_broken(struct virtqueue *vq, int err);

/*
 * Give back the chain the last vq_pop returned, unused: the next vq_pop
 * returns it again. Only right after a successful vq_pop.
 */
void vq_unpop(struct virtqueue *vq);

/* Whether vq_pop would find a chain now (false when broken or not ready). */
bool vq_has_avail(const struct virtqueue *vq);

#endif
