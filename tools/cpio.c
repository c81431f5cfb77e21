#include "cpio.h"

#include <errno.h>
#include <string.h>

#define CPIO_ALIGN 4

static int cpio_put(struct cpio_writer *w, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, w->f) != n)
		return -EIO;
	w->offset += n;
	return 0;
}

static int cpio_pad(struct cpio_writer *w)
{
	static const char zeros[CPIO_ALIGN];
	size_t pad = (CPIO_ALIGN - (w->offset % CPIO_ALIGN)) % CPIO_ALIGN;
	return cpio_put(w, zeros, pad);
}

void cpio_init(struct cpio_writer *w, FILE *f)
{
	w->f = f;
	w->next_ino = 1;
	w->offset = 0;
}

int cpio_add(struct cpio_writer *w, const char *name, uint32_t mode, uint32_t rdev_major,
	     uint32_t rdev_minor, const void *data, size_t size)
{
	char hdr[6 + 13 * 8 + 1];
	size_t namesize = strlen(name) + 1;

	if (namesize < 2 || size > UINT32_MAX)
		return -EINVAL;
	uint32_t nlink = (mode & 0170000) == 0040000 ? 2 : 1;
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 w->next_ino++, mode, 0u, 0u, nlink, 0u, (uint32_t)size, 0u, 0u, rdev_major,
		 rdev_minor, (uint32_t)namesize, 0u);
	int r = cpio_put(w, hdr, sizeof(hdr) - 1);
	if (!r)
		r = cpio_put(w, name, namesize);
	if (!r)
		r = cpio_pad(w);
	if (!r)
		r = cpio_put(w, data, size);
	if (!r)
		r = cpio_pad(w);
	return r;
}

int cpio_finish(struct cpio_writer *w)
{
	int r = cpio_add(w, "TRAILER!!!", 0, 0, 0, NULL, 0);
	if (!r && fflush(w->f) != 0)
		r = -EIO;
	return r;
}
