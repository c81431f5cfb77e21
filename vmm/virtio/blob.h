/*
 * Device state blobs (snapshots): a little-endian byte stream written with
 * a growing buffer and read back with every length checked. A blob is
 * hostile input when it is read: each getter fails (returns false, and
 * the reader stays failed) instead of reading past the end, so a parser
 * checks once at the end, and the values it got are checked by the caller.
 *
 * Every blob starts with a header: a 32-bit magic naming its kind and a
 * 16-bit version (blob_put_header / blob_get_header).
 */
#ifndef HUSK_VIRTIO_BLOB_H
#define HUSK_VIRTIO_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest blob any device writes or accepts (the transport's is ~1 KiB). */
#define BLOB_MAX (1u << 20)

struct blob_writer {
	uint8_t *p;
	size_t len, cap;
	bool failed; /* out of memory, or past BLOB_MAX */
};

struct blob_reader {
	const uint8_t *p;
	size_t len, off;
	bool failed; /* a read went past the end */
};

void blob_writer_init(struct blob_writer *w);
void blob_put_u8(struct blob_writer *w, uint8_t v);
void blob_put_u16(struct blob_writer *w, uint16_t v);
void blob_put_u32(struct blob_writer *w, uint32_t v);
void blob_put_u64(struct blob_writer *w, uint64_t v);
void blob_put_bytes(struct blob_writer *w, const void *p, size_t n);
/* A 32-bit length, then the bytes. */
void blob_put_sized(struct blob_writer *w, const void *p, size_t n);
void blob_put_header(struct blob_writer *w, uint32_t magic, uint16_t version);
/* Hand the buffer over (malloc'd): 0, or -ENOMEM (logged with who) and nothing kept. */
int blob_writer_finish(struct blob_writer *w, const char *who, void **blob, size_t *len);
void blob_writer_discard(struct blob_writer *w);

void blob_reader_init(struct blob_reader *r, const void *p, size_t len);
bool blob_get_u8(struct blob_reader *r, uint8_t *v);
bool blob_get_u16(struct blob_reader *r, uint16_t *v);
bool blob_get_u32(struct blob_reader *r, uint32_t *v);
bool blob_get_u64(struct blob_reader *r, uint64_t *v);
bool blob_get_bool(struct blob_reader *r, bool *v); /* 0 or 1, anything else fails */
bool blob_get_bytes(struct blob_reader *r, void *p, size_t n);
/* A blob_put_sized field: *p points into the blob, *n at most max. */
bool blob_get_sized(struct blob_reader *r, const void **p, size_t *n, size_t max);
/* magic and version as expected; logs "WHO: ..." and fails otherwise. */
bool blob_get_header(struct blob_reader *r, const char *who, uint32_t magic, uint16_t version);
/* Everything read, nothing left over, no read failed: 0, or -EINVAL logged with who. */
int blob_reader_end(struct blob_reader *r, const char *who);

#endif
