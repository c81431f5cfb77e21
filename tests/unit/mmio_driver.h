/* Shared by the unit tests that play a virtio driver: 32-bit register access to a transport. */
#ifndef HUSK_TESTS_MMIO_DRIVER_H
#define HUSK_TESTS_MMIO_DRIVER_H

#include <stdint.h>

#include "virtio/mmio.h"

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

/* A raise_irq callback that counts into an int. */
static inline void mmio_count_irq(void *ctx)
{
	(*(int *)ctx)++;
}

#endif
