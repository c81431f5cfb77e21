/* The x86 port's state blob format (see state_blob.h). */
#include "arch/x86_64/state_blob.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/defs.h"
#include "log.h"

static size_t xsb_pad(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static void xsb_append(struct xsb_writer *w, const void *data, size_t len)
{
	if (w->failed)
		return;
	size_t need = w->len + xsb_pad(len);
	if (need < w->len) {
		w->failed = true;
		return;
	}
	if (need > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < need)
			cap *= 2;
		uint8_t *b = realloc(w->buf, cap);
		if (!b) {
			w->failed = true;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	if (len)
		memcpy(w->buf + w->len, data, len);
	memset(w->buf + w->len + len, 0, xsb_pad(len) - len);
	w->len = need;
}

void xsb_begin(struct xsb_writer *w, const char magic[XSB_MAGIC_LEN])
{
	uint32_t head[2] = { XSB_VERSION, 0 };
	memset(w, 0, sizeof(*w));
	xsb_append(w, magic, XSB_MAGIC_LEN);
	xsb_append(w, head, sizeof(head));
}

void xsb_put(struct xsb_writer *w, uint32_t tag, const void *data, size_t len)
{
	if (len > UINT32_MAX || w->nsections >= XSB_MAX_SECTIONS) {
		w->failed = true;
		return;
	}
	uint32_t head[2] = { tag, (uint32_t)len };
	xsb_append(w, head, sizeof(head));
	xsb_append(w, data, len);
	w->nsections++;
}

void xsb_discard(struct xsb_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

int xsb_finish(struct xsb_writer *w, void **blob, size_t *len)
{
	if (w->failed) {
		xsb_discard(w);
		log_err("state", "cannot build a state blob: out of memory");
		return -ENOMEM;
	}
	memcpy(w->buf + XSB_MAGIC_LEN + sizeof(uint32_t), &w->nsections, sizeof(uint32_t));
	*blob = w->buf;
	*len = w->len;
	memset(w, 0, sizeof(*w));
	return 0;
}

static const struct xsb_spec *xsb_find(const struct xsb_spec *spec, size_t nspec, uint32_t tag,
				       size_t *i)
{
	for (*i = 0; *i < nspec; (*i)++)
		if (spec[*i].tag == tag)
			return &spec[*i];
	return NULL;
}

/* The section's length against its spec: a whole number of items, within bounds. */
static int xsb_check_len(const struct xsb_spec *s, uint32_t len, const char *what)
{
	uint32_t n = len / s->unit;
	if (len % s->unit == 0 && n >= s->min && n <= s->max)
		return 0;
	if (s->min == s->max)
		log_err("state", "%s: section %s is %u bytes, not %u", what, s->name, len,
			s->min * s->unit);
	else
		log_err("state", "%s: section %s is %u bytes, not a multiple of %u from %u to %u",
			what, s->name, len, s->unit, s->min * s->unit, s->max * s->unit);
	return -EINVAL;
}

int xsb_parse(const void *blob, size_t len, const char magic[XSB_MAGIC_LEN], const char *what,
	      const struct xsb_spec *spec, size_t nspec, struct xsb_view *out)
{
	const uint8_t *p = blob;
	uint32_t version, nsections;

	memset(out, 0, nspec * sizeof(*out));
	if (!blob || len < XSB_HEADER_SIZE) {
		log_err("state", "%s: %zu bytes, shorter than its %d-byte header", what, len,
			XSB_HEADER_SIZE);
		return -EINVAL;
	}
	if (memcmp(p, magic, XSB_MAGIC_LEN) != 0) {
		log_err("state", "%s: bad magic (not this port's %s state)", what, ARCH_NAME);
		return -EINVAL;
	}
	memcpy(&version, p + XSB_MAGIC_LEN, sizeof(version));
	memcpy(&nsections, p + XSB_MAGIC_LEN + 4, sizeof(nsections));
	if (version != XSB_VERSION) {
		log_err("state", "%s: format version %u, this husk-vmm reads version %d", what,
			version, XSB_VERSION);
		return -EINVAL;
	}
	if (nsections > XSB_MAX_SECTIONS || nsections > nspec) {
		log_err("state", "%s: %u sections, more than the %zu it can have", what, nsections,
			nspec < XSB_MAX_SECTIONS ? nspec : (size_t)XSB_MAX_SECTIONS);
		return -EINVAL;
	}
	size_t off = XSB_HEADER_SIZE;
	for (uint32_t i = 0; i < nsections; i++) {
		uint32_t tag, slen;
		if (len - off < XSB_SECTION_HEAD) {
			log_err("state", "%s: truncated in the head of section %u of %u", what,
				i + 1, nsections);
			return -EINVAL;
		}
		memcpy(&tag, p + off, sizeof(tag));
		memcpy(&slen, p + off + 4, sizeof(slen));
		off += XSB_SECTION_HEAD;
		size_t k;
		const struct xsb_spec *s = xsb_find(spec, nspec, tag, &k);
		if (!s) {
			log_err("state", "%s: unknown section tag %u", what, tag);
			return -EINVAL;
		}
		if (out[k].data) {
			log_err("state", "%s: section %s appears twice", what, s->name);
			return -EINVAL;
		}
		if (xsb_pad(slen) > len - off) {
			log_err("state", "%s: section %s (%u bytes) runs past the end (%zu left)",
				what, s->name, slen, len - off);
			return -EINVAL;
		}
		int r = xsb_check_len(s, slen, what);
		if (r < 0)
			return r;
		out[k].data = p + off;
		out[k].len = slen;
		off += xsb_pad(slen);
	}
	if (off != len) {
		log_err("state", "%s: %zu bytes after its last section", what, len - off);
		return -EINVAL;
	}
	for (size_t i = 0; i < nspec; i++)
		if (spec[i].required && !out[i].data) {
			log_err("state", "%s: section %s is missing", what, spec[i].name);
			return -EINVAL;
		}
	return 0;
}
