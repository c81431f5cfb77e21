/* Entering and leaving network namespaces, and the container's at create (see netns.h). */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "husk/path.h"

int netns_enter_path(const char *path, int *saved, struct husk_err *e)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return husk_err_set(e, errno, "open /proc/thread-self/ns/net: %s", strerror(errno));
	int target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		int err = errno;
		close(self);
		return husk_err_set(e, err, "network namespace %s: %s", path, strerror(err));
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		int err = errno;
		close(self);
		close(target);
		return husk_err_set(e, err, "enter network namespace %s: %s", path, strerror(err));
	}
	close(target);
	*saved = self;
	return 0;
}

int netns_enter_pid(pid_t pid, int *saved, struct husk_err *e)
{
	char path[64];
	if (pid <= 0)
		return husk_err_set(e, EINVAL, "no network namespace for pid %d", (int)pid);
	path_fmt(NULL, path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return netns_enter_path(path, saved, e);
}

int netns_leave(int *saved, struct husk_err *e)
{
	if (*saved < 0)
		return 0;
	int r = setns(*saved, CLONE_NEWNET);
	int err = errno;
	close(*saved);
	*saved = -1;
	if (r < 0)
		return husk_err_set(e, err, "return to the original network namespace: %s",
				    strerror(err));
	return 0;
}

void netns_leavep(int *saved)
{
	struct husk_err e = { 0 };
	if (netns_leave(saved, &e) < 0) {
		fprintf(stderr, "husk: %s\n", e.msg);
		abort();
	}
}

int netns_same(const char *a, const char *b, struct husk_err *e)
{
	struct stat sa, sb;
	if (stat(a, &sa) < 0)
		return husk_err_set(e, errno, "network namespace %s: %s", a, strerror(errno));
	if (stat(b, &sb) < 0)
		return husk_err_set(e, errno, "network namespace %s: %s", b, strerror(errno));
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int netns_is_host(const char *path, struct husk_err *e)
{
	struct stat st;
	const char *host = NETNS_HOST_PATH;
	if (stat(host, &st) < 0 && (errno == EACCES || errno == EPERM))
		host = NETNS_SELF_PATH;
	return netns_same(path, host, e);
}

int netns_open_spec(const struct spec *s, int *fd, struct husk_err *e)
{
	*fd = -1;
	if (!(s->namespaces & CLONE_NEWNET))
		return husk_err_set(e, EOPNOTSUPP, NETNS_HOST_REFUSAL);
	if (!s->net_ns_path)
		return 0;
	int nfd = open(s->net_ns_path, O_RDONLY | O_CLOEXEC);
	if (nfd < 0)
		return husk_err_set(e, errno, "network namespace %s: %s", s->net_ns_path,
				    strerror(errno));
	if (ioctl(nfd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(nfd);
		return husk_err_set(e, EINVAL, "%s is not a network namespace", s->net_ns_path);
	}
	int host = netns_is_host(s->net_ns_path, e);
	if (host != 0) {
		close(nfd);
		return host < 0 ? host : husk_err_set(e, EOPNOTSUPP, NETNS_HOST_REFUSAL);
	}
	*fd = nfd;
	return 0;
}

int netns_join(int fd, struct husk_err *e)
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
