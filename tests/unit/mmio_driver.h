/*
 * Shared by the unit tests that play a virtio driver: the register offsets,
 * 32-bit register access to a transport, and the steps of a driver's
 * bring-up (feature negotiation, a queue's rings).
 */
#ifndef HUSK_TESTS_MMIO_DRIVER_H
#define HUSK_TESTS_MMIO_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <linux/virtio_config.h>

#include "guest_mem.h"
#include "virtio/mmio.h"
#include "virtio/virtqueue.h"
#include "unit.h"

/* Register offsets, as a driver would spell them (virtio 1.x, 4.2.2). */
enum {
	MAGIC = 0x000,
	VERSION = 0x004,
	DEVICE_ID = 0x008,
	VENDOR_ID = 0x00c,
	DEV_FEAT = 0x010,
	DEV_FEAT_SEL = 0x014,
	DRV_FEAT = 0x020,
	DRV_FEAT_SEL = 0x024,
	QSEL = 0x030,
	QNUM_MAX = 0x034,
	QNUM = 0x038,
	QREADY = 0x044,
	QNOTIFY = 0x050,
	INT_STATUS = 0x060,
	INT_ACK = 0x064,
	STATUS = 0x070,
	QDESC_LO = 0x080,
	QDESC_HI = 0x084,
	QDRV_LO = 0x090,
	QDRV_HI = 0x094,
	QDEV_LO = 0x0a0,
	QDEV_HI = 0x0a4,
	CONFIG_GEN = 0x0fc,
	CONFIG = 0x100,
};

/* The status of a device the driver has brought up. */
#define ALL_OK                                                                                \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | \
	 VIRTIO_CONFIG_S_DRIVER_OK)

/* A register read; bytes the transport leaves alone read back as 0xee. */
static inline uint32_t mmio_rd(struct virtio_mmio *t, uint64_t off)
{
	uint8_t d[4] = { 0xee, 0xee, 0xee, 0xee };
	virtio_mmio_read(t, off, d, 4);
	return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

static inline void mmio_wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	uint8_t d[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	virtio_mmio_write(t, off, d, 4);
}

/* A Low/High register pair. */
static inline void mmio_wr64(struct virtio_mmio *t, uint64_t lo_off, uint64_t v)
{
	mmio_wr(t, lo_off, (uint32_t)v);
	mmio_wr(t, lo_off + 4, (uint32_t)(v >> 32));
}

/* The device's offered features, both words. */
static inline uint64_t mmio_offered(struct virtio_mmio *t)
{
	uint64_t offered = 0;
	for (uint32_t w = 0; w < 2; w++) {
		mmio_wr(t, DEV_FEAT_SEL, w);
		offered |= (uint64_t)mmio_rd(t, DEV_FEAT) << (32 * w);
	}
	return offered;
}

/*
 * The driver's first steps: ACKNOWLEDGE, DRIVER, features written, then
 * FEATURES_OK set (the caller checks that it stuck).
 */
static inline void mmio_negotiate(struct virtio_mmio *t, uint64_t features)
{
	mmio_wr(t, STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	mmio_wr(t, STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (uint32_t sel = 0; sel < 2; sel++) {
		mmio_wr(t, DRV_FEAT_SEL, sel);
		mmio_wr(t, DRV_FEAT, (uint32_t)(features >> (32 * sel)));
	}
	mmio_wr(t, STATUS,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
}

/* The selected queue given num entries and its rings, then made ready. */
static inline void mmio_queue(struct virtio_mmio *t, uint32_t num, uint64_t desc, uint64_t avail,
			      uint64_t used)
{
	mmio_wr(t, QNUM, num);
	mmio_wr64(t, QDESC_LO, desc);
	mmio_wr64(t, QDRV_LO, avail);
	mmio_wr64(t, QDEV_LO, used);
	mmio_wr(t, QREADY, 1);
}

/* One buffer of a chain the driver offers. */
struct seg {
	uint64_t gpa;
	uint32_t len;
	bool dev_writes;
};

/*
 * A chain in consecutive descriptors from *next_head of a queue of qsize
 * (its descriptor table at desc, its available ring at avail), made
 * available; returns its head.
 */
static inline uint16_t mmio_offer(const struct guest_mem *gm, uint64_t desc, uint64_t avail,
				  unsigned qsize, uint16_t *next_head, const struct seg *sg,
				  unsigned n)
{
	uint16_t head = *next_head;
	ck_assert_uint_le(head + n, qsize);
	uint8_t *table = gm_gpa_to_hva(gm, desc, VQ_DESC_BYTES(qsize));
	ck_assert_ptr_nonnull(table);
	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc d = {
			.addr = sg[i].gpa,
			.len = sg[i].len,
			.flags = (uint16_t)((sg[i].dev_writes ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = (uint16_t)(head + i + 1),
		};
		memcpy(table + 16 * (size_t)(head + i), &d, sizeof(d));
	}
	*next_head = (uint16_t)(head + n);
	uint16_t *ring = gm_gpa_to_hva(gm, avail, VQ_AVAIL_BYTES(qsize));
	ck_assert_ptr_nonnull(ring);
	ring[2 + ring[1] % qsize] = head;
	ring[1]++;
	return head;
}

/* A raise_irq callback that counts into an int. */
static inline void mmio_count_irq(void *ctx)
{
	(*(int *)ctx)++;
}

#endif
