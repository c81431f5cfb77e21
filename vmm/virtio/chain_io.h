/*
 * Reading and writing a popped descriptor chain as two byte streams: the
 * device-readable buffers in order, and the device-writable ones in order.
 */
#ifndef HUSK_VIRTIO_CHAIN_IO_H
#define HUSK_VIRTIO_CHAIN_IO_H

#include <stddef.h>
#include <stdint.h>

#include "virtio/virtqueue.h"

/* Copy up to len readable bytes starting at offset off; returns bytes copied. */
size_t chain_read(const struct vq_chain *c, size_t off, void *dst, size_t len);
/* Copy up to len bytes into the writable stream at offset off; returns bytes copied. */
size_t chain_write(const struct vq_chain *c, size_t off, const void *src, size_t len);

/*
 * The writable stream as at most max iovec-like pieces from offset off, for
 * readv() straight into guest buffers; returns the number of pieces.
 */
struct chain_piece {
	void *base;
	size_t len;
};
unsigned chain_writable_pieces(const struct vq_chain *c, size_t off, size_t len,
			       struct chain_piece *out, unsigned max);
/* The same for the readable stream (for writev() straight from guest buffers). */
unsigned chain_readable_pieces(const struct vq_chain *c, size_t off, size_t len,
			       struct chain_piece *out, unsigned max);

#endif
