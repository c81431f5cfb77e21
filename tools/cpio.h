/* Writer for the "newc" cpio format, the one the Linux initramfs unpacker reads. */
#ifndef HUSK_TOOLS_CPIO_H
#define HUSK_TOOLS_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cpio_writer {
	FILE *f;
	uint32_t next_ino;
	uint64_t offset;
};

void cpio_init(struct cpio_writer *w, FILE *f);
/* mode carries the file type bits (S_IFDIR, S_IFREG, S_IFCHR...). */
int cpio_add(struct cpio_writer *w, const char *name, uint32_t mode, uint32_t rdev_major,
	     uint32_t rdev_minor, const void *data, size_t size);
/* The TRAILER!!! entry; the archive is complete after it. */
int cpio_finish(struct cpio_writer *w);

#endif
