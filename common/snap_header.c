/*
 * The snapshot header (include/husk/snapshot.h): its checks, shared by
 * husk-vmm's reader and husk's template cache, and its encoding. Host only
 * (zlib's crc32).
 */
#include "husk/snapshot.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "husk/cleanup.h"
#include "husk/path.h"

/* The on-disk layout, pinned: the struct is the format. */
_Static_assert(sizeof(struct snap_header) == SNAP_HEADER_SIZE, "snapshot header size");
_Static_assert(offsetof(struct snap_header, version) == 8, "version");
_Static_assert(offsetof(struct snap_header, header_size) == 12, "header_size");
_Static_assert(offsetof(struct snap_header, arch) == 16, "arch");
_Static_assert(offsetof(struct snap_header, flavour) == 32, "flavour");
_Static_assert(offsetof(struct snap_header, kernel_hash) == 48, "kernel_hash");
_Static_assert(offsetof(struct snap_header, initrd_hash) == 56, "initrd_hash");
_Static_assert(offsetof(struct snap_header, cmdline_hash) == 64, "cmdline_hash");
_Static_assert(offsetof(struct snap_header, layout_hash) == 72, "layout_hash");
_Static_assert(offsetof(struct snap_header, mem_bytes) == 80, "mem_bytes");
_Static_assert(offsetof(struct snap_header, key) == 88, "key");
_Static_assert(offsetof(struct snap_header, created) == 96, "created");
_Static_assert(offsetof(struct snap_header, vcpus) == 104, "vcpus");
_Static_assert(offsetof(struct snap_header, section_count) == 108, "section_count");
_Static_assert(offsetof(struct snap_header, state_size) == 112, "state_size");
_Static_assert(offsetof(struct snap_header, husk_version) == 120, "husk_version");
_Static_assert(offsetof(struct snap_header, sections_crc) == 152, "sections_crc");
_Static_assert(offsetof(struct snap_header, kernel_stat) == 160, "kernel_stat");
_Static_assert(offsetof(struct snap_header, initrd_stat) == 168, "initrd_stat");
_Static_assert(offsetof(struct snap_header, reserved) == 176, "reserved");
_Static_assert(offsetof(struct snap_header, header_crc) == 252, "header_crc");

/* Every integer field between host and disk order (its own inverse). */
static void snap_header_swap(struct snap_header *h)
{
	h->version = htole32(h->version);
	h->header_size = htole32(h->header_size);
	h->kernel_hash = htole64(h->kernel_hash);
	h->initrd_hash = htole64(h->initrd_hash);
	h->cmdline_hash = htole64(h->cmdline_hash);
	h->layout_hash = htole64(h->layout_hash);
	h->mem_bytes = htole64(h->mem_bytes);
	h->key = htole64(h->key);
	h->created = htole64(h->created);
	h->vcpus = htole32(h->vcpus);
	h->section_count = htole32(h->section_count);
	h->state_size = htole64(h->state_size);
	h->sections_crc = htole32(h->sections_crc);
	h->reserved0 = htole32(h->reserved0);
	h->kernel_stat = htole64(h->kernel_stat);
	h->initrd_stat = htole64(h->initrd_stat);
	h->header_crc = htole32(h->header_crc);
}

static uint32_t snap_header_crc(const uint8_t *disk)
{
	return (uint32_t)crc32(0, disk, offsetof(struct snap_header, header_crc));
}

void snap_header_encode(struct snap_header *h, uint8_t out[SNAP_HEADER_SIZE])
{
	struct snap_header d;

	memcpy(h->magic, SNAP_MAGIC, SNAP_MAGIC_LEN);
	h->version = SNAP_VERSION;
	h->header_size = SNAP_HEADER_SIZE;
	h->reserved0 = 0;
	memset(h->reserved, 0, sizeof(h->reserved));
	d = *h;
	snap_header_swap(&d);
	memcpy(out, &d, SNAP_HEADER_SIZE);
	h->header_crc = snap_header_crc(out);
	uint32_t crc = htole32(h->header_crc);
	memcpy(out + offsetof(struct snap_header, header_crc), &crc, sizeof(crc));
}

static int snap_string_ok(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

int snap_header_decode(const void *buf, size_t len, struct snap_header *h, const char *what,
		       struct husk_err *e)
{
	const uint8_t *b = buf;
	size_t magic = len < SNAP_MAGIC_LEN ? len : SNAP_MAGIC_LEN;

	if (memcmp(b, SNAP_MAGIC, magic) != 0)
		return husk_err_set(e, EINVAL, "%s: not a husk snapshot", what);
	if (len < offsetof(struct snap_header, arch))
		return husk_err_set(e, EINVAL, "%s: truncated (%zu bytes, no complete header)",
				    what, len);
	memcpy(h, b, offsetof(struct snap_header, arch));
	uint32_t version = le32toh(h->version), size = le32toh(h->header_size);
	if (version != SNAP_VERSION)
		return husk_err_set(e, EINVAL, "%s: format version %u, this husk reads %u", what,
				    version, SNAP_VERSION);
	if (size != SNAP_HEADER_SIZE)
		return husk_err_set(e, EINVAL, "%s: header of %u bytes, format version %u has %u",
				    what, size, SNAP_VERSION, SNAP_HEADER_SIZE);
	if (len < SNAP_HEADER_SIZE)
		return husk_err_set(e, EINVAL, "%s: truncated (%zu bytes, no complete header)",
				    what, len);
	memcpy(h, b, SNAP_HEADER_SIZE);
	snap_header_swap(h);
	if (h->header_crc != snap_header_crc(b))
		return husk_err_set(e, EINVAL, "%s: header checksum mismatch", what);
	if (!snap_string_ok(h->arch, sizeof(h->arch)) ||
	    !snap_string_ok(h->flavour, sizeof(h->flavour)) ||
	    !snap_string_ok(h->husk_version, sizeof(h->husk_version)))
		return husk_err_set(e, EINVAL, "%s: corrupt header (a name is not terminated)",
				    what);
	if (h->state_size < SNAP_HEADER_SIZE || h->state_size > SNAP_STATE_MAX)
		return husk_err_set(e, EINVAL,
				    "%s: corrupt header (state of %llu bytes, the limit is %llu)",
				    what, (unsigned long long)h->state_size,
				    (unsigned long long)SNAP_STATE_MAX);
	if (h->section_count > SNAP_MAX_SECTIONS)
		return husk_err_set(e, EINVAL, "%s: corrupt header (%u sections, the limit is %u)",
				    what, h->section_count, SNAP_MAX_SECTIONS);
	return 0;
}

int snap_state_open(const char *dir, char *path, size_t n, struct stat *st, struct husk_err *e)
{
	int err = path_fmt(e, path, n, "%s/" SNAP_STATE_FILE, dir);
	if (err)
		return err;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int no = errno;
		if (no == ENOENT || no == ENOTDIR)
			return husk_err_set(e, no,
					    "%s: not a husk snapshot (no " SNAP_STATE_FILE " file)",
					    dir);
		return husk_err_set(e, no, "%s: %s", path, strerror(no));
	}
	if (fstat(fd, st) < 0) {
		int no = errno;
		close(fd);
		return husk_err_set(e, no, "%s: %s", path, strerror(no));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return husk_err_set(e, EINVAL, "%s: not a regular file", path);
	}
	return fd;
}

int snap_header_read(const char *dir, struct snap_header *h, struct husk_err *e)
{
	char path[PATH_MAX];
	uint8_t buf[SNAP_HEADER_SIZE];
	struct stat st = { 0 };
	size_t got = 0;
	int err;

	cleanup_close int fd = snap_state_open(dir, path, sizeof(path), &st, e);
	if (fd < 0)
		return fd;
	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_err_set(e, errno, "%s: %s", path, strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if ((err = snap_header_decode(buf, got, h, dir, e)) != 0)
		return err;
	if ((uint64_t)st.st_size != h->state_size)
		return husk_err_set(
			e, EINVAL, "%s: %s (%llu bytes, the header says %llu)", dir,
			(uint64_t)st.st_size < h->state_size ? "truncated" : "trailing bytes",
			(unsigned long long)st.st_size, (unsigned long long)h->state_size);
	return 0;
}
