/* The identity hash of kernels, initramfs images and command lines (include/husk/snapshot.h). */
#include "husk/snapshot.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "husk/cleanup.h"
#include "husk/path.h"

#define SNAP_HASH_SEED	0xcbf29ce484222325ULL
#define SNAP_HASH_PRIME 0x100000001b3ULL
#define SNAP_HASH_CHUNK (128U << 10) /* a multiple of 8, and stays in the cache */

static inline uint64_t snap_hash_step(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= SNAP_HASH_PRIME;
	return h ^ (h >> 32);
}

/* The whole words of buf; returns the bytes consumed (a multiple of 8). */
static size_t snap_hash_words(uint64_t *h, const uint8_t *p, size_t len)
{
	uint64_t s = *h;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		s = snap_hash_step(s, le64toh(w));
	}
	*h = s;
	return i;
}

static uint64_t snap_hash_finish(uint64_t h, const uint8_t *tail, size_t n, uint64_t total)
{
	for (size_t i = 0; i < n; i++)
		h = snap_hash_step(h, tail[i]);
	return snap_hash_step(h, total);
}

uint64_t snap_hash_bytes(const void *buf, size_t len)
{
	uint64_t h = SNAP_HASH_SEED;
	size_t done = snap_hash_words(&h, buf, len);
	return snap_hash_finish(h, (const uint8_t *)buf + done, len - done, len);
}

int snap_hash_file(const char *path, uint64_t *out, struct husk_err *e)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return husk_err_set(e, errno, "%s: %s", path, strerror(errno));
	cleanup_free uint8_t *buf = malloc(SNAP_HASH_CHUNK);
	if (!buf)
		return husk_err_set(e, ENOMEM, "%s: out of memory", path);

	uint64_t h = SNAP_HASH_SEED, total = 0;
	size_t fill = 0;
	for (;;) {
		ssize_t n = read(fd, buf + fill, SNAP_HASH_CHUNK - fill);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_err_set(e, errno, "%s: %s", path, strerror(errno));
		if (n == 0)
			break;
		fill += (size_t)n;
		total += (uint64_t)n;
		if (fill == SNAP_HASH_CHUNK) {
			snap_hash_words(&h, buf, fill);
			fill = 0;
		}
	}
	size_t done = snap_hash_words(&h, buf, fill);
	*out = snap_hash_finish(h, buf + done, fill - done, total);
	return 0;
}

int snap_hash_stat(const char *path, uint64_t *out, struct husk_err *e)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return husk_err_set(e, errno, "%s: %s", path, strerror(errno));
	const uint64_t id[5] = { (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
				 (uint64_t)st.st_ctim.tv_sec, (uint64_t)st.st_ctim.tv_nsec };
	*out = snap_hash_bytes(id, sizeof(id));
	*out += !*out; /* 0 means "not recorded" in a header */
	return 0;
}
