/* Whole-or-nothing files for snapshots (snap_io.h). */
#include "snapshot/snap_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "husk/path.h"

int snap_out_open(struct snap_out *o, const char *path, struct husk_err *e)
{
	int err;

	o->fd = -1;
	o->tmp[0] = '\0';
	err = path_fmt(e, o->path, sizeof(o->path), "%s", path);
	if (!err)
		err = path_fmt(e, o->tmp, sizeof(o->tmp), "%s.tmp-%ld", path, (long)getpid());
	if (err)
		return err;
	o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (o->fd < 0) {
		o->tmp[0] = '\0';
		return husk_err_set(e, errno, "cannot create %s: %s", path, strerror(errno));
	}
	return 0;
}

int snap_out_pwrite(struct snap_out *o, const void *buf, size_t len, uint64_t off,
		    struct husk_err *e)
{
	const uint8_t *p = buf;

	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(o->fd, p + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return husk_err_set(e, n < 0 ? errno : EIO, "cannot write %s: %s", o->path,
					    n < 0 ? strerror(errno) : "no progress");
		done += (size_t)n;
	}
	return 0;
}

/* The directory's entry for the rename on disk too. */
static int snap_sync_dir(const char *path, struct husk_err *e)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return husk_err_set(e, errno, "cannot open %s: %s", dir, strerror(errno));
	int rc = fsync(fd);
	int no = errno;
	close(fd);
	if (rc < 0 && no != EINVAL) /* EINVAL: a file system that cannot sync directories */
		return husk_err_set(e, no, "cannot sync %s: %s", dir, strerror(no));
	return 0;
}

int snap_out_commit(struct snap_out *o, struct husk_err *e)
{
	if (fsync(o->fd) < 0) {
		int err = husk_err_set(e, errno, "cannot sync %s: %s", o->path, strerror(errno));
		snap_out_abort(o);
		return err;
	}
	int rc = close(o->fd);
	o->fd = -1;
	if (rc < 0) {
		int err = husk_err_set(e, errno, "cannot write %s: %s", o->path, strerror(errno));
		snap_out_abort(o);
		return err;
	}
	if (rename(o->tmp, o->path) < 0) {
		int err = husk_err_set(e, errno, "cannot rename %s to %s: %s", o->tmp, o->path,
				       strerror(errno));
		snap_out_abort(o);
		return err;
	}
	o->tmp[0] = '\0';
	return snap_sync_dir(o->path, e);
}

void snap_out_abort(struct snap_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}

ssize_t snap_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, p + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}
