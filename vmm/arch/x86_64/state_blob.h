/*
 * The x86 port's state blobs (arch_vm_save, arch_vcpu_save): private to
 * the port, read back only by the same port, in host byte order.
 *
 *   header   8-byte magic ("HUSKXVM\0" or "HUSKXCPU"), u32 version,
 *            u32 number of sections (at most XSB_MAX_SECTIONS)
 *   section  u32 tag, u32 length, then length bytes, padded with zeros to
 *            a multiple of 8; as many as the header says, nothing after
 *
 * A section's bytes are a KVM structure as the ioctl gives it, or an array
 * of them. A blob is hostile input: xsb_parse() checks the header, every
 * length against the blob's end and against the reader's table (exact
 * size, or a count of fixed-size items within bounds), refuses unknown,
 * repeated and missing sections, and logs what it refused.
 */
#ifndef HUSK_ARCH_X86_STATE_BLOB_H
#define HUSK_ARCH_X86_STATE_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XSB_MAGIC_LEN	 8
#define XSB_VERSION	 1
#define XSB_MAX_SECTIONS 32
#define XSB_HEADER_SIZE	 16
#define XSB_SECTION_HEAD 8

/* Appends sections to a growing buffer; a failed allocation is kept for xsb_finish. */
struct xsb_writer {
	uint8_t *buf;
	size_t len, cap;
	uint32_t nsections;
	bool failed;
};

void xsb_begin(struct xsb_writer *w, const char magic[XSB_MAGIC_LEN]);
void xsb_put(struct xsb_writer *w, uint32_t tag, const void *data, size_t len);
/* Drop what was written (on an error before xsb_finish). */
void xsb_discard(struct xsb_writer *w);
/* The blob (malloc'd, the caller frees it) and its length; -ENOMEM if any step failed. */
int xsb_finish(struct xsb_writer *w, void **blob, size_t *len);

/* What a reader accepts of one tag: unit-byte items, between min and max of them. */
struct xsb_spec {
	uint32_t tag;
	const char *name; /* in messages */
	uint32_t unit;	  /* item size in bytes */
	uint32_t min, max;
	bool required;
};

/* A section found: its bytes inside the blob (not aligned: copy them out), NULL if absent. */
struct xsb_view {
	const uint8_t *data;
	uint32_t len;
};

/*
 * Check blob (len bytes) against magic, XSB_VERSION and the nspec specs;
 * out[i] is the section of spec[i]. what names the blob in messages.
 * 0, or -EINVAL with a message.
 */
int xsb_parse(const void *blob, size_t len, const char magic[XSB_MAGIC_LEN], const char *what,
	      const struct xsb_spec *spec, size_t nspec, struct xsb_view *out);

#endif
