#include "virtio/chain_io.h"

#include <stdbool.h>
#include <string.h>

static unsigned chain_pieces(const struct vq_chain *c, bool writable, size_t off, size_t len,
			     struct chain_piece *out, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->nbufs && len && n < max; i++) {
		const struct vq_buf *b = &c->buf[i];
		if (b->device_writes != writable)
			continue;
		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		size_t take = b->len - off;
		if (take > len)
			take = len;
		out[n].base = (uint8_t *)b->hva + off;
		out[n].len = take;
		n++;
		len -= take;
		off = 0;
	}
	return n;
}

unsigned chain_writable_pieces(const struct vq_chain *c, size_t off, size_t len,
			       struct chain_piece *out, unsigned max)
{
	return chain_pieces(c, true, off, len, out, max);
}

unsigned chain_readable_pieces(const struct vq_chain *c, size_t off, size_t len,
			       struct chain_piece *out, unsigned max)
{
	return chain_pieces(c, false, off, len, out, max);
}

size_t chain_read(const struct vq_chain *c, size_t off, void *dst, size_t len)
{
	struct chain_piece p[VQ_SIZE_MAX];
	unsigned n = chain_pieces(c, false, off, len, p, VQ_SIZE_MAX);
	size_t done = 0;
	for (unsigned i = 0; i < n; i++) {
		memcpy((uint8_t *)dst + done, p[i].base, p[i].len);
		done += p[i].len;
	}
	return done;
}

size_t chain_write(const struct vq_chain *c, size_t off, const void *src, size_t len)
{
	struct chain_piece p[VQ_SIZE_MAX];
	unsigned n = chain_pieces(c, true, off, len, p, VQ_SIZE_MAX);
	size_t done = 0;
	for (unsigned i = 0; i < n; i++) {
		memcpy(p[i].base, (const uint8_t *)src + done, p[i].len);
		done += p[i].len;
	}
	return done;
}
