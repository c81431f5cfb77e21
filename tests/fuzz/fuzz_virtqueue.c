/*
 * libFuzzer target for the split virtqueue: the input is the queue's
 * configuration followed by the contents of a small fake guest RAM in two
 * regions (like RAM below and above the MMIO gap). Each region is its own
 * heap block, so AddressSanitizer catches any access that strays outside.
 *
 * Input layout (little-endian):
 *   0      queue size as log2 (mod 9: 1..256)
 *   1      rounds of pop-all/push-all (mod 8, plus 1)
 *   2..3   desc ring offset     } in the low region, or the high one if
 *   4..5   avail ring offset    } bit 0/1/2 of byte 8 is set
 *   6..7   used ring offset     }
 *   8      region bits
 *   9..    low RAM (FUZZ_LOW bytes), then high RAM (FUZZ_HIGH bytes)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest_mem.h"
#include "virtio/virtqueue.h"

#define FUZZ_HDR      9
#define FUZZ_LOW      4096
#define FUZZ_HIGH     1024
#define FUZZ_HIGH_GPA 0x100000000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

/* Touch every byte the chain hands out: reads what the device would read, fills the rest. */
static uint32_t fuzz_use_chain(const struct vq_chain *c)
{
	uint32_t sum = 0, written = 0;
	for (unsigned i = 0; i < c->nbufs; i++) {
		const struct vq_buf *b = &c->buf[i];
		if (b->device_writes) {
			memset(b->hva, 0xa5, b->len);
			written += b->len;
		} else {
			const uint8_t *p = b->hva;
			for (uint32_t j = 0; j < b->len; j++)
				sum += p[j];
		}
	}
	if (written != c->writable)
		abort();
	return written + (sum & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < FUZZ_HDR)
		return 0;

	uint8_t *low = calloc(1, FUZZ_LOW);
	uint8_t *high = calloc(1, FUZZ_HIGH);
	if (!low || !high)
		abort();
	size_t rest = size - FUZZ_HDR;
	size_t nlow = rest < FUZZ_LOW ? rest : FUZZ_LOW;
	memcpy(low, data + FUZZ_HDR, nlow);
	rest -= nlow;
	memcpy(high, data + FUZZ_HDR + nlow, rest < FUZZ_HIGH ? rest : FUZZ_HIGH);

	struct guest_mem gm = {
		.memfd = -1,
		.base = low,
		.size = FUZZ_LOW + FUZZ_HIGH,
		.nregions = 2,
		.regions = {
			{ .gpa = 0, .size = FUZZ_LOW, .hva = low },
			{ .gpa = FUZZ_HIGH_GPA, .size = FUZZ_HIGH, .hva = high },
		},
	};

	uint16_t qsize = (uint16_t)(1u << (data[0] % 9));
	unsigned rounds = (data[1] % 8) + 1;
	uint64_t gpa[3];
	for (unsigned i = 0; i < 3; i++)
		gpa[i] = get16(data + 2 + 2 * i) + ((data[8] >> i) & 1 ? FUZZ_HIGH_GPA : 0);

	struct virtqueue vq;
	vq_init(&vq, &gm);
	if (vq_configure(&vq, qsize, VQ_SIZE_MAX, gpa[0], gpa[1], gpa[2]) == 0) {
		static struct vq_chain chain;
		uint16_t heads[VQ_SIZE_MAX];
		uint32_t lens[VQ_SIZE_MAX];

		for (unsigned r = 0; r < rounds && !vq.broken; r++) {
			unsigned n = 0;
			int got;
			(void)vq_has_avail(&vq);
			while (n < qsize && (got = vq_pop(&vq, &chain)) == 1) {
				if (chain.head >= qsize || chain.nbufs > qsize)
					abort();
				heads[n] = chain.head;
				lens[n++] = fuzz_use_chain(&chain);
			}
			for (unsigned i = 0; i < n; i++)
				if (vq_push(&vq, heads[i], lens[i]) < 0 && !vq.broken)
					abort();
			(void)vq_should_interrupt(&vq);
		}
		/* Once broken, it stays broken and touches nothing. */
		if (vq.broken && (vq_pop(&vq, &chain) != vq.err || vq_push(&vq, 0, 0) != vq.err))
			abort();
	}
	free(low);
	free(high);
	return 0;
}
