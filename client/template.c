/*
 * The template cache (see template.h): a template is used under its key's
 * shared flock, and built, replaced or removed under the exclusive one.
 */
#include "template.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "husk/cleanup.h"
#include "husk/path.h"

/* A file tree under a directory: its children, each depth first (what rm -r and du need). */
static int tpl_walk_at(int dfd, int depth, uint64_t *bytes, bool remove)
{
	DIR *d = fdopendir(dfd);
	int r = 0;

	if (!d) {
		close(dfd);
		return -errno;
	}
	for (struct dirent *de; (de = readdir(d));) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT && !r)
				r = -errno;
			continue;
		}
		if (bytes)
			*bytes += (uint64_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode) && depth < 16) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int s = sub < 0 ? -errno : tpl_walk_at(sub, depth + 1, bytes, remove);
			if (s < 0 && s != -ENOENT && !r)
				r = s;
		}
		if (remove &&
		    unlinkat(dirfd(d), de->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 &&
		    errno != ENOENT && !r)
			r = -errno;
	}
	closedir(d);
	return r;
}

/* rm -rf path (a directory); 0 when it is gone. */
static int tpl_rm_rf(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	int r = tpl_walk_at(fd, 0, NULL, true);
	if (rmdir(path) < 0 && errno != ENOENT && !r)
		r = -errno;
	return r;
}

static int tpl_fsync_path(const char *path, int flags)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	return fd < 0 || fsync(fd) < 0 ? -errno : 0;
}

/* fsync a new template's files and then its directory, before it is renamed into place. */
static int tpl_fsync_tree(const char *dir)
{
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return -errno;
	for (struct dirent *de; (de = readdir(d)) && !r;) {
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
		else if (S_ISREG(st.st_mode)) {
			cleanup_close int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || fsync(fd) < 0)
				r = -errno;
		}
	}
	closedir(d);
	return r ? r : tpl_fsync_path(dir, O_DIRECTORY);
}

/*
 * The key's lock, taken (LOCK_SH or LOCK_EX) on the file that is at the
 * path once it is held: a remover unlinks the lock file under the lock, so
 * a waiter may find itself holding the lock of a file no longer there, and
 * then takes the new one.
 */
static int tpl_lock(const char *cache, const char *name, int op, int *fd_out, struct husk_err *e)
{
	char path[PATH_MAX];

	if (path_fmt(e, path, sizeof(path), "%s/%s.lock", cache, name) < 0)
		return -e->code;
	for (;;) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return husk_err_set(e, errno, "%s: %s", path, strerror(errno));
		int r;
		while ((r = flock(fd, op)) < 0 && errno == EINTR)
			;
		if (r < 0 || fstat(fd, &a) < 0) {
			int err = errno;
			close(fd);
			return husk_err_set(e, err, "%s: %s", path, strerror(err));
		}
		if (stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			*fd_out = fd;
			return 0;
		}
		close(fd);
	}
}

/* Remove NAME.tmp-* and NAME.old-* (the exclusive lock held: no build is running). */
static int tpl_clean_leftovers(const char *cache, const char *name, struct husk_err *e)
{
	char tmp[TPL_NAME_MAX + 8], old[TPL_NAME_MAX + 8], path[PATH_MAX];
	DIR *d = opendir(cache);
	int r = 0;

	if (!d)
		return husk_err_set(e, errno, "%s: %s", cache, strerror(errno));
	snprintf(tmp, sizeof(tmp), "%s.tmp-", name);
	snprintf(old, sizeof(old), "%s.old-", name);
	for (struct dirent *de; (de = readdir(d)) && !r;) {
		if (strncmp(de->d_name, tmp, strlen(tmp)) && strncmp(de->d_name, old, strlen(old)))
			continue;
		if ((r = path_fmt(e, path, sizeof(path), "%s/%s", cache, de->d_name)) == 0 &&
		    (r = tpl_rm_rf(path)) < 0)
			husk_err_set(e, -r, "%s: %s", path, strerror(-r));
	}
	closedir(d);
	return r;
}

/* Move CACHE/NAME aside (NAME.old-PID, atomic) and remove it there. */
static int tpl_discard(const char *cache, const char *name, struct husk_err *e)
{
	char dir[PATH_MAX], old[PATH_MAX];

	if (path_fmt(e, dir, sizeof(dir), "%s/%s", cache, name) < 0 ||
	    path_fmt(e, old, sizeof(old), "%s/%s.old-%d", cache, name, (int)getpid()) < 0)
		return -e->code;
	if (rename(dir, old) < 0)
		return husk_err_set(e, errno, "%s: %s", dir, strerror(errno));
	int r = tpl_rm_rf(old);
	return r < 0 ? husk_err_set(e, -r, "%s: %s", old, strerror(-r)) : 0;
}

/* A template's form (a directory with its two files), then the caller's check. */
static int tpl_check(const struct tpl_ops *ops, void *ctx, const char *dir, struct husk_err *e)
{
	static const char *const files[] = { TPL_STATE_FILE, TPL_MEMORY_FILE };
	char path[PATH_MAX];
	struct stat st;

	if (lstat(dir, &st) < 0)
		return husk_err_set(e, errno, "%s", strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return husk_err_set(e, ENOTDIR, "not a directory");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (path_fmt(e, path, sizeof(path), "%s/%s", dir, files[i]) < 0)
			return -e->code;
		if (lstat(path, &st) < 0)
			return husk_err_set(e, errno, "%s: %s", files[i], strerror(errno));
		if (!S_ISREG(st.st_mode))
			return husk_err_set(e, EINVAL, "%s: not a regular file", files[i]);
	}
	return ops->check ? ops->check(ctx, dir, e) : 0;
}

static void tpl_log(const struct tpl_ops *ops, void *ctx, const char *line)
{
	if (ops->log)
		ops->log(ctx, line);
	else
		fprintf(stderr, "husk: %s\n", line);
}

/* Build into NAME.tmp-PID, check, fsync, rename to dir; nothing left on failure. */
static int tpl_build(const char *cache, const char *name, const char *dir,
		     const struct tpl_ops *ops, void *ctx, struct husk_err *e)
{
	char tmp[PATH_MAX];
	int r;

	if (path_fmt(e, tmp, sizeof(tmp), "%s/%s.tmp-%d", cache, name, (int)getpid()) < 0)
		return -e->code;
	if (mkdir(tmp, 0700) < 0)
		return husk_err_set(e, errno, "%s: %s", tmp, strerror(errno));
	if ((r = ops->build(ctx, tmp, e)) < 0) {
		husk_err_wrap(e, "template %s: build", name);
	} else if ((r = tpl_check(ops, ctx, tmp, e)) < 0) {
		husk_err_wrap(e, "template %s: the new build fails its check", name);
	} else if ((r = tpl_fsync_tree(tmp)) < 0) {
		husk_err_set(e, -r, "template %s: fsync: %s", name, strerror(-r));
	} else if (rename(tmp, dir) < 0) {
		r = husk_err_set(e, errno, "template %s: rename: %s", name, strerror(errno));
	} else if ((r = tpl_fsync_path(cache, O_DIRECTORY)) < 0) {
		/* in place and good; only its durability is in doubt: say so, keep it */
		husk_err_set(e, -r, "template %s: fsync %s: %s", name, cache, strerror(-r));
		return r;
	} else {
		return 0;
	}
	tpl_rm_rf(tmp);
	return r < 0 ? r : -EIO;
}

/* The caller's use of a good template, its lock (lockfd) held; the lock file's mtime says when. */
static int tpl_use(const struct tpl_ops *ops, void *ctx, const char *name, const char *dir,
		   int lockfd, struct husk_err *e)
{
	futimens(lockfd, NULL); /* best effort: only the pruning order depends on it */
	int r = ops->use ? ops->use(ctx, dir, e) : 0;
	return r < 0 ? husk_err_wrap(e, "template %s", name) : 0;
}

int tpl_acquire(const char *cache, const char *name, const struct tpl_ops *ops, void *ctx,
		char *dir_out, size_t n, bool *built, struct husk_err *e)
{
	cleanup_close int fd = -1;
	struct husk_err why = { 0 };
	struct stat st;
	int r;

	if (built)
		*built = false;
	if (!tpl_name_valid(name))
		return husk_err_set(e, EINVAL, "template name \"%s\": [A-Za-z0-9_-], 1 to %d",
				    name ? name : "", TPL_NAME_MAX);
	if (!ops || !ops->build)
		return husk_err_set(e, EINVAL, "template %s: no build", name);
	if (path_fmt(e, dir_out, n, "%s/%s", cache, name) < 0)
		return husk_err_wrap(e, "template %s", name);

	/* a good template is used under the shared lock: its users do not wait on each other */
	if ((r = tpl_lock(cache, name, LOCK_SH, &fd, e)) < 0)
		return husk_err_wrap(e, "template %s", name);
	if (tpl_check(ops, ctx, dir_out, &why) == 0)
		return tpl_use(ops, ctx, name, dir_out, fd, e);
	close(fd); /* flock cannot be upgraded atomically: let go, and look again after */
	fd = -1;
	if ((r = tpl_lock(cache, name, LOCK_EX, &fd, e)) < 0 ||
	    (r = tpl_clean_leftovers(cache, name, e)) < 0)
		return husk_err_wrap(e, "template %s", name);
	if (lstat(dir_out, &st) == 0) {
		char line[HUSK_ERR_MSG_MAX + TPL_NAME_MAX + 32];
		why = (struct husk_err){ 0 };
		/* built while this one waited? */
		if (tpl_check(ops, ctx, dir_out, &why) == 0)
			return tpl_use(ops, ctx, name, dir_out, fd, e);
		snprintf(line, sizeof(line), "template %s: %s; rebuilding", name, why.msg);
		tpl_log(ops, ctx, line);
		if ((r = tpl_discard(cache, name, e)) < 0)
			return husk_err_wrap(e, "template %s", name);
	} else if (errno != ENOENT) {
		return husk_err_set(e, errno, "template %s: %s", dir_out, strerror(errno));
	}
	if ((r = tpl_build(cache, name, dir_out, ops, ctx, e)) < 0)
		return r;
	if (built)
		*built = true;
	r = tpl_use(ops, ctx, name, dir_out, fd, e);
	tpl_prune(cache, TPL_KEEP, name);
	return r;
}

int tpl_list(const char *cache, int (*fn)(void *ctx, const struct tpl_entry *t), void *ctx,
	     struct husk_err *e)
{
	cleanup_close int fd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent **list;
	int n = fd < 0 ? -1 : scandir(cache, &list, NULL, alphasort), r = 0;

	if (n < 0)
		return husk_err_set(e, errno, "%s: %s", cache, strerror(errno));
	for (int i = 0; i < n; i++) {
		struct stat st;
		const char *name = list[i]->d_name;
		if (r || !tpl_name_valid(name))
			continue;
		if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue; /* removed meanwhile, or not a template */
		struct tpl_entry t = { .name = name,
				       .bytes = (uint64_t)st.st_blocks * 512,
				       .mtime = st.st_mtime };
		int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			tpl_walk_at(sub, 0, &t.bytes, false);
		r = fn(ctx, &t);
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return r;
}

/*
 * Remove one key's template, leftovers and lock file; *had: a template was
 * there. lockop: LOCK_EX, or LOCK_EX | LOCK_NB to give up (-EWOULDBLOCK)
 * on a key in use.
 */
static int tpl_remove_key(const char *cache, const char *name, int lockop, bool *had,
			  struct husk_err *e)
{
	char dir[PATH_MAX], lock[PATH_MAX];
	cleanup_close int fd = -1;
	struct stat st;
	int r = 0;

	*had = false;
	if (path_fmt(e, dir, sizeof(dir), "%s/%s", cache, name) < 0 ||
	    path_fmt(e, lock, sizeof(lock), "%s/%s.lock", cache, name) < 0 ||
	    tpl_lock(cache, name, lockop, &fd, e) < 0 || tpl_clean_leftovers(cache, name, e) < 0)
		return husk_err_wrap(e, "template %s", name);
	if (lstat(dir, &st) == 0) {
		*had = true;
		r = tpl_discard(cache, name, e);
	} else if (errno != ENOENT) {
		r = husk_err_set(e, errno, "%s: %s", dir, strerror(errno));
	}
	unlink(lock); /* under the lock: waiters find it gone and take a new one */
	return r < 0 ? husk_err_wrap(e, "template %s", name) : 0;
}

int tpl_remove(const char *cache, const char *name, struct husk_err *e)
{
	bool had;

	if (!tpl_name_valid(name))
		return husk_err_set(e, ENOENT, "no template %s", name ? name : "");
	int r = tpl_remove_key(cache, name, LOCK_EX, &had, e);
	if (r == 0 && !had)
		return husk_err_set(e, ENOENT, "no template %s", name);
	return r;
}

int tpl_remove_all(const char *cache, unsigned *removed, struct husk_err *e)
{
	struct dirent **list;
	int n = scandir(cache, &list, NULL, alphasort), r = 0;

	*removed = 0;
	if (n < 0)
		return husk_err_set(e, errno, "%s: %s", cache, strerror(errno));
	for (int i = 0; i < n; i++) {
		char name[TPL_NAME_MAX + 1];
		const char *dot = strchr(list[i]->d_name, '.');
		size_t len = dot ? (size_t)(dot - list[i]->d_name) : strlen(list[i]->d_name);
		bool had;
		/* every key with a file here: the template, its lock, its leftovers */
		if (r || len == 0 || len > TPL_NAME_MAX)
			continue;
		memcpy(name, list[i]->d_name, len);
		name[len] = '\0';
		if (!tpl_name_valid(name))
			continue;
		if ((r = tpl_remove_key(cache, name, LOCK_EX, &had, e)) == 0 && had)
			(*removed)++;
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return r;
}

/* What tpl_prune knows of one template. */
struct tpl_age {
	char name[TPL_NAME_MAX + 1];
	struct timespec used;
};

struct tpl_ages {
	struct tpl_age *v;
	size_t n, cap;
	const char *cache, *spare;
};

static int tpl_age_add(void *ctx, const struct tpl_entry *t)
{
	struct tpl_ages *a = ctx;
	char lock[PATH_MAX];
	struct stat st;

	if (a->spare && !strcmp(t->name, a->spare))
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct tpl_age *v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	struct tpl_age *g = &a->v[a->n++];
	snprintf(g->name, sizeof(g->name), "%s", t->name);
	/* never used since it was put in place: its directory's time */
	g->used = (struct timespec){ .tv_sec = t->mtime };
	if (snprintf(lock, sizeof(lock), "%s/%s.lock", a->cache, t->name) < (int)sizeof(lock) &&
	    stat(lock, &st) == 0)
		g->used = st.st_mtim;
	return 0;
}

static int tpl_age_cmp(const void *x, const void *y)
{
	const struct tpl_age *a = x, *b = y;
	if (a->used.tv_sec != b->used.tv_sec)
		return a->used.tv_sec < b->used.tv_sec ? -1 : 1;
	if (a->used.tv_nsec != b->used.tv_nsec)
		return a->used.tv_nsec < b->used.tv_nsec ? -1 : 1;
	return strcmp(a->name, b->name);
}

unsigned tpl_prune(const char *cache, unsigned keep, const char *spare)
{
	struct tpl_ages a = { .cache = cache, .spare = spare };
	struct husk_err e = { 0 };
	unsigned removed = 0;

	if (tpl_list(cache, tpl_age_add, &a, &e) < 0) {
		free(a.v);
		return 0;
	}
	size_t total = a.n + (spare != NULL);
	if (a.n)
		qsort(a.v, a.n, sizeof(*a.v), tpl_age_cmp);
	for (size_t i = 0; i < a.n && total - removed > keep; i++) {
		bool had;
		e = (struct husk_err){ 0 };
		if (tpl_remove_key(cache, a.v[i].name, LOCK_EX | LOCK_NB, &had, &e) == 0 && had)
			removed++;
	}
	free(a.v);
	return removed;
}
