/*
 * mkinitramfs: write an uncompressed newc initramfs from entries given as
 * arguments, so that no root privileges are needed for device nodes:
 *
 *   mkinitramfs OUT dir:/dev:0755 nod:/dev/console:0600:c:5:1 file:/init:SRC:0755
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cpio.h"

static int add_file(struct cpio_writer *w, const char *name, const char *src, uint32_t perm)
{
	FILE *f = fopen(src, "rb");
	if (!f) {
		fprintf(stderr, "mkinitramfs: cannot open %s: %s\n", src, strerror(errno));
		return -1;
	}
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	int bad = !buf || ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "mkinitramfs: cannot read %s\n", src);
		free(buf);
		return -1;
	}
	int r = cpio_add(w, name, S_IFREG | perm, 0, 0, buf, len);
	free(buf);
	return r;
}

static int add_entry(struct cpio_writer *w, char *spec)
{
	char *f[7] = { 0 };
	int nf = 0;
	for (char *p = spec; p && nf < 7; nf++) {
		f[nf] = p;
		p = strchr(p, ':');
		if (p)
			*p++ = '\0';
	}
	const char *name = f[1] && f[1][0] == '/' ? f[1] + 1 : f[1];
	if (nf >= 3 && !strcmp(f[0], "dir"))
		return cpio_add(w, name, S_IFDIR | (uint32_t)strtoul(f[2], NULL, 8), 0, 0, NULL, 0);
	if (nf >= 4 && !strcmp(f[0], "file"))
		return add_file(w, name, f[2], (uint32_t)strtoul(f[3], NULL, 8));
	if (nf >= 6 && !strcmp(f[0], "nod") && (!strcmp(f[3], "c") || !strcmp(f[3], "b")))
		return cpio_add(w, name,
				(f[3][0] == 'c' ? S_IFCHR : S_IFBLK) |
					(uint32_t)strtoul(f[2], NULL, 8),
				(uint32_t)strtoul(f[4], NULL, 10),
				(uint32_t)strtoul(f[5], NULL, 10), NULL, 0);
	fprintf(stderr, "mkinitramfs: bad entry (want dir:PATH:MODE, file:PATH:SRC:MODE or "
			"nod:PATH:MODE:c|b:MAJOR:MINOR)\n");
	return -1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: mkinitramfs OUT ENTRY...\n");
		return 2;
	}
	FILE *out = fopen(argv[1], "wb");
	if (!out) {
		fprintf(stderr, "mkinitramfs: cannot create %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct cpio_writer w;
	cpio_init(&w, out);
	int r = 0;
	for (int i = 2; i < argc && r == 0; i++)
		r = add_entry(&w, argv[i]);
	if (r == 0)
		r = cpio_finish(&w);
	if (fclose(out) != 0)
		r = -1;
	if (r != 0) {
		remove(argv[1]);
		return 1;
	}
	return 0;
}
