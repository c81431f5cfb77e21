/*
 * gzip-compressed kernel and initramfs images, inflated on the host: the
 * guest kernel has no decompressors, and inflating in the guest would be
 * emulated work where its code runs emulated. The output is bounded by what
 * guest RAM can hold; the input is a file the user named, not the guest's.
 */
#ifndef HUSK_BOOT_GUNZIP_H
#define HUSK_BOOT_GUNZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The gzip magic (1f 8b) at the start of img. */
bool gunzip_is_gzip(const uint8_t *img, size_t len);

/*
 * Inflate the gzip stream in[0..len) (members one after the other, then at
 * most zero padding) into a malloc'd *out of *out_len bytes, at most max of
 * them. -EFBIG beyond max, -EINVAL truncated or corrupt, -ENOMEM; logged,
 * naming what ("kernel", "initramfs").
 */
int gunzip_inflate(const uint8_t *in, size_t len, size_t max, const char *what, uint8_t **out,
		   size_t *out_len);

#endif
