/*
 * Container setup in the container's own process (see setup.h). The order
 * follows what runc does: mounts inside the new root, default devices,
 * pivot_root, read-only root, hostname; later the process's attributes,
 * privileges last.
 */
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

/* --- paths inside the new root ---------------------------------------------- */

static int setup_openat2(int dirfd, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* Whether a component of path is "..". */
static bool setup_has_dotdot(const char *path)
{
	for (const char *p = strstr(path, ".."); p; p = strstr(p + 2, ".."))
		if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return true;
	return false;
}

/*
 * An O_PATH fd for `path` inside the root `rootfd`, symlinks resolved as if
 * rootfd were "/" (so nothing leads outside), missing directories made; the
 * last component made as an empty file when `file` is set.
 */
static int setup_open_in_root(int rootfd, const char *path, bool file, struct husk_err *e)
{
	char prefix[PATH_MAX];
	size_t plen = 0;

	/*
	 * Most destinations are there already: one lookup then, where the walk
	 * below takes one per component (each a system call, and under kvm_pvm
	 * each an emulated one).
	 */
	if (!setup_has_dotdot(path)) {
		int fd = setup_openat2(rootfd, path, O_PATH | (file ? 0 : O_DIRECTORY));
		if (fd >= 0)
			return fd;
	}
	int parent = dup(rootfd);

	if (parent < 0)
		return husk_err_set(e, errno, "dup: %s", strerror(errno));
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t n = strcspn(p, "/");
		bool last = p[n] == '\0' || p[n + strspn(p + n, "/")] == '\0';
		if ((n == 2 && !strncmp(p, "..", 2)) || plen + n + 2 >= sizeof(prefix)) {
			close(parent);
			return husk_err_set(e, EINVAL, "%s: not a clean absolute path", path);
		}
		prefix[plen++] = '/';
		memcpy(prefix + plen, p, n);
		plen += n;
		prefix[plen] = '\0';
		char comp[NAME_MAX + 1];
		snprintf(comp, sizeof(comp), "%.*s", (int)n, p);
		p += n;

		bool want_file = last && file;
		int fd = setup_openat2(rootfd, prefix, O_PATH | (want_file ? 0 : O_DIRECTORY));
		if (fd == -ENOENT) {
			int r = want_file ? openat(parent, comp,
						   O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644) :
					    mkdirat(parent, comp, 0755);
			if (r < 0 && errno != EEXIST) {
				int err = errno;
				close(parent);
				return husk_err_set(e, err, "create %s: %s", prefix, strerror(err));
			}
			if (want_file && r >= 0)
				close(r);
			fd = setup_openat2(rootfd, prefix, O_PATH | (want_file ? 0 : O_DIRECTORY));
		}
		close(parent);
		if (fd < 0)
			return husk_err_set(e, -fd, "%s: %s", prefix, strerror(-fd));
		parent = fd;
	}
	return parent;
}

/* --- mounts ------------------------------------------------------------------ */

/* mount(2) onto an O_PATH fd, through its /proc/self/fd link. */
static int setup_mount_fd(const char *src, int fd, const char *type, unsigned long flags,
			  const char *data)
{
	char target[64];
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	return mount(src, target, type, flags, data) < 0 ? -errno : 0;
}

#define SETUP_REMOUNT_FLAGS                                                                        \
	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | \
	 MS_STRICTATIME)

static int setup_one_mount(int rootfd, const struct spec_mount *m, struct husk_err *e)
{
	struct stat st;
	bool file = false;
	int r;

	if (m->bind) {
		if (!m->source)
			return husk_err_set(e, EINVAL, "mount %s: a bind mount needs a source",
					    m->destination);
		if (stat(m->source, &st) < 0)
			return husk_err_set(e, errno, "mount %s on %s: %s", m->source,
					    m->destination, strerror(errno));
		file = !S_ISDIR(st.st_mode);
	}
	int fd = setup_open_in_root(rootfd, m->destination, file, e);
	if (fd < 0)
		return husk_err_wrap(e, "mount %s", m->destination);
	if (m->bind) {
		r = setup_mount_fd(m->source, fd, NULL, MS_BIND | (m->flags & MS_REC), NULL);
	} else {
		/* the guest has only cgroup v2; v1 options ("cpu,cpuacct") mean nothing to it */
		bool v1 = !strcmp(m->type, "cgroup");
		const char *type = v1 ? "cgroup2" : m->type;
		r = setup_mount_fd(m->source ? m->source : type, fd, type,
				   m->flags & ~(unsigned long)(MS_BIND | MS_REC | MS_REMOUNT),
				   v1 ? NULL : m->data);
	}
	/*
	 * The fd is still the place under the new mount: changes to the mount
	 * itself (read-only and such for a bind, propagation) need its root.
	 */
	if (r == 0 && ((m->bind && (m->flags & SETUP_REMOUNT_FLAGS)) || m->propagation)) {
		close(fd);
		fd = setup_openat2(rootfd, m->destination, O_PATH);
		r = fd < 0 ? fd : 0;
	}
	if (r == 0 && m->bind && (m->flags & SETUP_REMOUNT_FLAGS))
		r = setup_mount_fd(NULL, fd, NULL,
				   MS_BIND | MS_REMOUNT | (m->flags & SETUP_REMOUNT_FLAGS), NULL);
	if (r == 0 && m->propagation)
		r = setup_mount_fd(NULL, fd, NULL, m->propagation, NULL);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return husk_err_set(e, -r, "mount %s on %s: %s", m->source ? m->source : m->type,
				    m->destination, strerror(-r));
	return 0;
}

/* Whether two absolute paths name the same place ("/dev/", "//dev", "/./dev", "/dev"). */
static bool setup_same_path(const char *a, const char *b)
{
	for (;;) {
		while (*a == '/' || (a[0] == '.' && (a[1] == '/' || !a[1])))
			a++;
		while (*b == '/' || (b[0] == '.' && (b[1] == '/' || !b[1])))
			b++;
		size_t n = strcspn(a, "/");
		if (n != strcspn(b, "/") || strncmp(a, b, n) != 0)
			return false;
		if (n == 0)
			return true;
		a += n;
		b += n;
	}
}

/* The last of the spec's mounts on `dest` (the one that shows), or NULL. */
static const struct spec_mount *setup_find_mount(const struct spec *s, const char *dest)
{
	const struct spec_mount *found = NULL;
	for (size_t i = 0; i < s->nmounts; i++)
		if (setup_same_path(s->mounts[i].destination, dest))
			found = &s->mounts[i];
	return found;
}

/*
 * A /dev for a spec that mounts none, before the spec's own mounts so that
 * theirs under /dev (/dev/pts, /dev/mqueue, ...) stay on top of it.
 */
static int setup_dev_tmpfs(int rootfd, const struct spec *s, struct husk_err *e)
{
	static const struct spec_mount dev = { .destination = "/dev",
					       .type = "tmpfs",
					       .source = "tmpfs",
					       .flags = MS_NOSUID | MS_STRICTATIME,
					       .data = "mode=755,size=65536k" };
	return setup_find_mount(s, "/dev") ? 0 : setup_one_mount(rootfd, &dev, e);
}

/*
 * A device node in the container's /dev, as the agent's devtmpfs has it
 * (same numbers, mode 0666), made with mknod as runc does outside a user
 * namespace: one system call where a bind mount takes several. Where that
 * cannot be (a /dev of the spec's own mounted nodev, a file already
 * there), the agent's node is bound over it instead.
 */
static int setup_dev_node(int rootfd, int devfd, const char *name, bool nodev, struct husk_err *e)
{
	char src[32];
	struct stat st;

	snprintf(src, sizeof(src), "/dev/%s", name);
	if (stat(src, &st) < 0)
		return husk_err_set(e, errno, "%s: %s", src, strerror(errno));
	if (!nodev && mknodat(devfd, name, S_IFCHR | 0666, st.st_rdev) == 0) {
		if (fchmodat(devfd, name, 0666, 0) == 0) /* whatever the umask */
			return 0;
		return husk_err_set(e, errno, "%s: %s", src, strerror(errno));
	}
	struct spec_mount m = { .destination = src, .source = src, .bind = true, .flags = MS_BIND };
	return setup_one_mount(rootfd, &m, e);
}

/*
 * What runc gives a container whose /dev is not bound from elsewhere: a
 * devpts instance and /dev/shm unless the spec mounts its own, the usual
 * device nodes, the standard links, and for a process with a terminal an
 * empty /dev/console that setup_terminal binds its pty onto.
 */
static int setup_dev(int rootfd, const struct spec *s, struct husk_err *e)
{
	static const char *const devs[] = { "null", "zero", "full", "random", "urandom", "tty" };
	static const char *const links[][2] = { { "/proc/self/fd", "fd" },
						{ "/proc/self/fd/0", "stdin" },
						{ "/proc/self/fd/1", "stdout" },
						{ "/proc/self/fd/2", "stderr" },
						{ "pts/ptmx", "ptmx" } };
	static const struct spec_mount pts = { .destination = "/dev/pts",
					       .type = "devpts",
					       .source = "devpts",
					       .flags = MS_NOSUID | MS_NOEXEC,
					       .data = "newinstance,ptmxmode=0666,mode=0620" };
	static const struct spec_mount shm = { .destination = "/dev/shm",
					       .type = "tmpfs",
					       .source = "shm",
					       .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV,
					       .data = "mode=1777,size=65536k" };
	const struct spec_mount *dev = setup_find_mount(s, "/dev");
	const struct spec_mount *proc = setup_find_mount(s, "/proc");
	int r = 0;

	if (dev && dev->bind)
		return 0; /* the devices are whatever was bound there */
	if (!setup_find_mount(s, "/dev/pts") && (r = setup_one_mount(rootfd, &pts, e)) < 0)
		return r;
	if (!setup_find_mount(s, "/dev/shm") && (r = setup_one_mount(rootfd, &shm, e)) < 0)
		return r;
	int devfd = setup_open_in_root(rootfd, "/dev", false, e);
	if (devfd < 0)
		return husk_err_wrap(e, "/dev");
	for (size_t i = 0; r == 0 && i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][0], devfd, links[i][1]) < 0 && errno != EEXIST)
			r = husk_err_set(e, errno, "/dev/%s: %s", links[i][1], strerror(errno));
	if (r == 0 && proc && !proc->bind && !strcmp(proc->type, "proc") &&
	    symlinkat("/proc/kcore", devfd, "core") < 0 && errno != EEXIST)
		r = husk_err_set(e, errno, "/dev/core: %s", strerror(errno));
	if (r == 0 && s->process.terminal) {
		int fd =
			openat(devfd, "console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			r = husk_err_set(e, errno, "/dev/console: %s", strerror(errno));
		else
			close(fd);
	}
	for (size_t i = 0; r == 0 && i < sizeof(devs) / sizeof(devs[0]); i++)
		r = setup_dev_node(rootfd, devfd, devs[i], dev && (dev->flags & MS_NODEV), e);
	close(devfd);
	return r;
}

/* The flags a read-only remount of "/" must keep (locked ones included). */
static unsigned long setup_vfs_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/*
 * pivot_root(2) fails with EINVAL while the current root is the initramfs
 * (rootfs has no parent mount and cannot be unmounted): the agent must run
 * on a root that is an ordinary mount, which it arranges at start-up by
 * moving itself onto a tmpfs (init_filesystems).
 */
int setup_rootfs(const struct spec *s, const char *rootfs, struct husk_err *e)
{
	int r;

	/* nothing of what follows may propagate back to the agent's mounts */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return husk_err_set(e, errno, "making the mounts private: %s", strerror(errno));
	/* pivot_root wants the new root to be a mount point */
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return husk_err_set(e, errno, "bind %s: %s", rootfs, strerror(errno));
	int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return husk_err_set(e, errno, "%s: %s", rootfs, strerror(errno));
	r = setup_dev_tmpfs(rootfd, s, e);
	for (size_t i = 0; r == 0 && i < s->nmounts; i++)
		r = setup_one_mount(rootfd, &s->mounts[i], e);
	if (r == 0)
		r = setup_dev(rootfd, s, e);
	close(rootfd);
	if (r < 0)
		return r;

	/* the old root ends up stacked under the new one at "/": detach it */
	if (chdir(rootfs) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return husk_err_set(e, errno, "pivot_root into %s: %s", rootfs, strerror(errno));
	if (s->root_readonly &&
	    mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | setup_vfs_flags("/"), NULL) <
		    0)
		return husk_err_set(e, errno, "read-only root: %s", strerror(errno));
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return husk_err_set(e, errno, "hostname %s: %s", s->hostname, strerror(errno));
	return 0;
}
