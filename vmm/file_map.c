#include "file_map.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "husk/cleanup.h"
#include "log.h"

int file_map_open(struct file_map *f, const char *path, const char *what)
{
	struct stat st;
	int e;

	f->data = NULL;
	f->size = 0;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		log_err("load", "cannot open %s %s: %s", what, path, strerror(errno));
		return e;
	}
	if (fstat(fd, &st) < 0) {
		e = -errno;
		log_err("load", "cannot stat %s %s: %s", what, path, strerror(errno));
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err("load", "%s %s is not a regular file", what, path);
		return -EINVAL;
	}
	if (st.st_size == 0) {
		log_err("load", "%s %s is empty", what, path);
		return -ENOEXEC;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		e = -errno;
		log_err("load", "cannot map %s %s: %s", what, path, strerror(-e));
		return e;
	}
	f->data = p;
	f->size = (size_t)st.st_size;
	return 0;
}

void file_map_close(struct file_map *f)
{
	if (f->data)
		munmap((void *)f->data, f->size);
	f->data = NULL;
	f->size = 0;
}
