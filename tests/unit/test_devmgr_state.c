/*
 * The device manager's snapshots without KVM: slots filled by hand with real
 * devices (virtio-rng, virtio-fs and virtio-net with no back end), driven
 * like a guest driver, saved, and restored into a second set of devices;
 * layouts that differ are refused naming the slot; virtio-fs restored onto a
 * scripted vhost-user back end gets its rings where they stopped.
 */
#include <endian.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "devices/devmgr.h"
#include "devices/virtio_fs.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "devices/vsock.h"
#include "event_loop.h"
#include "guest_mem.h"
#include "mmio_driver.h"
#include "vhost_user_fake.h"
#include "unit.h"

#define RAM (64ULL << 20)
#define QSZ 8

static struct guest_mem gm;
static struct event_loop el;
static int irqs;

/* One VM's devices: slots in the order the string names them (r, f, n). */
struct vmdevs {
	struct devmgr dm;
	struct virtio_mmio t[4];
	struct virtio_rng rng;
	struct virtio_fs fs;
	struct virtio_net net;
	struct vsock vs;
	bool has_fs, has_net, has_vs;
};

static char vsock_dir[] = "/tmp/husk-devstate-XXXXXX";
static const char *vsock_path; /* where a vsock device of vm_make listens */

static void add_slot(struct vmdevs *v, const struct virtio_device_ops *ops, void *dev)
{
	struct devmgr *dm = &v->dm;
	struct devmgr_slot *s = &dm->slots[dm->n];
	memset(s, 0, sizeof(*s));
	s->irqfd = -1;
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		s->notify[q].fd = -1;
	s->base = 0xd0000000ULL + dm->n * DEVMGR_WINDOW;
	s->irq = 5 + dm->n;
	ck_assert_int_eq(virtio_mmio_init(&v->t[dm->n], &gm, ops, dev, mmio_count_irq, &irqs), 0);
	s->t = &v->t[dm->n];
	dm->n++;
}

/* fs_fd: the virtio-fs back end's socket, -1 for none; net_fd and its offloads likewise. */
static void vm_make_with(struct vmdevs *v, const char *order, const char *tag, unsigned mtu,
			 int fs_fd, int net_fd, unsigned offloads)
{
	memset(v, 0, sizeof(*v));
	devmgr_init(&v->dm, NULL, &el);
	struct net_config nc = { .mac = { 2, 0, 0, 0, 0, 1 }, .mtu = mtu };
	for (const char *p = order; *p; p++) {
		switch (*p) {
		case 'r': add_slot(v, &virtio_rng_ops, &v->rng); break;
		case 'f':
			ck_assert_int_eq(virtio_fs_init(&v->fs, fs_fd, tag, &gm, &el), 0);
			add_slot(v, &virtio_fs_ops, &v->fs);
			v->has_fs = true;
			break;
		case 'v': {
			struct vsock_config vc = { .uds_path = vsock_path, .cid = 3 };
			ck_assert_int_eq(vsock_init(&v->vs, &vc, &el), 0);
			add_slot(v, &vsock_ops, &v->vs);
			v->has_vs = true;
			break;
		}
		case 'n':
			ck_assert_int_eq(
				virtio_net_init(&v->net, &nc, net_fd, false, offloads, &el), 0);
			add_slot(v, &v->net.ops, &v->net);
			v->has_net = true;
			break;
		}
	}
}

static void vm_make(struct vmdevs *v, const char *order, const char *tag, unsigned mtu, int fs_fd)
{
	vm_make_with(v, order, tag, mtu, fs_fd, -1, 0);
}

static void vm_free(struct vmdevs *v)
{
	devmgr_destroy(&v->dm);
	if (v->has_fs)
		virtio_fs_destroy(&v->fs);
	if (v->has_net)
		virtio_net_close(&v->net);
	if (v->has_vs)
		vsock_destroy(&v->vs);
}

static void *hva(uint64_t gpa)
{
	void *p = gm_gpa_to_hva(&gm, gpa, 1);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* Slot s, queue q: rings at 1 MiB + s * 256 KiB + q * 64 KiB. */
static uint64_t ring(unsigned s, unsigned q)
{
	return 0x100000ULL + s * 0x40000ULL + q * 0x10000ULL;
}

static uint16_t used_idx(unsigned s, unsigned q)
{
	return ((uint16_t *)hva(ring(s, q) + 0x2000))[1];
}

/* A driver's bring-up of every queue of slot s, with VERSION_1 and features. */
static void drv_up_with(struct vmdevs *v, unsigned s, uint64_t features)
{
	struct virtio_mmio *t = v->dm.slots[s].t;
	mmio_negotiate(t, features | 1ULL << VIRTIO_F_VERSION_1);
	for (unsigned q = 0; q < t->ops->num_queues; q++) {
		memset(hva(ring(s, q)), 0, 0x3000);
		mmio_wr(t, QSEL, q);
		mmio_queue(t, QSZ, ring(s, q), ring(s, q) + 0x1000, ring(s, q) + 0x2000);
	}
	mmio_wr(t, STATUS, ALL_OK);
	ck_assert_uint_eq(mmio_rd(t, STATUS), ALL_OK);
}

static void drv_up(struct vmdevs *v, unsigned s)
{
	drv_up_with(v, s, 0);
}

/* The guest offers a chain at descriptor `head`: `rd` readable bytes, then `wr` writable. */
static void post(unsigned s, unsigned q, uint16_t head, uint32_t rd, uint32_t wr)
{
	struct virtq_desc *d = hva(ring(s, q));
	uint64_t buf = 0x800000ULL + s * 0x10000ULL + q * 0x1000ULL + head * 0x100ULL;
	uint16_t n = head;
	if (rd) {
		d[n] = (struct virtq_desc){ buf, rd, wr ? VRING_DESC_F_NEXT : 0,
					    (uint16_t)((n + 1) % QSZ) };
		n = d[n].next;
	}
	if (wr)
		d[n] = (struct virtq_desc){ buf + 0x80, wr, VRING_DESC_F_WRITE, 0 };
	uint16_t *avail = hva(ring(s, q) + 0x1000);
	avail[2 + avail[1] % QSZ] = head;
	avail[1]++;
}

/* stderr while fn runs, for the messages a refusal logs. */
static char logged[4096];
static int capture_fd = -1;

static void capture_begin(void)
{
	fflush(stderr);
	capture_fd = dup(2);
	int m = memfd_create("stderr", 0);
	ck_assert_int_ge(m, 0);
	dup2(m, 2);
	close(m);
}

static void capture_end(void)
{
	fflush(stderr);
	memset(logged, 0, sizeof(logged));
	ssize_t n = pread(2, logged, sizeof(logged) - 1, 0);
	ck_assert_int_ge(n, 0);
	dup2(capture_fd, 2);
	close(capture_fd);
	fprintf(stderr, "%s", logged);
}

static void setup(void)
{
	ck_assert_int_eq(gm_init(&gm, RAM), 0);
	ck_assert_int_eq(el_init(&el), 0);
	irqs = 0;
}

static void teardown(void)
{
	el_destroy(&el);
	gm_destroy(&gm);
}

START_TEST(no_backend_devices_work)
{
	struct vmdevs a;
	vm_make(&a, "rfn", "rootfs", 1500, -1);
	/* virtio-fs with no back end: DRIVER_OK taken, its requests wait */
	drv_up(&a, 1);
	ck_assert(a.fs.active);
	post(1, 1, 0, 40, 80);
	mmio_wr(a.dm.slots[1].t, QNOTIFY, 1);
	ck_assert_uint_eq(used_idx(1, 1), 0);
	/* virtio-net none: a frame sent is used, dropped and counted; nothing arrives */
	drv_up(&a, 2);
	post(2, 0, 0, 0, 1526);
	mmio_wr(a.dm.slots[2].t, QNOTIFY, 0);
	post(2, 1, 0, 12 + 60, 0);
	mmio_wr(a.dm.slots[2].t, QNOTIFY, 1);
	ck_assert_uint_eq(used_idx(2, 1), 1);
	ck_assert_uint_eq(used_idx(2, 0), 0);
	ck_assert_uint_eq(a.net.stats.tx_dropped, 1);
	ck_assert_uint_eq(a.net.stats.tx_frames, 0);
	vm_free(&a);
}
END_TEST

START_TEST(round_trip)
{
	struct vmdevs a, b;
	void *blob;
	size_t len;

	vm_make(&a, "rfn", "rootfs", 1500, -1);
	drv_up(&a, 0);
	post(0, 0, 0, 0, 64);
	mmio_wr(a.dm.slots[0].t, QNOTIFY, 0);
	ck_assert_uint_eq(used_idx(0, 0), 1);
	post(0, 0, 1, 0, 64); /* posted before the save, not kicked */
	drv_up(&a, 1);
	post(1, 1, 0, 40, 80);
	drv_up(&a, 2);
	ck_assert_int_eq(devmgr_save(&a.dm, &blob, &len), 0);
	uint64_t ha = devmgr_layout_hash(&a.dm);

	vm_make(&b, "rfn", "rootfs", 1500, -1);
	ck_assert_uint_eq(devmgr_layout_hash(&b.dm), ha);
	ck_assert_int_eq(devmgr_restore(&b.dm, blob, len), 0);
	ck_assert(b.rng.active && b.fs.active && b.net.active);
	ck_assert_uint_eq(used_idx(0, 0), 2); /* the posted rng buffer is served */
	ck_assert_uint_eq(used_idx(1, 1), 0); /* no back end yet: the request waits */
	for (unsigned s = 0; s < 3; s++)
		ck_assert_uint_eq(mmio_rd(b.dm.slots[s].t, STATUS), ALL_OK);
	/* the rng goes on from where it was */
	post(0, 0, 2, 0, 64);
	mmio_wr(b.dm.slots[0].t, QNOTIFY, 0);
	ck_assert_uint_eq(used_idx(0, 0), 3);

	/* a second restore into the same devices is refused */
	ck_assert_int_eq(devmgr_restore(&b.dm, blob, len), -EBUSY);
	vm_free(&b);

	/* damaged: every truncation and one byte too many */
	for (size_t n = 0; n < len; n += (n < 64 ? 1 : 7)) {
		vm_make(&b, "rfn", "rootfs", 1500, -1);
		ck_assert_int_eq(devmgr_restore(&b.dm, blob, n), -EINVAL);
		ck_assert(!b.rng.active && !b.fs.active && !b.net.active);
		vm_free(&b);
	}
	uint8_t *longer = calloc(1, len + 1);
	memcpy(longer, blob, len);
	vm_make(&b, "rfn", "rootfs", 1500, -1);
	ck_assert_int_eq(devmgr_restore(&b.dm, longer, len + 1), -EINVAL);
	vm_free(&b);
	free(longer);
	free(blob);
	vm_free(&a);
}
END_TEST

/* b's layout is refused with `want` in the message, and its hash differs from a's. */
static void refused(struct vmdevs *a, const char *order, const char *tag, unsigned mtu,
		    const char *want)
{
	struct vmdevs b;
	void *blob;
	size_t len;

	ck_assert_int_eq(devmgr_save(&a->dm, &blob, &len), 0);
	vm_make(&b, order, tag, mtu, -1);
	ck_assert_uint_ne(devmgr_layout_hash(&b.dm), devmgr_layout_hash(&a->dm));
	capture_begin();
	int r = devmgr_restore(&b.dm, blob, len);
	capture_end();
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_msg(strstr(logged, want), "logged '%s', not '%s'", logged, want);
	ck_assert(!b.rng.active && !b.fs.active && !b.net.active);
	vm_free(&b);
	free(blob);
}

START_TEST(other_layouts_refused)
{
	struct vmdevs a;
	vm_make(&a, "rfn", "rootfs", 1500, -1);
	drv_up(&a, 1);
	refused(&a, "rnf", "rootfs", 1500, "slot 1: virtio-fs in the snapshot, virtio-net here");
	refused(&a, "rf", "rootfs", 1500, "the snapshot has 3 devices, this VM 2");
	refused(&a, "rfn", "other", 1500, "slot 1 (virtio-fs): its configuration differs (tag)");
	refused(&a, "rfn", "rootfs", 9000, "slot 2 (virtio-net): its configuration differs (MTU)");
	vm_free(&a);

	/* the same devices at other IRQs */
	struct vmdevs b;
	void *blob;
	size_t len;
	vm_make(&a, "rf", "rootfs", 1500, -1);
	ck_assert_int_eq(devmgr_save(&a.dm, &blob, &len), 0);
	vm_make(&b, "rf", "rootfs", 1500, -1);
	b.dm.slots[1].irq = 9;
	ck_assert_uint_ne(devmgr_layout_hash(&b.dm), devmgr_layout_hash(&a.dm));
	capture_begin();
	int r = devmgr_restore(&b.dm, blob, len);
	capture_end();
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_nonnull(strstr(logged, "slot 1 (virtio-fs): window 0xd0001000 IRQ 6 in the "
					     "snapshot, 0xd0001000 IRQ 9 here"));
	vm_free(&b);
	vm_free(&a);
	free(blob);
}
END_TEST

/* --- virtio-fs onto a scripted vhost-user back end --------------------- */

struct fake_backend {
	int fd;
	uint32_t seen[64];
	unsigned nseen;
	uint32_t base[2]; /* SET_VRING_BASE per ring */
	uint64_t desc[2]; /* SET_VRING_ADDR per ring */
	int kick[2];	  /* SET_VRING_KICK per ring, kept */
	bool base_set[2];
};

static void *backend_main(void *arg)
{
	struct fake_backend *f = arg;
	for (;;) {
		struct vu_fake_msg m;
		if (!vu_fake_recv(f->fd, &m))
			break;
		const struct vu_hdr h = m.h;
		const uint8_t *body = m.body;
		int *fds = m.fds, nfds = m.nfds;
		if (f->nseen < 64)
			f->seen[f->nseen++] = h.request;
		uint32_t idx;
		memcpy(&idx, body, 4);
		if (h.request == 10 && idx < 2) { /* SET_VRING_BASE */
			memcpy(&f->base[idx], body + 4, 4);
			f->base_set[idx] = true;
		}
		if (h.request == 9 && idx < 2) /* SET_VRING_ADDR: index, flags, desc */
			memcpy(&f->desc[idx], body + 8, 8);
		if (h.request == 12 && (idx & 0xff) < 2 && nfds == 1) { /* SET_VRING_KICK */
			f->kick[idx & 0xff] = fds[0];
			nfds = 0;
		}
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		if (h.request == 1) { /* GET_FEATURES: no protocol features */
			uint64_t v = 0;
			struct vu_hdr r = { h.request, 0x5, 8 };
			if (write(f->fd, &r, sizeof(r)) < 0 || write(f->fd, &v, sizeof(v)) < 0)
				break;
		}
	}
	return NULL;
}

START_TEST(fs_restored_onto_a_backend)
{
	struct vmdevs a, b;
	struct fake_backend f = { .kick = { -1, -1 } };
	pthread_t th;
	void *blob;
	size_t len;
	int sv[2];

	vm_make(&a, "f", "rootfs", 1500, -1);
	drv_up(&a, 0);
	post(0, 1, 0, 40, 80); /* FUSE_INIT, say: waits for a back end */
	ck_assert_int_eq(devmgr_save(&a.dm, &blob, &len), 0);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	f.fd = sv[1];
	ck_assert_int_eq(pthread_create(&th, NULL, backend_main, &f), 0);
	vm_make(&b, "f", "rootfs", 1500, sv[0]);
	ck_assert_int_eq(devmgr_restore(&b.dm, blob, len), 0);
	ck_assert(b.fs.active);
	vm_free(&b); /* closes the connection: the back end's thread ends */
	pthread_join(th, NULL);
	close(sv[1]);

	/* owner, features, features, memory, then each ring: num, base, addr, call, kick */
	static const uint32_t want[] = { 3, 1, 2, 5, 8, 10, 9, 13, 12, 8, 10, 9, 13, 12 };
	ck_assert_uint_eq(f.nseen, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < f.nseen; i++)
		ck_assert_uint_eq(f.seen[i], want[i]);
	for (unsigned q = 0; q < 2; q++) {
		ck_assert(f.base_set[q]);
		ck_assert_uint_eq(f.base[q], 0); /* nothing was taken: the used index */
		ck_assert_uint_eq(f.desc[q], (uint64_t)(uintptr_t)hva(ring(0, q)));
		/* each ring kicked once after the restore, as if the guest had */
		uint64_t kicks = 0;
		ck_assert_int_ge(f.kick[q], 0);
		ck_assert_int_eq(read(f.kick[q], &kicks, 8), 8);
		ck_assert_uint_eq(kicks, 1);
		close(f.kick[q]);
	}
	free(blob);
	vm_free(&a);
}
END_TEST

/*
 * virtio-net saved with a frame posted and restored onto a back end (a
 * stand-in for the tap): the frame goes out, and the offloads the guest
 * accepted are in force. A device that does not offer them refuses the state.
 */
START_TEST(net_restored_onto_a_backend)
{
	struct vmdevs a, b;
	void *blob;
	size_t len;
	int sv[2];
	const unsigned offloads = TUN_F_CSUM | TUN_F_TSO4;
	const uint64_t accepted = (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
				  (1ULL << VIRTIO_NET_F_GUEST_TSO4);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	vm_make_with(&a, "n", NULL, 1500, -1, sv[0], offloads);
	drv_up_with(&a, 0, accepted);
	ck_assert_uint_eq(a.net.tun_offload, offloads);
	post(0, 1, 0, 12 + 60, 0); /* a frame, not kicked */
	ck_assert_int_eq(devmgr_save(&a.dm, &blob, &len), 0);
	vm_free(&a);
	close(sv[1]);

	/* the restore's device has its back end: the frame arrives there */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	vm_make_with(&b, "n", NULL, 1500, -1, sv[0], offloads);
	ck_assert_int_eq(devmgr_restore(&b.dm, blob, len), 0);
	ck_assert_uint_eq(b.net.features & accepted, accepted);
	ck_assert_uint_eq(b.net.tun_offload, offloads);
	ck_assert_uint_eq(used_idx(0, 1), 1);
	uint8_t frame[256];
	ck_assert_int_eq(recv(sv[1], frame, sizeof(frame), MSG_DONTWAIT), 12 + 60);
	ck_assert_uint_eq(b.net.stats.tx_frames, 1);
	vm_free(&b);
	close(sv[1]);

	/* net none offers no receive offloads: the guest's choice cannot be kept */
	vm_make(&b, "n", NULL, 1500, -1);
	capture_begin();
	int r = devmgr_restore(&b.dm, blob, len);
	capture_end();
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_nonnull(strstr(logged, "this device does not offer"));
	vm_free(&b);
	free(blob);
}
END_TEST

/*
 * vsock: a live connection is not saved; the restored device listens on the
 * restore's socket, and a new connection reaches the guest through a receive
 * buffer it posted before the save.
 */
START_TEST(vsock_restored_on_a_new_socket)
{
	static struct vmdevs a, b;
	char p1[64], p2[64];
	void *blob;
	size_t len;

	ck_assert_ptr_nonnull(mkdtemp(vsock_dir));
	snprintf(p1, sizeof(p1), "%s/a.sock", vsock_dir);
	snprintf(p2, sizeof(p2), "%s/b.sock", vsock_dir);
	vsock_path = p1;
	vm_make(&a, "v", NULL, 1500, -1);
	drv_up(&a, 0);
	post(0, 0, 0, 0, 256); /* receive buffers for the host's packets */
	post(0, 0, 1, 0, 256);
	mmio_wr(a.dm.slots[0].t, QNOTIFY, 0);
	ck_assert_uint_eq(used_idx(0, 0), 0);

	a.vs.conns[7].state = VSOCK_ESTABLISHED; /* as if a client talked to the guest */
	capture_begin();
	int r = devmgr_save(&a.dm, &blob, &len);
	capture_end();
	ck_assert_int_eq(r, -EBUSY);
	ck_assert_ptr_nonnull(strstr(logged, "1 live connection"));
	a.vs.conns[7].state = VSOCK_FREE;
	ck_assert_int_eq(devmgr_save(&a.dm, &blob, &len), 0);
	vm_free(&a);

	vsock_path = p2;
	vm_make(&b, "v", NULL, 1500, -1);
	ck_assert_int_eq(devmgr_restore(&b.dm, blob, len), 0);
	ck_assert(b.vs.active);
	ck_assert_int_eq(el_start(&el), 0);
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p2);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(write(c, "CONNECT 1234\n", 13), 13);
	for (int i = 0;
	     i < 200 && !__atomic_load_n((uint16_t *)hva(ring(0, 0) + 0x2002), __ATOMIC_ACQUIRE);
	     i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000000L }, NULL);
	el_stop(&el);
	ck_assert_uint_eq(used_idx(0, 0), 1);
	/* the guest's first receive buffer holds a REQUEST for port 1234 */
	struct virtio_vsock_hdr h;
	memcpy(&h, hva(0x800000ULL + 0x80), sizeof(h));
	ck_assert_uint_eq(le16toh(h.op), VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(le32toh(h.dst_port), 1234);
	ck_assert_uint_eq(le64toh(h.dst_cid), 3);
	close(c);
	vm_free(&b);
	rmdir(vsock_dir);
	free(blob);
}
END_TEST

static Suite *devmgr_state_suite(void)
{
	Suite *su = suite_create("devmgr_state");
	TCase *tc = tcase_create("snapshot");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_backend_devices_work);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, other_layouts_refused);
	tcase_add_test(tc, fs_restored_onto_a_backend);
	tcase_add_test(tc, net_restored_onto_a_backend);
	tcase_add_test(tc, vsock_restored_on_a_new_socket);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return unit_run(devmgr_state_suite());
}
