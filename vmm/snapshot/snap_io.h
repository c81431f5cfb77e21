/*
 * The snapshot's files are written whole or not at all: into a temporary
 * file beside the final name, fsync'd, renamed over it, and the directory
 * fsync'd, so that a crash leaves the old file or the new one, never half.
 */
#ifndef HUSK_SNAP_IO_H
#define HUSK_SNAP_IO_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "husk/error.h"

struct snap_out {
	int fd;
	char path[PATH_MAX];
	char tmp[PATH_MAX]; /* PATH.tmp-PID */
};

/* Create the temporary file for path (mode 0600: guest RAM may hold secrets). */
int snap_out_open(struct snap_out *o, const char *path, struct husk_err *e);

/* All of buf at offset off of the temporary file. */
int snap_out_pwrite(struct snap_out *o, const void *buf, size_t len, uint64_t off,
		    struct husk_err *e);

/* fsync, close, rename into place, fsync the directory. The temporary file is gone either way. */
int snap_out_commit(struct snap_out *o, struct husk_err *e);

/* Close and remove the temporary file (nothing once committed). */
void snap_out_abort(struct snap_out *o);

/* Up to len bytes at off, fewer only at the end of the file; bytes read or -errno. */
ssize_t snap_pread_full(int fd, void *buf, size_t len, uint64_t off);

#endif
