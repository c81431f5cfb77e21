/* Unix socket addresses of any length (see husk/uds.h). */
#include "husk/uds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fill sa for path; *dirfd is the directory descriptor to close after the call, or -1. */
static int uds_addr(const char *path, struct sockaddr_un *sa, int *dirfd)
{
	*dirfd = -1;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	size_t len = strlen(path);
	if (len < sizeof(sa->sun_path)) {
		memcpy(sa->sun_path, path, len + 1);
		return 0;
	}
	const char *slash = strrchr(path, '/');
	if (!slash || len >= PATH_MAX)
		return -ENAMETOOLONG;
	char dir[PATH_MAX];
	size_t dlen = slash == path ? 1 : (size_t)(slash - path);
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return -errno;
	int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", *dirfd,
			 slash + 1);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path)) {
		close(*dirfd);
		*dirfd = -1;
		return -ENAMETOOLONG;
	}
	return 0;
}

static int uds_call(int fd, const char *path, int is_bind)
{
	struct sockaddr_un sa;
	int dirfd;
	int r = uds_addr(path, &sa, &dirfd);
	if (r < 0)
		return r;
	r = is_bind ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) :
		      connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	r = r < 0 ? -errno : 0;
	if (dirfd >= 0)
		close(dirfd);
	return r;
}

int uds_bind(int fd, const char *path)
{
	return uds_call(fd, path, 1);
}

int uds_connect(int fd, const char *path)
{
	return uds_call(fd, path, 0);
}
