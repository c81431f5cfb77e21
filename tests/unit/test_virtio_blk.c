/* virtio-blk driven through the virtio-mmio transport: a temporary image, rings in a fake RAM. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/virtio_blk.h"
#include "guest_mem.h"
#include "virtio/mmio.h"
#include "virtio/virtqueue.h"
#include "mmio_driver.h"
#include "unit.h"

#define MiB   (1ULL << 20)
#define RAM   (64 * MiB)
#define IMG   (64 * 1024)
#define QSIZE 64
#define DESC  0x10000ULL
#define AVAIL 0x11000ULL
#define USED  0x12000ULL
#define HDR   0x100000ULL /* request headers, 0x100 apart */
#define DATA  0x200000ULL /* data buffers, 0x10000 apart */
#define STAT  0x300000ULL /* status bytes, 0x10 apart */

/* The virtio-blk wire values (virtio 1.x, 5.2). */
enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8 };
enum { S_OK = 0, S_IOERR = 1, S_UNSUPP = 2 };
#define F_RO	(1u << 5)
#define F_FLUSH (1u << 9)

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct guest_mem gm;
static struct virtio_mmio t;
static struct virtio_blk blk;
static int irqs;
static char path[64];
static int img_fd = -1;	 /* our own handle on the image, for pread */
static uint8_t img[IMG]; /* what the image should hold */
static uint16_t next_head;

static uint32_t rd(uint64_t off)
{
	return mmio_rd(&t, off);
}

static void wr(uint64_t off, uint32_t v)
{
	mmio_wr(&t, off, v);
}

static void *hva(uint64_t gpa, uint64_t len)
{
	void *p = gm_gpa_to_hva(&gm, gpa, len);
	ck_assert_ptr_nonnull(p);
	return p;
}

static uint64_t hdr_gpa(unsigned s)
{
	return HDR + 0x100ULL * s;
}
static uint64_t data_gpa(unsigned s)
{
	return DATA + 0x10000ULL * s;
}
static uint64_t st_gpa(unsigned s)
{
	return STAT + 0x10ULL * s;
}
static uint8_t *data(unsigned s)
{
	return hva(data_gpa(s), 0x10000);
}
static uint8_t status_byte(unsigned s)
{
	return *(uint8_t *)hva(st_gpa(s), 1);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9) * 13 + 1);
}

/* The image on disk is exactly img[]. */
static void assert_file_is_img(void)
{
	static uint8_t now[IMG];
	ck_assert_int_eq(pread(img_fd, now, IMG, 0), IMG);
	ck_assert(memcmp(now, img, IMG) == 0);
}

/* Open the image (read-only with ro), and with bring_up do the whole driver handshake. */
static void start(bool ro, bool bring_up)
{
	struct disk_config d = { .read_only = ro };
	snprintf(d.path, sizeof(d.path), "%s", path);
	ck_assert_int_eq(virtio_blk_open(&blk, &d), 0);
	ck_assert(blk.read_only == ro);
	unlink(path); /* nothing left behind even if a test fails; the fds keep it */
	ck_assert_int_eq(
		virtio_mmio_init(&t, &gm, virtio_blk_ops_for(&blk), &blk, mmio_count_irq, &irqs),
		0);
	if (!bring_up)
		return;
	wr(DEV_FEAT_SEL, 0);
	uint32_t lo = rd(DEV_FEAT);
	mmio_negotiate(&t, lo | 1ULL << VIRTIO_F_VERSION_1);
	ck_assert_uint_eq(rd(STATUS) & VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_FEATURES_OK);
	wr(QSEL, 0);
	ck_assert_uint_ge(rd(QNUM_MAX), QSIZE);
	mmio_queue(&t, QSIZE, DESC, AVAIL, USED);
	ck_assert_uint_eq(rd(QREADY), 1);
	wr(STATUS, ALL_OK);
	ck_assert_uint_eq(rd(STATUS), ALL_OK);
	ck_assert(blk.active);
}

/* Write a chain into consecutive descriptors and make it available; returns its head. */
static uint16_t offer(const struct seg *sg, unsigned n)
{
	return mmio_offer(&gm, DESC, AVAIL, QSIZE, &next_head, sg, n);
}

/* Request in slot s: header, data (dlen bytes, device-writable if dw; none if 0), status. */
static uint16_t request(unsigned s, uint32_t type, uint64_t sector, uint32_t dlen, bool dw)
{
	struct blk_hdr h = { .type = type, .sector = sector };
	memcpy(hva(hdr_gpa(s), sizeof(h)), &h, sizeof(h));
	*(uint8_t *)hva(st_gpa(s), 1) = 0xff;
	struct seg sg[3] = { { hdr_gpa(s), sizeof(h), false } };
	unsigned n = 1;
	if (dlen)
		sg[n++] = (struct seg){ data_gpa(s), dlen, dw };
	sg[n++] = (struct seg){ st_gpa(s), 1, true };
	return offer(sg, n);
}

static uint16_t used_idx(void)
{
	return ((uint16_t *)hva(USED, VQ_USED_BYTES(QSIZE)))[1];
}

/* Used ring slot i holds head with len bytes written. */
static void assert_used(unsigned i, uint16_t head, uint32_t len)
{
	struct virtq_used_elem e;
	memcpy(&e, (uint8_t *)hva(USED, VQ_USED_BYTES(QSIZE)) + 4 + 8 * i, sizeof(e));
	ck_assert_uint_eq(e.id, head);
	ck_assert_uint_eq(e.len, len);
}

/* One request completed alone: status, used entry, one used-buffer interrupt. */
static void assert_done(unsigned slot, uint16_t head, uint8_t status, uint32_t len)
{
	ck_assert_uint_eq(status_byte(slot), status);
	ck_assert_uint_eq(used_idx(), 1);
	assert_used(0, head, len);
	ck_assert_int_eq(irqs, 1);
	ck_assert_uint_eq(rd(INT_STATUS), VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(STATUS), ALL_OK);
}

static void setup(void)
{
	ck_assert_int_eq(gm_init(&gm, RAM), 0);
	memset(&blk, 0, sizeof(blk));
	blk.fd = -1;
	irqs = 0;
	next_head = 0;
	snprintf(path, sizeof(path), "/tmp/husk_blk_unit_image_XXXXXX");
	img_fd = mkstemp(path);
	ck_assert_int_ge(img_fd, 0);
	for (size_t i = 0; i < IMG; i++)
		img[i] = pattern(i);
	ck_assert_int_eq(pwrite(img_fd, img, IMG, 0), IMG);
}

static void teardown(void)
{
	virtio_mmio_destroy(&t);
	virtio_blk_close(&blk);
	close(img_fd);
	unlink(path);
	gm_destroy(&gm);
}

START_TEST(config_space_and_features)
{
	bool ro = _i;
	start(ro, false);
	uint8_t d[8];
	uint64_t cap;
	virtio_mmio_read(&t, CONFIG, d, 8);
	memcpy(&cap, d, 8);
	ck_assert_uint_eq(cap, IMG / 512);
	ck_assert_uint_eq(rd(CONFIG), 128);
	ck_assert_uint_eq(rd(CONFIG + 4), 0);
	ck_assert_uint_eq(rd(DEVICE_ID), 2);
	wr(DEV_FEAT_SEL, 0);
	uint32_t lo = rd(DEV_FEAT);
	ck_assert_uint_eq(lo & F_FLUSH, F_FLUSH);
	ck_assert_uint_eq(lo & F_RO, ro ? F_RO : 0);
	wr(DEV_FEAT_SEL, 1);
	ck_assert_uint_eq(rd(DEV_FEAT) & 1, 1); /* VERSION_1 */
}
END_TEST

START_TEST(read_two_sectors)
{
	start(false, true);
	memset(data(0), 0xcc, 1024);
	uint16_t head = request(0, T_IN, 3, 1024, true);
	wr(QNOTIFY, 0);
	ck_assert(memcmp(data(0), img + 3 * 512, 1024) == 0);
	assert_done(0, head, S_OK, 1024 + 1);
}
END_TEST

/* The same read scattered over three buffers of odd sizes. */
START_TEST(read_scattered)
{
	start(false, true);
	struct blk_hdr h = { .type = T_IN, .sector = 3 };
	memcpy(hva(hdr_gpa(0), 16), &h, 16);
	*(uint8_t *)hva(st_gpa(0), 1) = 0xff;
	struct seg sg[] = { { hdr_gpa(0), 16, false },
			    { data_gpa(0), 100, true },
			    { data_gpa(1), 700, true },
			    { data_gpa(2), 224, true },
			    { st_gpa(0), 1, true } };
	uint16_t head = offer(sg, 5);
	wr(QNOTIFY, 0);
	const uint8_t *want = img + 3 * 512;
	ck_assert(memcmp(data(0), want, 100) == 0);
	ck_assert(memcmp(data(1), want + 100, 700) == 0);
	ck_assert(memcmp(data(2), want + 800, 224) == 0);
	assert_done(0, head, S_OK, 1024 + 1);
}
END_TEST

START_TEST(write_sector)
{
	bool ro = _i;
	start(ro, true);
	memset(data(0), 0xa5, 512);
	uint16_t head = request(0, T_OUT, 5, 512, false);
	wr(QNOTIFY, 0);
	if (!ro)
		memset(img + 5 * 512, 0xa5, 512);
	assert_done(0, head, ro ? S_IOERR : S_OK, 1);
	assert_file_is_img();
}
END_TEST

START_TEST(flush)
{
	start(_i, true);
	uint16_t head = request(0, T_FLUSH, 0, 0, false);
	wr(QNOTIFY, 0);
	assert_done(0, head, S_OK, 1);
}
END_TEST

START_TEST(get_id)
{
	start(false, true);
	memset(data(0), 0xcc, 32);
	uint16_t head = request(0, T_GET_ID, 0, 20, true);
	wr(QNOTIFY, 0);
	const char *base = strrchr(path, '/') + 1;
	ck_assert_uint_ge(strlen(base), 20);
	ck_assert(memcmp(data(0), base, 20) == 0);
	ck_assert_uint_eq(data(0)[20], 0xcc);
	assert_done(0, head, S_OK, 20 + 1);
}
END_TEST

/* Requests outside the 128-sector image, or not in whole sectors; reads and writes. */
static const struct {
	uint64_t sector;
	uint32_t len;
} bad_range[] = {
	{ 127, 1024 }, /* runs one sector past the end */
	{ 128, 512 },  /* starts at the end */
	{ 1000, 512 },
	{ UINT64_MAX, 512 },
	{ UINT64_MAX / 512, 512 }, /* the last sector whose offset fits */
	{ 1ULL << 55, 512 },	   /* sector * 512 wraps to 0 */
	{ (1ULL << 55) + 1, 512 }, /* ... to 512 */
	{ 0, 100 },		   /* not a multiple of 512 */
	{ 2, 513 },
};
#define N_BAD_RANGE ((int)(sizeof(bad_range) / sizeof(bad_range[0])))

START_TEST(out_of_range)
{
	bool write = _i % 2;
	unsigned c = (unsigned)_i / 2;
	start(false, true);
	memset(data(0), write ? 0x5a : 0xcc, 0x10000);
	uint16_t head =
		request(0, write ? T_OUT : T_IN, bad_range[c].sector, bad_range[c].len, !write);
	wr(QNOTIFY, 0);
	assert_done(0, head, S_IOERR, 1);
	assert_file_is_img();
}
END_TEST

START_TEST(unknown_type)
{
	start(false, true);
	uint16_t head = request(0, 99, 0, 512, true);
	wr(QNOTIFY, 0);
	assert_done(0, head, S_UNSUPP, 1);
	assert_file_is_img();
}
END_TEST

/* Chains the device cannot even answer: no status byte, or a short header. */
START_TEST(malformed_needs_reset)
{
	struct blk_hdr h = { .type = T_OUT, .sector = 0 };
	memcpy(hva(hdr_gpa(0), 16), &h, 16);
	memset(data(0), 0x5a, 512);
	*(uint8_t *)hva(st_gpa(0), 1) = 0xff;
	const struct seg no_status[] = { { hdr_gpa(0), 16, false }, { data_gpa(0), 512, false } };
	const struct seg short_hdr[] = { { hdr_gpa(0), 15, false }, { st_gpa(0), 1, true } };
	const struct seg only_status[] = { { st_gpa(0), 1, true } };
	const struct seg hdr_only[] = { { hdr_gpa(0), 16, false } };

	start(false, true);
	switch (_i) {
	case 0: offer(no_status, 2); break;
	case 1: offer(short_hdr, 2); break;
	case 2: offer(only_status, 1); break;
	default: offer(hdr_only, 1); break;
	}
	wr(QNOTIFY, 0);
	ck_assert_uint_eq(rd(STATUS), ALL_OK | VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_uint_eq(rd(INT_STATUS) & VIRTIO_MMIO_INT_CONFIG, VIRTIO_MMIO_INT_CONFIG);
	ck_assert_int_eq(irqs, 1);
	ck_assert_uint_eq(used_idx(), 0);
	ck_assert_uint_eq(status_byte(0), 0xff);
	assert_file_is_img();

	/* a good request after it is left alone until the driver resets the device */
	memset(data(1), 0x77, 512);
	request(1, T_OUT, 1, 512, false);
	wr(QNOTIFY, 0);
	ck_assert_uint_eq(status_byte(1), 0xff);
	ck_assert_uint_eq(used_idx(), 0);
	ck_assert_int_eq(irqs, 1);
	ck_assert_uint_eq(rd(STATUS), ALL_OK | VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_file_is_img();
}
END_TEST

START_TEST(batch_one_interrupt)
{
	start(false, true);
	memset(data(1), 0x3c, 1024);
	uint16_t h0 = request(0, T_IN, 0, 512, true);
	uint16_t h1 = request(1, T_OUT, 10, 1024, false);
	uint16_t h2 = request(2, T_FLUSH, 0, 0, false);
	uint16_t h3 = request(3, T_GET_ID, 0, 20, true);
	uint16_t h4 = request(4, T_IN, 10, 512, true); /* sees request 1's data */
	uint16_t h5 = request(5, 99, 0, 0, false);
	wr(QNOTIFY, 0);
	ck_assert_uint_eq(used_idx(), 6);
	assert_used(0, h0, 513);
	assert_used(1, h1, 1);
	assert_used(2, h2, 1);
	assert_used(3, h3, 21);
	assert_used(4, h4, 513);
	assert_used(5, h5, 1);
	for (unsigned s = 0; s < 5; s++)
		ck_assert_uint_eq(status_byte(s), S_OK);
	ck_assert_uint_eq(status_byte(5), S_UNSUPP);
	ck_assert(memcmp(data(0), img, 512) == 0);
	ck_assert(memcmp(data(4), data(1), 512) == 0);
	ck_assert(memcmp(data(3), strrchr(path, '/') + 1, 20) == 0);
	ck_assert_int_eq(irqs, 1);
	ck_assert_uint_eq(rd(INT_STATUS), VIRTIO_MMIO_INT_VRING);
	memset(img + 10 * 512, 0x3c, 1024);
	assert_file_is_img();
}
END_TEST

static Suite *virtio_blk_suite(void)
{
	Suite *su = suite_create("virtio_blk");
	TCase *tc = tcase_create("device");
	tcase_set_timeout(tc, 30); /* each test maps guest RAM: slow under ASan on a busy host */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, config_space_and_features, 0, 2);
	tcase_add_test(tc, read_two_sectors);
	tcase_add_test(tc, read_scattered);
	tcase_add_loop_test(tc, write_sector, 0, 2);
	tcase_add_loop_test(tc, flush, 0, 2);
	tcase_add_test(tc, get_id);
	tcase_add_loop_test(tc, out_of_range, 0, 2 * N_BAD_RANGE);
	tcase_add_test(tc, unknown_type);
	tcase_add_loop_test(tc, malformed_needs_reset, 0, 4);
	tcase_add_test(tc, batch_one_interrupt);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return unit_run(virtio_blk_suite());
}
