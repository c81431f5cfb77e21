/*
 * libFuzzer target for virtio-net, driven through the virtio-mmio transport
 * as a guest would: the input chooses the accepted features, both queues'
 * sizes and ring addresses, the frames waiting in the back end (a
 * SOCK_SEQPACKET socketpair standing in for the tap) and the contents of a
 * small fake guest RAM (one heap block, so that AddressSanitizer catches
 * any access outside it). Each round kicks the transmit queue, lets the
 * back end deliver, kicks the receive queue and drains what was sent.
 *
 * Input layout (little-endian):
 *   0      accepted feature bits (bit i: fuzz_features[i])
 *   1      receive queue size as log2 (mod 9: 1..256)
 *   2      transmit queue size as log2 (mod 9)
 *   3      frames waiting in the back end (mod 8)
 *   4..5   frame length seed
 *   6      rounds (mod 4, plus 1)
 *   7..18  rx desc, avail, used, tx desc, avail, used offsets in RAM
 *   19..   RAM (FUZZ_RAM bytes)
 */
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio_net.h"
#include "event_loop.h"
#include "guest_mem.h"
#include "virtio/mmio.h"

#define FUZZ_HDR 19
#define FUZZ_RAM 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned fuzz_features[8] = {
	VIRTIO_NET_F_MRG_RXBUF,	     VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4,
	VIRTIO_NET_F_GUEST_TSO6,     VIRTIO_NET_F_CSUM,	      VIRTIO_NET_F_HOST_TSO4,
	VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_NET_F_MAC,
};

static struct virtio_net net;
static struct virtio_mmio t;
static struct event_loop el;
static int irqs;

static void fuzz_irq(void *ctx)
{
	(*(int *)ctx)++;
}

static void wr(uint64_t off, uint32_t v)
{
	uint8_t d[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	virtio_mmio_write(&t, off, d, 4);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool el_ready;
	static uint8_t frame[4096];
	if (size < FUZZ_HDR)
		return 0;
	if (!el_ready) {
		if (el_init(&el) < 0)
			abort();
		el_ready = true;
	}
	uint8_t *ram = calloc(1, FUZZ_RAM);
	if (!ram)
		abort();
	size_t rest = size - FUZZ_HDR;
	memcpy(ram, data + FUZZ_HDR, rest < FUZZ_RAM ? rest : FUZZ_RAM);
	struct guest_mem gm = {
		.memfd = -1,
		.base = ram,
		.size = FUZZ_RAM,
		.nregions = 1,
		.regions = { { .gpa = 0, .size = FUZZ_RAM, .hva = ram } },
	};

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	const struct net_config c = { .tap = "fuzz0", .mac = { 2, 0, 0, 0, 0, 1 }, .mtu = 1500 };
	if (virtio_net_init(&net, &c, sv[0], false, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, &el) <
		    0 ||
	    virtio_mmio_init(&t, &gm, &net.ops, &net, fuzz_irq, &irqs) < 0)
		abort();

	/* the driver's side of the handshake, with the input's choices */
	uint64_t feats = 1ULL << VIRTIO_F_VERSION_1;
	for (unsigned i = 0; i < 8; i++)
		if (data[0] & (1u << i))
			feats |= 1ULL << fuzz_features[i];
	wr(0x070, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(0x024, 0);
	wr(0x020, (uint32_t)feats);
	wr(0x024, 1);
	wr(0x020, (uint32_t)(feats >> 32));
	wr(0x070,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	for (uint32_t q = 0; q < 2; q++) {
		wr(0x030, q);
		wr(0x038, 1u << (data[1 + q] % 9));
		const uint8_t *o = data + 7 + 6 * q;
		wr(0x080, get16(o));
		wr(0x084, 0);
		wr(0x090, get16(o + 2));
		wr(0x094, 0);
		wr(0x0a0, get16(o + 4));
		wr(0x0a4, 0);
		wr(0x044, 1);
	}
	wr(0x070, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);

	/* frames from the back end, of lengths around the buffer sizes that matter */
	unsigned nframes = data[3] % 8, seed = get16(data + 4);
	for (unsigned i = 0; i < nframes; i++) {
		size_t len = (seed * (i + 1) * 2654435761u >> 7) % sizeof(frame);
		memset(frame, (int)i, len);
		if (send(sv[1], frame, len, MSG_DONTWAIT) < 0)
			break;
	}
	unsigned rounds = data[6] % 4 + 1;
	for (unsigned r = 0; r < rounds; r++) {
		virtio_mmio_notify(&t, 1);
		virtio_net_rx(&net);
		virtio_mmio_notify(&t, 0);
		while (recv(sv[1], frame, sizeof(frame), MSG_DONTWAIT) > 0)
			;
	}
	if (net.stats.rx_frames > nframes)
		abort();

	wr(0x070, 0); /* reset */
	if (net.active || net.rx_watch)
		abort();
	virtio_mmio_destroy(&t);
	virtio_net_close(&net);
	close(sv[1]);
	free(ram);
	return 0;
}
