/*
 * libFuzzer target: the snapshot state file's reader (vmm/snapshot/snap_file.c
 * and the header checks of common/snap_header.c), which husk-vmm runs on a
 * file anyone with write access to the template cache could have made.
 *
 * The first input byte is a mode: with bit 0 set, the harness makes every
 * CRC in the rest right before parsing (each section's it can find, the
 * sections', the header's), so that mutations reach the checks behind the
 * CRCs instead of stopping at them. Whatever the reader accepts must hold to
 * what callers rely on: every section inside the buffer, each found again
 * by name with the same bytes, the header's counts true.
 */
#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "husk/snapshot.h"
#include "snapshot/snap_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void fix_crcs(uint8_t *b, size_t len)
{
	uint32_t count, v;
	size_t pos = SNAP_HEADER_SIZE;

	if (len < SNAP_HEADER_SIZE)
		return;
	memcpy(&count, b + offsetof(struct snap_header, section_count), 4);
	count = le32toh(count);
	for (uint32_t i = 0; i < count && len - pos >= SNAP_SECTION_HDR_SIZE; i++) {
		memcpy(&v, b + pos + SNAP_NAME_SIZE, 4);
		uint64_t slen = le32toh(v);
		pos += SNAP_SECTION_HDR_SIZE;
		if (slen > len - pos)
			break;
		put32(b + pos - 4, (uint32_t)crc32(0, b + pos, (uInt)slen));
		uint64_t padded = (slen + 7) & ~7ULL;
		if (padded > len - pos)
			break;
		pos += padded;
	}
	put32(b + offsetof(struct snap_header, sections_crc),
	      (uint32_t)crc32(0, b + SNAP_HEADER_SIZE, (uInt)(len - SNAP_HEADER_SIZE)));
	put32(b + offsetof(struct snap_header, header_crc),
	      (uint32_t)crc32(0, b, offsetof(struct snap_header, header_crc)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_reader r;
	struct snap_header h;
	struct husk_err e = { 0 };

	if (size < 1 || size - 1 > SNAP_STATE_MAX)
		return 0;
	size_t len = size - 1;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if (data[0] & 1)
		fix_crcs(buf, len);

	/* husk's view of the header agrees with husk-vmm's */
	struct husk_err he = { 0 };
	int hdr = snap_header_decode(buf, len, &h, "fuzz", &he);

	if (snap_reader_parse(&r, buf, len, "fuzz", &e) < 0) {
		if (e.code <= 0 || !e.msg[0] || r.buf || r.secs)
			__builtin_trap();
		return 0;
	}
	if (hdr < 0 || r.h.state_size != len || r.count != r.h.section_count ||
	    r.count > SNAP_MAX_SECTIONS || memcmp(&h, &r.h, sizeof(h)) != 0)
		__builtin_trap();
	if (!memchr(r.h.arch, 0, sizeof(r.h.arch)) ||
	    !memchr(r.h.flavour, 0, sizeof(r.h.flavour)) ||
	    !memchr(r.h.husk_version, 0, sizeof(r.h.husk_version)))
		__builtin_trap();
	uint64_t total = SNAP_HEADER_SIZE;
	for (unsigned i = 0; i < r.count; i++) {
		const struct snap_section *s = &r.secs[i];
		size_t n = 99;
		size_t name_len = strnlen(s->name, SNAP_NAME_SIZE);
		if (name_len == 0 || name_len >= SNAP_NAME_SIZE)
			__builtin_trap();
		if (s->data < r.buf || s->data + s->len > r.buf + r.size)
			__builtin_trap();
		if (snap_get(&r, s->name, &n) != s->data || n != s->len)
			__builtin_trap();
		for (uint32_t k = 0; k < s->len; k++) /* ASan sees any byte out of bounds */
			sink += s->data[k];
		total += SNAP_SECTION_HDR_SIZE + ((s->len + 7ULL) & ~7ULL);
	}
	if (total != r.size)
		__builtin_trap();
	snap_reader_close(&r);
	return 0;
}
