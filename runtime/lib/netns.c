/* The container's network namespace on the host (see netns.h). */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The host's network namespace: init's, and husk's own (the engine runs
 * husk in the host's; init's may be out of reach in a container or sandbox).
 */
static bool netns_is_host(const struct stat *ns)
{
	static const char *const host[] = { "/proc/1/ns/net", "/proc/self/ns/net" };
	struct stat st;

	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++)
		if (stat(host[i], &st) == 0 && st.st_dev == ns->st_dev && st.st_ino == ns->st_ino)
			return true;
	return false;
}

int netns_open(const struct spec *s, int *fd, struct husk_err *e)
{
	struct stat st;

	*fd = -1;
	if (!(s->namespaces & CLONE_NEWNET))
		return husk_err_set(e, EOPNOTSUPP, NETNS_HOST_REFUSAL);
	if (!s->net_ns_path)
		return 0;
	int nfd = open(s->net_ns_path, O_RDONLY | O_CLOEXEC);
	if (nfd < 0)
		return husk_err_set(e, errno, "network namespace %s: %s", s->net_ns_path,
				    strerror(errno));
	if (fstat(nfd, &st) < 0 || ioctl(nfd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(nfd);
		return husk_err_set(e, EINVAL, "%s is not a network namespace", s->net_ns_path);
	}
	if (netns_is_host(&st)) {
		close(nfd);
		return husk_err_set(e, EOPNOTSUPP, NETNS_HOST_REFUSAL);
	}
	*fd = nfd;
	return 0;
}

int netns_enter(int fd, struct husk_err *e)
{
	if (fd >= 0 && setns(fd, CLONE_NEWNET) < 0)
		return husk_err_set(e, errno, "joining the container's network namespace: %s",
				    strerror(errno));
	if (fd < 0 && unshare(CLONE_NEWNET) < 0) {
		int err = errno;
		return husk_err_set(
			e, err, "a network namespace for the container: %s%s", strerror(err),
			err == EPERM ? " (husk needs CAP_SYS_ADMIN: run it as root)" : "");
	}
	return 0;
}
