#include "boot/gunzip.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

#include "log.h"

#define GUNZIP_FIRST_CHUNK (1u << 20)

bool gunzip_is_gzip(const uint8_t *img, size_t len)
{
	return len >= 2 && img[0] == 0x1f && img[1] == 0x8b;
}

static bool gunzip_all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* One more step of output room: doubling, at most max + 1 (to tell "too big"). */
static int gunzip_grow(uint8_t **buf, size_t *cap, size_t max)
{
	size_t want = *cap ? *cap * 2 : GUNZIP_FIRST_CHUNK;
	if (want > max + 1 || want < *cap)
		want = max + 1;
	uint8_t *p = realloc(*buf, want);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = want;
	return 0;
}

static int gunzip_run(z_stream *zs, const uint8_t *in, size_t len, size_t max, const char *what,
		      uint8_t **buf, size_t *used)
{
	size_t cap = 0, fed = 0;

	for (;;) {
		if (*used == cap && gunzip_grow(buf, &cap, max) < 0) {
			log_err("gunzip", "%s: out of memory at %zu MiB", what, *used >> 20);
			return -ENOMEM;
		}
		if (zs->avail_in == 0 && fed < len) {
			size_t n = len - fed < UINT_MAX ? len - fed : UINT_MAX;
			zs->next_in = (Bytef *)(in + fed);
			zs->avail_in = (uInt)n;
			fed += n;
		}
		size_t room = cap - *used < UINT_MAX ? cap - *used : UINT_MAX;
		zs->next_out = *buf + *used;
		zs->avail_out = (uInt)room;
		int zr = inflate(zs, Z_NO_FLUSH);
		*used += room - zs->avail_out;
		if (*used > max) {
			log_err("gunzip",
				"%s inflates to more than the %zu KiB guest RAM has room for", what,
				max >> 10);
			return -EFBIG;
		}
		if (zr == Z_STREAM_END) {
			size_t rest = fed - zs->avail_in; /* offset of what follows this member */
			if (gunzip_is_gzip(in + rest, len - rest)) {
				inflateReset(zs);
				continue;
			}
			if (!gunzip_all_zero(in + rest, len - rest)) {
				log_err("gunzip", "%s: data after the gzip stream", what);
				return -EINVAL;
			}
			return 0;
		}
		if (zr == Z_BUF_ERROR && zs->avail_in == 0 && fed == len) {
			log_err("gunzip", "%s: gzip stream truncated", what);
			return -EINVAL;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			log_err("gunzip", "%s: corrupt gzip stream (%s)", what,
				zs->msg ? zs->msg : zError(zr));
			return zr == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
		}
	}
}

int gunzip_inflate(const uint8_t *in, size_t len, size_t max, const char *what, uint8_t **out,
		   size_t *out_len)
{
	z_stream zs = { 0 };
	uint8_t *buf = NULL;
	size_t used = 0;

	*out = NULL;
	*out_len = 0;
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) { /* gzip wrapper only */
		log_err("gunzip", "%s: cannot start zlib", what);
		return -ENOMEM;
	}
	int r = gunzip_run(&zs, in, len, max, what, &buf, &used);
	inflateEnd(&zs);
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	*out_len = used;
	return 0;
}
