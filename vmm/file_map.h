/* Read-only mapping of an input file (kernel, initramfs). */
#ifndef HUSK_VMM_FILE_MAP_H
#define HUSK_VMM_FILE_MAP_H

#include <stddef.h>
#include <stdint.h>

struct file_map {
	const uint8_t *data;
	size_t size;
};

/* Map path; what names it in messages ("kernel", "initramfs"). */
int file_map_open(struct file_map *f, const char *path, const char *what);
void file_map_close(struct file_map *f);

#endif
