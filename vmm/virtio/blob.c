/* Device state blobs (see blob.h). */
#include "virtio/blob.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void blob_writer_init(struct blob_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void blob_put_bytes(struct blob_writer *w, const void *p, size_t n)
{
	if (w->failed)
		return;
	if (n > BLOB_MAX - w->len) {
		w->failed = true;
		return;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *np = realloc(w->p, cap);
		if (!np) {
			w->failed = true;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

void blob_put_u8(struct blob_writer *w, uint8_t v)
{
	blob_put_bytes(w, &v, 1);
}

void blob_put_u16(struct blob_writer *w, uint16_t v)
{
	v = htole16(v);
	blob_put_bytes(w, &v, 2);
}

void blob_put_u32(struct blob_writer *w, uint32_t v)
{
	v = htole32(v);
	blob_put_bytes(w, &v, 4);
}

void blob_put_u64(struct blob_writer *w, uint64_t v)
{
	v = htole64(v);
	blob_put_bytes(w, &v, 8);
}

void blob_put_sized(struct blob_writer *w, const void *p, size_t n)
{
	if (n > BLOB_MAX) {
		w->failed = true;
		return;
	}
	blob_put_u32(w, (uint32_t)n);
	blob_put_bytes(w, p, n);
}

void blob_put_header(struct blob_writer *w, uint32_t magic, uint16_t version)
{
	blob_put_u32(w, magic);
	blob_put_u16(w, version);
}

int blob_writer_finish(struct blob_writer *w, const char *who, void **blob, size_t *len)
{
	if (w->failed) {
		log_err("state", "%s: state blob: out of memory or over %u bytes", who, BLOB_MAX);
		blob_writer_discard(w);
		return -ENOMEM;
	}
	*blob = w->p;
	*len = w->len;
	w->p = NULL;
	w->len = w->cap = 0;
	return 0;
}

void blob_writer_discard(struct blob_writer *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

void blob_reader_init(struct blob_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->off = 0;
	r->failed = false;
}

bool blob_get_bytes(struct blob_reader *r, void *p, size_t n)
{
	if (r->failed || n > r->len - r->off) {
		r->failed = true;
		if (n)
			memset(p, 0, n);
		return false;
	}
	if (n)
		memcpy(p, r->p + r->off, n);
	r->off += n;
	return true;
}

bool blob_get_u8(struct blob_reader *r, uint8_t *v)
{
	return blob_get_bytes(r, v, 1);
}

bool blob_get_u16(struct blob_reader *r, uint16_t *v)
{
	bool ok = blob_get_bytes(r, v, 2);
	*v = le16toh(*v);
	return ok;
}

bool blob_get_u32(struct blob_reader *r, uint32_t *v)
{
	bool ok = blob_get_bytes(r, v, 4);
	*v = le32toh(*v);
	return ok;
}

bool blob_get_u64(struct blob_reader *r, uint64_t *v)
{
	bool ok = blob_get_bytes(r, v, 8);
	*v = le64toh(*v);
	return ok;
}

bool blob_get_bool(struct blob_reader *r, bool *v)
{
	uint8_t b;
	if (!blob_get_u8(r, &b) || b > 1) {
		r->failed = true;
		*v = false;
		return false;
	}
	*v = b;
	return true;
}

bool blob_get_sized(struct blob_reader *r, const void **p, size_t *n, size_t max)
{
	uint32_t len;
	*p = NULL;
	*n = 0;
	if (!blob_get_u32(r, &len) || len > max || len > r->len - r->off) {
		r->failed = true;
		return false;
	}
	*p = r->p + r->off;
	*n = len;
	r->off += len;
	return true;
}

bool blob_get_header(struct blob_reader *r, const char *who, uint32_t magic, uint16_t version)
{
	uint32_t m;
	uint16_t v;
	if (!blob_get_u32(r, &m) || !blob_get_u16(r, &v)) {
		log_err("state", "%s: state blob: %zu bytes, too short for its header", who,
			r->len);
		return false;
	}
	if (m != magic) {
		log_err("state", "%s: state blob: not this device's (magic %#x, expected %#x)", who,
			m, magic);
		r->failed = true;
		return false;
	}
	if (v != version) {
		log_err("state", "%s: state blob: version %u, this husk-vmm reads version %u", who,
			v, version);
		r->failed = true;
		return false;
	}
	return true;
}

int blob_reader_end(struct blob_reader *r, const char *who)
{
	if (r->failed) {
		log_err("state", "%s: state blob: truncated or malformed (%zu bytes)", who, r->len);
		return -EINVAL;
	}
	if (r->off != r->len) {
		log_err("state", "%s: state blob: %zu bytes left over", who, r->len - r->off);
		return -EINVAL;
	}
	return 0;
}
