/* virtio-mmio transport: the driver handshake against a tiny fake device, and hostile registers. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_mem.h"
#include "virtio/mmio.h"
#include "virtio/virtqueue.h"
#include "mmio_driver.h"
#include "unit.h"

#define MiB  (1ULL << 20)
#define RAM  (64 * MiB)
#define QMAX 16
#define BUF  0x100000ULL

#define FAKE_FEATURES ((1ULL << 0) | (1ULL << 35))

/* A device that answers every kick by returning all available chains. */
struct fake {
	int activates, notifies, resets, fail_activate;
	int restores, refuse_save;
	uint32_t restored; /* what the device's own state said */
	unsigned last_queue;
	uint64_t features;
	const struct virtio_queues *q;
	uint8_t cfg[12];
};

static void fake_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
	memcpy(data, ((struct fake *)dev)->cfg + off, len);
}

static void fake_config_write(void *dev, uint32_t off, const uint8_t *data, unsigned len)
{
	memcpy(((struct fake *)dev)->cfg + off, data, len);
}

static int fake_activate(void *dev, uint64_t features, const struct virtio_queues *q)
{
	struct fake *f = dev;
	f->activates++;
	f->features = features;
	f->q = q;
	return f->fail_activate ? -EIO : 0;
}

static void fake_queue_notify(void *dev, unsigned queue)
{
	static struct vq_chain ch;
	struct fake *f = dev;
	struct virtqueue *vq = &f->q->vq[queue];
	int r;

	f->notifies++;
	f->last_queue = queue;
	while ((r = vq_pop(vq, &ch)) == 1)
		vq_push(vq, ch.head, ch.writable);
	if (r < 0)
		f->q->queue_broken(f->q->transport, queue);
	else
		f->q->notify_used(f->q->transport, queue);
}

static void fake_reset(void *dev)
{
	struct fake *f = dev;
	f->resets++;
	f->q = NULL;
}

static const struct virtio_device_ops fake_ops = {
	.name = "fake",
	.device_id = 42,
	.num_queues = 2,
	.queue_max_size = QMAX,
	.features = FAKE_FEATURES,
	.config_size = 12,
	.config_read = fake_config_read,
	.config_write = fake_config_write,
	.activate = fake_activate,
	.queue_notify = fake_queue_notify,
	.reset = fake_reset,
};

/* The same device with state of its own: its notification count. */
static int fake_save(void *dev, void **blob, size_t *len)
{
	struct fake *f = dev;
	if (f->refuse_save)
		return -EBUSY;
	uint32_t *p = malloc(sizeof(*p));
	ck_assert_ptr_nonnull(p);
	*p = (uint32_t)f->notifies;
	*blob = p;
	*len = sizeof(*p);
	return 0;
}

static int fake_restore(void *dev, uint64_t features, const struct virtio_queues *q,
			const void *blob, size_t len)
{
	struct fake *f = dev;
	if (len != sizeof(uint32_t))
		return -EINVAL;
	f->restores++;
	memcpy(&f->restored, blob, len);
	f->features = features;
	f->q = q;
	return 0;
}

static const struct virtio_device_ops fake_state_ops = {
	.name = "fake-state",
	.device_id = 42,
	.num_queues = 2,
	.queue_max_size = QMAX,
	.features = FAKE_FEATURES,
	.config_size = 12,
	.config_read = fake_config_read,
	.activate = fake_activate,
	.queue_notify = fake_queue_notify,
	.reset = fake_reset,
	.save = fake_save,
	.restore = fake_restore,
};

static struct guest_mem gm;
static struct virtio_mmio t;
static struct fake dev;
static int irqs;

static uint32_t rd(uint64_t off)
{
	return mmio_rd(&t, off);
}

static void wr(uint64_t off, uint32_t v)
{
	mmio_wr(&t, off, v);
}

static void wr64(uint64_t lo_off, uint64_t v)
{
	mmio_wr64(&t, lo_off, v);
}

static void *hva(uint64_t gpa)
{
	void *p = gm_gpa_to_hva(&gm, gpa, 1);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* Queue q's rings live at 0x10000 * (q + 1). */
static uint64_t ring_desc(unsigned q)
{
	return 0x10000ULL * (q + 1);
}
static uint64_t ring_avail(unsigned q)
{
	return ring_desc(q) + 0x1000;
}
static uint64_t ring_used(unsigned q)
{
	return ring_desc(q) + 0x2000;
}

static void setup_queue(unsigned q, uint32_t num)
{
	wr(QSEL, q);
	ck_assert_uint_eq(rd(QREADY), 0);
	ck_assert_uint_eq(rd(QNUM_MAX), QMAX);
	mmio_queue(&t, num, ring_desc(q), ring_avail(q), ring_used(q));
}

static void negotiate(uint64_t features)
{
	wr(STATUS, 0);
	mmio_negotiate(&t, features);
}

/* The whole Linux-style bring-up with both queues. */
static void bring_up(void)
{
	negotiate(FAKE_FEATURES | (1ULL << VIRTIO_F_VERSION_1));
	ck_assert_uint_eq(rd(STATUS) & VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_FEATURES_OK);
	setup_queue(0, QMAX);
	ck_assert_uint_eq(rd(QREADY), 1);
	setup_queue(1, 8);
	ck_assert_uint_eq(rd(QREADY), 1);
	int before = dev.activates;
	wr(STATUS, ALL_OK);
	ck_assert_int_eq(dev.activates, before + 1);
	if (!dev.fail_activate)
		ck_assert_uint_eq(rd(STATUS), ALL_OK);
}

/* After a reset the guest starts its rings over and brings the device up again. */
static void restart(void)
{
	for (unsigned q = 0; q < 2; q++)
		memset(hva(ring_avail(q)), 0, 64);
	bring_up();
}

/* The guest offers one chain on queue q: a 16-byte read, then a 32-byte write. */
static void offer_chain(unsigned q, uint16_t head)
{
	uint8_t *d = hva(ring_desc(q));
	struct virtq_desc a = { BUF, 16, VRING_DESC_F_NEXT, (uint16_t)((head + 1) % 8) };
	struct virtq_desc b = { BUF + 0x100, 32, VRING_DESC_F_WRITE, 0 };
	memcpy(d + 16 * head, &a, 16);
	memcpy(d + 16 * a.next, &b, 16);
	uint16_t *avail = hva(ring_avail(q));
	unsigned size = q == 0 ? QMAX : 8;
	avail[2 + avail[1] % size] = head;
	avail[1]++;
}

static uint16_t used_idx(unsigned q)
{
	return ((uint16_t *)hva(ring_used(q)))[1];
}

static void setup(void)
{
	ck_assert_int_eq(gm_init(&gm, RAM), 0);
	memset(&dev, 0, sizeof(dev));
	memcpy(dev.cfg, "abcdefghijkl", 12);
	irqs = 0;
	ck_assert_int_eq(virtio_mmio_init(&t, &gm, &fake_ops, &dev, mmio_count_irq, &irqs), 0);
}

static void teardown(void)
{
	virtio_mmio_destroy(&t);
	gm_destroy(&gm);
}

START_TEST(identity_registers)
{
	ck_assert_uint_eq(rd(MAGIC), 0x74726976);
	ck_assert_uint_eq(rd(VERSION), 2);
	ck_assert_uint_eq(rd(DEVICE_ID), 42);
	ck_assert_uint_eq(rd(VENDOR_ID), VMMIO_VENDOR_ID_VALUE);
	wr(DEV_FEAT_SEL, 0);
	ck_assert_uint_eq(rd(DEV_FEAT), 1);
	wr(DEV_FEAT_SEL, 1);
	ck_assert_uint_eq(rd(DEV_FEAT), (1u << 0) | (1u << 3)); /* VERSION_1, bit 35 */
	wr(DEV_FEAT_SEL, 2);
	ck_assert_uint_eq(rd(DEV_FEAT), 0);
	wr(DEV_FEAT_SEL, 0xffffffff);
	ck_assert_uint_eq(rd(DEV_FEAT), 0);
	ck_assert_uint_eq(rd(STATUS), 0);
	ck_assert_uint_eq(rd(INT_STATUS), 0);
	ck_assert_uint_eq(rd(CONFIG_GEN), 0);
	/* read-only registers ignore writes; write-only ones read 0 */
	wr(MAGIC, 0);
	wr(DEVICE_ID, 7);
	ck_assert_uint_eq(rd(MAGIC), 0x74726976);
	ck_assert_uint_eq(rd(DEVICE_ID), 42);
	wr(QNUM, 8);
	ck_assert_uint_eq(rd(QNUM), 0);
	ck_assert_uint_eq(rd(0x1fc), 0);
}
END_TEST

START_TEST(handshake_notify_and_interrupt)
{
	bring_up();
	ck_assert_uint_eq(dev.features, FAKE_FEATURES | (1ULL << VIRTIO_F_VERSION_1));
	ck_assert_ptr_nonnull(dev.q);
	ck_assert_uint_eq(dev.q->num, 2);
	ck_assert(dev.q->vq[0].ready);
	ck_assert_uint_eq(dev.q->vq[1].size, 8);

	offer_chain(0, 0);
	wr(QNOTIFY, 0);
	ck_assert_int_eq(dev.notifies, 1);
	ck_assert_uint_eq(dev.last_queue, 0);
	ck_assert_uint_eq(used_idx(0), 1);
	ck_assert_uint_eq(rd(INT_STATUS), VIRTIO_MMIO_INT_VRING);
	ck_assert_int_eq(irqs, 1);
	wr(INT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(INT_STATUS), 0);

	/* the event-thread path */
	offer_chain(1, 2);
	virtio_mmio_notify(&t, 1);
	ck_assert_int_eq(dev.notifies, 2);
	ck_assert_uint_eq(dev.last_queue, 1);
	ck_assert_uint_eq(used_idx(1), 1);
	ck_assert_int_eq(irqs, 2);

	/* the guest asked for no interrupts */
	wr(INT_ACK, 0xffffffff);
	((uint16_t *)hva(ring_avail(0)))[0] = VRING_AVAIL_F_NO_INTERRUPT;
	offer_chain(0, 4);
	wr(QNOTIFY, 0);
	ck_assert_uint_eq(used_idx(0), 2);
	ck_assert_int_eq(irqs, 2);
	ck_assert_uint_eq(rd(INT_STATUS), 0);

	/* DRIVER_OK again does not activate twice */
	wr(STATUS, ALL_OK);
	ck_assert_int_eq(dev.activates, 1);
	/* queue layout is frozen while the device runs */
	wr(QSEL, 0);
	wr(QREADY, 0);
	ck_assert_uint_eq(rd(QREADY), 1);
	wr(QNUM, 2);
	ck_assert_uint_eq(dev.q->vq[0].size, QMAX);
}
END_TEST

START_TEST(reset_by_status_zero)
{
	bring_up();
	offer_chain(0, 0);
	wr(QNOTIFY, 0);
	ck_assert_uint_eq(rd(INT_STATUS), VIRTIO_MMIO_INT_VRING);
	int before = dev.resets;
	wr(STATUS, 0);
	ck_assert_int_eq(dev.resets, before + 1);
	ck_assert_ptr_null(dev.q);
	ck_assert_uint_eq(rd(STATUS), 0);
	ck_assert_uint_eq(rd(INT_STATUS), 0);
	wr(QSEL, 0);
	ck_assert_uint_eq(rd(QREADY), 0);
	ck_assert_uint_eq(t.driver_features, 0);
	/* no longer active: kicks are dropped */
	wr(QNOTIFY, 0);
	ck_assert_int_eq(dev.notifies, 1);

	/* and it comes back up from scratch */
	restart();
	ck_assert_int_eq(dev.activates, 2);
	offer_chain(0, 1);
	wr(QNOTIFY, 0);
	ck_assert_int_eq(dev.notifies, 2);
}
END_TEST

START_TEST(feature_negotiation_refusals)
{
	/* a feature that was not offered */
	negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << 1));
	ck_assert_uint_eq(rd(STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	/* DRIVER_OK without FEATURES_OK: not taken, no activation */
	setup_queue(0, QMAX);
	wr(STATUS, ALL_OK & ~(uint32_t)VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert_uint_eq(rd(STATUS) & VIRTIO_CONFIG_S_DRIVER_OK, 0);
	ck_assert_int_eq(dev.activates, 0);

	/* no VERSION_1 */
	negotiate(FAKE_FEATURES);
	ck_assert_uint_eq(rd(STATUS) & VIRTIO_CONFIG_S_FEATURES_OK, 0);

	/* a subset is fine, and is what activate sees */
	negotiate((1ULL << VIRTIO_F_VERSION_1));
	ck_assert_uint_eq(rd(STATUS) & VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_FEATURES_OK);
	/* features are frozen after FEATURES_OK */
	wr(DRV_FEAT_SEL, 0);
	wr(DRV_FEAT, 1);
	wr(DRV_FEAT_SEL, 7);
	wr(DRV_FEAT, 0xffffffff);
	wr(STATUS, ALL_OK);
	ck_assert_int_eq(dev.activates, 1);
	ck_assert_uint_eq(dev.features, 1ULL << VIRTIO_F_VERSION_1);
	/* the driver cannot set DEVICE_NEEDS_RESET */
	wr(STATUS, ALL_OK | VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_uint_eq(rd(STATUS), ALL_OK);
}
END_TEST

START_TEST(notify_before_driver_ok_and_bad_queue)
{
	negotiate(FAKE_FEATURES | (1ULL << VIRTIO_F_VERSION_1));
	setup_queue(0, QMAX);
	offer_chain(0, 0);
	wr(QNOTIFY, 0);
	virtio_mmio_notify(&t, 0);
	ck_assert_int_eq(dev.notifies, 0);
	ck_assert_uint_eq(used_idx(0), 0);

	wr(STATUS, ALL_OK); /* queue 1 never set up */
	ck_assert_int_eq(dev.activates, 1);
	wr(QNOTIFY, 1);
	wr(QNOTIFY, 2);
	wr(QNOTIFY, 0xffffffff);
	virtio_mmio_notify(&t, 99);
	ck_assert_int_eq(dev.notifies, 0);
	wr(QNOTIFY, 0);
	ck_assert_int_eq(dev.notifies, 1);
	ck_assert_uint_eq(used_idx(0), 1);
}
END_TEST

START_TEST(queue_select_out_of_range)
{
	negotiate(FAKE_FEATURES | (1ULL << VIRTIO_F_VERSION_1));
	uint32_t sels[] = { 2, 8, 0x10000, 0xffffffff };
	for (unsigned i = 0; i < 4; i++) {
		wr(QSEL, sels[i]);
		ck_assert_uint_eq(rd(QNUM_MAX), 0);
		ck_assert_uint_eq(rd(QREADY), 0);
		wr(QNUM, 8);
		wr(QDESC_LO, 0x10000);
		wr(QDRV_LO, 0x11000);
		wr(QDEV_LO, 0x12000);
		wr(QREADY, 1);
		ck_assert_uint_eq(rd(QREADY), 0);
	}
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		ck_assert(!t.vq[q].ready);
	/* queue 0's staging was not touched */
	ck_assert_uint_eq(t.qregs[0].num, 0);
}
END_TEST

START_TEST(queue_setup_checks)
{
	negotiate(FAKE_FEATURES | (1ULL << VIRTIO_F_VERSION_1));
	setup_queue(0, QMAX * 2); /* above QueueNumMax */
	ck_assert_uint_eq(rd(QREADY), 0);
	setup_queue(0, 12); /* not a power of two */
	ck_assert_uint_eq(rd(QREADY), 0);
	setup_queue(0, 0);
	ck_assert_uint_eq(rd(QREADY), 0);
	setup_queue(0, 0x10010); /* 16 in the low bits */
	ck_assert_uint_eq(rd(QREADY), 0);

	wr(QNUM, QMAX);
	wr(QDESC_HI, 1); /* 4 GiB up: no RAM there */
	wr(QREADY, 1);
	ck_assert_uint_eq(rd(QREADY), 0);
	wr(QDESC_HI, 0);
	wr(QDEV_LO, (uint32_t)ring_used(0) + 2); /* misaligned */
	wr(QREADY, 1);
	ck_assert_uint_eq(rd(QREADY), 0);
	wr(QDEV_LO, (uint32_t)(RAM - 8)); /* runs off the end of RAM */
	wr(QREADY, 1);
	ck_assert_uint_eq(rd(QREADY), 0);
	wr(QDEV_LO, (uint32_t)ring_used(0));
	wr(QREADY, 2); /* only 0 and 1 mean anything */
	ck_assert_uint_eq(rd(QREADY), 0);
	wr(QREADY, 1);
	ck_assert_uint_eq(rd(QREADY), 1);

	/* a ready queue's layout cannot change; QueueReady 0 takes it down */
	wr(QNUM, 4);
	ck_assert_uint_eq(t.vq[0].size, QMAX);
	wr(QREADY, 0);
	ck_assert_uint_eq(rd(QREADY), 0);
	wr(QNUM, 4);
	wr(QREADY, 1);
	ck_assert_uint_eq(rd(QREADY), 1);
	ck_assert_uint_eq(t.vq[0].size, 4);
}
END_TEST

START_TEST(broken_chain_needs_reset)
{
	bring_up();
	/* a descriptor pointing outside RAM */
	struct virtq_desc bad = { RAM - 4, 64, 0, 0 };
	memcpy(hva(ring_desc(0)), &bad, 16);
	uint16_t *avail = hva(ring_avail(0));
	avail[2] = 0;
	avail[1] = 1;
	wr(QNOTIFY, 0);
	ck_assert(t.vq[0].broken);
	ck_assert_uint_eq(rd(STATUS), ALL_OK | VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_uint_eq(rd(INT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_int_eq(irqs, 1);
	ck_assert_uint_eq(used_idx(0), 0);

	/* more kicks: no new interrupt, the other queue carries on */
	wr(QNOTIFY, 0);
	ck_assert_int_eq(irqs, 1);
	offer_chain(1, 0);
	wr(QNOTIFY, 1);
	ck_assert_uint_eq(used_idx(1), 1);
	ck_assert_uint_eq(rd(INT_STATUS), VIRTIO_MMIO_INT_CONFIG | VIRTIO_MMIO_INT_VRING);
	ck_assert_int_eq(irqs, 2);

	/* the driver resets and starts over */
	wr(STATUS, 0);
	ck_assert_uint_eq(rd(STATUS), 0);
	ck_assert(!t.vq[0].broken);
	restart();
	offer_chain(0, 0);
	wr(QNOTIFY, 0);
	ck_assert_uint_eq(used_idx(0), 1);
	ck_assert_uint_eq(rd(STATUS), ALL_OK);
}
END_TEST

START_TEST(activation_failure_needs_reset)
{
	dev.fail_activate = 1;
	bring_up();
	ck_assert_uint_eq(rd(STATUS), ALL_OK | VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_uint_eq(rd(INT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_int_eq(irqs, 1);
	wr(QNOTIFY, 0);
	ck_assert_int_eq(dev.notifies, 0);
	/* not retried by rewriting the status, only after a reset */
	wr(STATUS, ALL_OK);
	ck_assert_int_eq(dev.activates, 1);
	ck_assert_int_eq(irqs, 1);
	dev.fail_activate = 0;
	restart();
	ck_assert_int_eq(dev.activates, 2);
	ck_assert_uint_eq(rd(STATUS), ALL_OK);
}
END_TEST

START_TEST(odd_access_sizes)
{
	uint8_t d[8];
	unsigned bad_sizes[] = { 1, 2, 3, 8 };
	for (unsigned i = 0; i < 4; i++) {
		memset(d, 0xee, sizeof(d));
		virtio_mmio_read(&t, MAGIC, d, bad_sizes[i]);
		for (unsigned j = 0; j < bad_sizes[i]; j++)
			ck_assert_uint_eq(d[j], 0);
	}
	/* unaligned 4-byte register access */
	ck_assert_uint_eq(rd(MAGIC + 1), 0);
	ck_assert_uint_eq(rd(STATUS + 2), 0);
	/* narrow writes to registers are dropped */
	d[0] = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	virtio_mmio_write(&t, STATUS, d, 1);
	virtio_mmio_write(&t, STATUS, d, 2);
	ck_assert_uint_eq(rd(STATUS), 0);
	wr(STATUS + 1, 1);
	ck_assert_uint_eq(rd(STATUS), 0);
	/* beyond the window */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_WINDOW), 0);
	ck_assert_uint_eq(rd(~0ULL - 1), 0);
	wr(VIRTIO_MMIO_WINDOW + STATUS, 1);
	ck_assert_uint_eq(rd(STATUS), 0);
}
END_TEST

START_TEST(config_space_access)
{
	uint8_t d[8];
	unsigned sizes[] = { 1, 2, 4, 8 };
	for (unsigned i = 0; i < 4; i++) {
		memset(d, 0, sizeof(d));
		virtio_mmio_read(&t, CONFIG + 4, d, sizes[i]);
		ck_assert_mem_eq(d, "efghijkl", sizes[i]);
	}
	/* 3 bytes, or running past config_size: zeros, and writes dropped */
	memset(d, 0xee, sizeof(d));
	virtio_mmio_read(&t, CONFIG, d, 3);
	ck_assert_mem_eq(d, "\0\0\0", 3);
	memset(d, 0xee, sizeof(d));
	virtio_mmio_read(&t, CONFIG + 8, d, 8);
	ck_assert_mem_eq(d, "\0\0\0\0\0\0\0\0", 8);
	virtio_mmio_read(&t, CONFIG + 12, d, 1);
	ck_assert_uint_eq(d[0], 0);
	virtio_mmio_read(&t, CONFIG + 0xff, d, 1);
	ck_assert_uint_eq(d[0], 0);
	virtio_mmio_write(&t, CONFIG + 8, (const uint8_t *)"XXXXXXXX", 8);
	virtio_mmio_write(&t, CONFIG + 12, (const uint8_t *)"X", 1);
	virtio_mmio_write(&t, CONFIG, (const uint8_t *)"XXX", 3);
	ck_assert_mem_eq(dev.cfg, "abcdefghijkl", 12);

	virtio_mmio_write(&t, CONFIG + 10, (const uint8_t *)"YZ", 2);
	ck_assert_mem_eq(dev.cfg, "abcdefghijYZ", 12);
	virtio_mmio_read(&t, CONFIG + 8, d, 4);
	ck_assert_mem_eq(d, "ijYZ", 4);
}
END_TEST

START_TEST(config_change_interrupt)
{
	ck_assert_uint_eq(rd(CONFIG_GEN), 0);
	virtio_mmio_config_changed(&t);
	ck_assert_uint_eq(rd(CONFIG_GEN), 1);
	ck_assert_uint_eq(rd(INT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_int_eq(irqs, 1);
	wr(INT_ACK, VIRTIO_MMIO_INT_VRING); /* acknowledging another bit keeps it */
	ck_assert_uint_eq(rd(INT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	wr(INT_ACK, VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(rd(INT_STATUS), 0);
}
END_TEST

#define FAKE_CBS .activate = fake_activate, .queue_notify = fake_queue_notify, .reset = fake_reset

/* --- snapshots ------------------------------------------------------------- */

/* Where fields of a fake device's blob are (see virtio_mmio_save): for damage. */
#define OFF_STATUS  24
#define OFF_ACTIVE  36
#define OFF_Q0_SIZE 75
#define OFF_Q0_DESC 77

/* A second transport on the same RAM, as restore finds it: just set up. */
static struct virtio_mmio rt; /* restored into */
static struct fake xdev;
static int xirqs;

static void fresh_x(const struct virtio_device_ops *ops)
{
	memset(&xdev, 0, sizeof(xdev));
	memcpy(xdev.cfg, "abcdefghijkl", 12);
	xirqs = 0;
	ck_assert_int_eq(virtio_mmio_init(&rt, &gm, ops, &xdev, mmio_count_irq, &xirqs), 0);
}

static void save(void **b, size_t *n)
{
	ck_assert_int_eq(virtio_mmio_save(&t, b, n), 0);
	ck_assert_ptr_nonnull(*b);
	ck_assert_uint_gt(*n, OFF_Q0_DESC + 8);
}

START_TEST(snapshot_mid_use)
{
	void *b;
	size_t n;

	bring_up();
	offer_chain(0, 0);
	wr(QNOTIFY, 0);
	offer_chain(1, 2);
	wr(QNOTIFY, 1);
	wr(INT_ACK, VIRTIO_MMIO_INT_VRING);
	offer_chain(0, 2);
	wr(QNOTIFY, 0);
	ck_assert_uint_eq(used_idx(0), 2);
	/* posted, never kicked: a guest paused right after writing avail->idx */
	offer_chain(0, 4);
	wr(QSEL, 1);
	wr(DEV_FEAT_SEL, 1);
	save(&b, &n);
	ck_assert_uint_eq(used_idx(0), 2); /* saving changes nothing */
	ck_assert_uint_eq(t.vq[0].last_avail_idx, 2);

	fresh_x(&fake_ops);
	ck_assert_int_eq(virtio_mmio_restore(&rt, b, n), 0);
	ck_assert_int_eq(xdev.activates, 1);
	ck_assert_uint_eq(xdev.features, FAKE_FEATURES | (1ULL << VIRTIO_F_VERSION_1));
	ck_assert_ptr_eq(xdev.q, &rt.queues);
	/* the posted buffer is served, on every queue only once */
	ck_assert_uint_eq(used_idx(0), 3);
	ck_assert_uint_eq(rt.vq[0].last_avail_idx, 3);
	ck_assert_uint_eq(rt.vq[0].used_idx, 3);
	ck_assert_uint_eq(rt.vq[1].used_idx, 1);
	ck_assert_int_eq(xdev.notifies, 2);
	ck_assert_uint_eq(mmio_rd(&rt, STATUS), ALL_OK);
	ck_assert_uint_eq(mmio_rd(&rt, INT_STATUS), VIRTIO_MMIO_INT_VRING);
	ck_assert_int_ge(xirqs, 1);
	/* the guest's selectors are where it left them */
	ck_assert_uint_eq(mmio_rd(&rt, DEV_FEAT), (1u << 0) | (1u << 3));
	ck_assert_uint_eq(mmio_rd(&rt, QREADY), 1);
	ck_assert_uint_eq(mmio_rd(&rt, QNUM_MAX), QMAX);
	/* and the indices go on from there */
	offer_chain(1, 4);
	mmio_wr(&rt, QNOTIFY, 1);
	ck_assert_uint_eq(((uint16_t *)hva(ring_used(1)))[1], 2);
	offer_chain(0, 6);
	mmio_wr(&rt, QNOTIFY, 0);
	ck_assert_uint_eq(used_idx(0), 4);
	/* a reset works as on any device */
	mmio_wr(&rt, STATUS, 0);
	ck_assert_int_eq(xdev.resets, 1);
	ck_assert_uint_eq(mmio_rd(&rt, STATUS), 0);
	virtio_mmio_destroy(&rt);
	free(b);
}
END_TEST

/* Saved in the middle of the driver's setup: the driver finishes it after the restore. */
START_TEST(snapshot_before_driver_ok)
{
	void *b;
	size_t n;

	negotiate(FAKE_FEATURES | (1ULL << VIRTIO_F_VERSION_1));
	setup_queue(0, QMAX);
	wr(QSEL, 1);
	wr(QNUM, 8);
	wr64(QDESC_LO, ring_desc(1));
	save(&b, &n);
	fresh_x(&fake_ops);
	ck_assert_int_eq(virtio_mmio_restore(&rt, b, n), 0);
	ck_assert_int_eq(xdev.activates, 0);
	ck_assert_int_eq(xdev.notifies, 0);
	mmio_wr64(&rt, QDRV_LO, ring_avail(1));
	mmio_wr64(&rt, QDEV_LO, ring_used(1));
	mmio_wr(&rt, QREADY, 1);
	ck_assert_uint_eq(mmio_rd(&rt, QREADY), 1);
	ck_assert_uint_eq(rt.vq[1].size, 8);
	mmio_wr(&rt, STATUS, ALL_OK);
	ck_assert_int_eq(xdev.activates, 1);
	ck_assert_uint_eq(mmio_rd(&rt, STATUS), ALL_OK);
	virtio_mmio_destroy(&rt);
	free(b);
}
END_TEST

/* A device with state of its own gets it back through restore, not activate. */
START_TEST(snapshot_device_state)
{
	void *b;
	size_t n;

	virtio_mmio_destroy(&t);
	ck_assert_int_eq(virtio_mmio_init(&t, &gm, &fake_state_ops, &dev, mmio_count_irq, &irqs),
			 0);
	bring_up();
	offer_chain(0, 0);
	wr(QNOTIFY, 0);
	wr(QNOTIFY, 0);
	dev.refuse_save = 1;
	ck_assert_int_eq(virtio_mmio_save(&t, &b, &n), -EBUSY);
	dev.refuse_save = 0;
	save(&b, &n);
	fresh_x(&fake_state_ops);
	ck_assert_int_eq(virtio_mmio_restore(&rt, b, n), 0);
	ck_assert_int_eq(xdev.activates, 0);
	ck_assert_int_eq(xdev.restores, 1);
	ck_assert_uint_eq(xdev.restored, 2);
	ck_assert_uint_eq(mmio_rd(&rt, STATUS), ALL_OK);
	virtio_mmio_destroy(&rt);
	/* a device without restore refuses the device's state */
	fresh_x(&fake_ops);
	ck_assert_int_eq(virtio_mmio_restore(&rt, b, n), -EINVAL);
	ck_assert_int_eq(xdev.activates, 0);
	virtio_mmio_destroy(&rt);
	free(b);
}
END_TEST

/* x refused a blob: it is as virtio_mmio_init left it. */
static void assert_x_untouched(void)
{
	ck_assert_int_eq(xdev.activates, 0);
	ck_assert_int_eq(xdev.notifies, 0);
	ck_assert(!rt.active);
	ck_assert_uint_eq(mmio_rd(&rt, STATUS), 0);
	for (unsigned q = 0; q < 2; q++)
		ck_assert(!rt.vq[q].ready);
}

static int restore_patched(const uint8_t *b, size_t n, size_t off, const void *v, size_t vlen)
{
	uint8_t *c = malloc(n);
	ck_assert_ptr_nonnull(c);
	memcpy(c, b, n);
	memcpy(c + off, v, vlen);
	fresh_x(&fake_ops);
	int r = virtio_mmio_restore(&rt, c, n);
	if (r < 0)
		assert_x_untouched();
	virtio_mmio_destroy(&rt);
	free(c);
	return r;
}

START_TEST(snapshot_damaged_refused)
{
	void *v;
	size_t n;

	bring_up();
	offer_chain(0, 0);
	wr(QNOTIFY, 0);
	save(&v, &n);
	const uint8_t *b = v;

	/* every truncation (each says so), and one byte too many */
	for (size_t len = 0; len < n; len++) {
		fresh_x(&fake_ops);
		char said[512] = "";
		int saved_err = dup(2), m = memfd_create("stderr", 0);
		ck_assert_int_ge(m, 0);
		dup2(m, 2);
		int r = virtio_mmio_restore(&rt, len ? b : NULL, len);
		ck_assert_int_ge(pread(m, said, sizeof(said) - 1, 0), 0);
		dup2(saved_err, 2);
		close(saved_err);
		close(m);
		ck_assert_int_eq(r, -EINVAL);
		ck_assert_msg(strstr(said, "fake: state blob: truncated") ||
				      strstr(said, "fake: state blob: 0 bytes") ||
				      strstr(said, "too short for its header"),
			      "%zu bytes: '%s'", len, said);
		assert_x_untouched();
		virtio_mmio_destroy(&rt);
	}
	uint8_t *longer = calloc(1, n + 1);
	memcpy(longer, b, n);
	fresh_x(&fake_ops);
	ck_assert_int_eq(virtio_mmio_restore(&rt, longer, n + 1), -EINVAL);
	assert_x_untouched();
	virtio_mmio_destroy(&rt);
	free(longer);

	uint8_t zero = 0, two = 2, size3[2] = { 3, 0 };
	uint16_t version = 2;
	uint32_t bad_status = ALL_OK | 0x100, no_features_ok = VIRTIO_CONFIG_S_DRIVER_OK;
	uint64_t outside = RAM, misaligned = ring_desc(0) + 8;
	ck_assert_int_eq(restore_patched(b, n, 0, &zero, 1), -EINVAL);	  /* magic */
	ck_assert_int_eq(restore_patched(b, n, 4, &version, 2), -EINVAL); /* version */
	ck_assert_int_eq(restore_patched(b, n, OFF_STATUS, &bad_status, 4), -EINVAL);
	ck_assert_int_eq(restore_patched(b, n, OFF_STATUS, &no_features_ok, 4), -EINVAL);
	ck_assert_int_eq(restore_patched(b, n, OFF_ACTIVE, &two, 1), -EINVAL);
	ck_assert_int_eq(restore_patched(b, n, OFF_Q0_SIZE, size3, 2), -EINVAL);
	ck_assert_int_lt(restore_patched(b, n, OFF_Q0_DESC, &outside, 8), 0);
	ck_assert_int_lt(restore_patched(b, n, OFF_Q0_DESC, &misaligned, 8), 0);

	/* any one byte changed: refused or taken, never a crash (run under ASan too) */
	for (size_t off = 0; off < n; off++) {
		uint8_t flip = b[off] ^ 0xff;
		restore_patched(b, n, off, &flip, 1);
	}

	/* another device, and a transport already in use */
	static const struct virtio_device_ops one_queue = {
		.name = "one", .device_id = 42, .num_queues = 1, .queue_max_size = QMAX, FAKE_CBS
	};
	fresh_x(&one_queue);
	ck_assert_int_eq(virtio_mmio_restore(&rt, b, n), -EINVAL);
	virtio_mmio_destroy(&rt);
	ck_assert_int_eq(virtio_mmio_restore(&t, b, n), -EBUSY);
	free(v);
}
END_TEST

/* Bad device descriptions are refused at init; the table is never written. */
static const struct virtio_device_ops bad_ops[] = {
	{ .name = "qmax", .num_queues = 1, .queue_max_size = 24, FAKE_CBS },
	{ .name = "qmax", .num_queues = 1, .queue_max_size = VQ_SIZE_MAX * 2, FAKE_CBS },
	{ .name = "nq", .num_queues = 0, .queue_max_size = 8, FAKE_CBS },
	{ .name = "nq", .num_queues = VIRTIO_MMIO_MAX_QUEUES + 1, .queue_max_size = 8, FAKE_CBS },
	{ .name = "cfg", .num_queues = 1, .queue_max_size = 8, .config_size = 4, FAKE_CBS },
	{ .name = "cfg",
	  .num_queues = 1,
	  .queue_max_size = 8,
	  .config_size = 0x101,
	  .config_read = fake_config_read,
	  FAKE_CBS },
	{ .name = "reset",
	  .num_queues = 1,
	  .queue_max_size = 8,
	  .activate = fake_activate,
	  .queue_notify = fake_queue_notify },
};

START_TEST(bad_device_descriptions)
{
	struct virtio_mmio x;
	ck_assert_int_eq(virtio_mmio_init(&x, &gm, &bad_ops[_i], &dev, mmio_count_irq, &irqs),
			 -EINVAL);
	ck_assert_int_eq(virtio_mmio_init(&x, &gm, &fake_ops, &dev, NULL, NULL), -EINVAL);
	ck_assert_int_eq(virtio_mmio_init(&x, &gm, NULL, &dev, mmio_count_irq, &irqs), -EINVAL);
	ck_assert_int_eq(virtio_mmio_init(&x, NULL, &fake_ops, &dev, mmio_count_irq, &irqs),
			 -EINVAL);
	virtio_mmio_destroy(&x);
}
END_TEST

static Suite *virtio_mmio_suite(void)
{
	Suite *su = suite_create("virtio_mmio");
	TCase *tc = tcase_create("transport");
	tcase_set_timeout(tc, 30); /* each test maps guest RAM: slow under ASan on a busy host */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, identity_registers);
	tcase_add_test(tc, handshake_notify_and_interrupt);
	tcase_add_test(tc, reset_by_status_zero);
	tcase_add_test(tc, feature_negotiation_refusals);
	tcase_add_test(tc, notify_before_driver_ok_and_bad_queue);
	tcase_add_test(tc, queue_select_out_of_range);
	tcase_add_test(tc, queue_setup_checks);
	tcase_add_test(tc, broken_chain_needs_reset);
	tcase_add_test(tc, activation_failure_needs_reset);
	tcase_add_test(tc, odd_access_sizes);
	tcase_add_test(tc, config_space_access);
	tcase_add_test(tc, config_change_interrupt);
	tcase_add_loop_test(tc, bad_device_descriptions, 0,
			    (int)(sizeof(bad_ops) / sizeof(bad_ops[0])));
	suite_add_tcase(su, tc);

	TCase *snap = tcase_create("snapshot");
	tcase_set_timeout(snap, 60);
	tcase_add_checked_fixture(snap, setup, teardown);
	tcase_add_test(snap, snapshot_mid_use);
	tcase_add_test(snap, snapshot_before_driver_ok);
	tcase_add_test(snap, snapshot_device_state);
	tcase_add_test(snap, snapshot_damaged_refused);
	suite_add_tcase(su, snap);
	return su;
}

int main(void)
{
	return unit_run(virtio_mmio_suite());
}
