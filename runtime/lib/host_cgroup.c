/* The host cgroup of a container's VM (see host_cgroup.h). */
#include "host_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HCG_PATH_MAX	1024
#define HCG_MOUNTS_MAX	32
#define HCG_DIR_MAX	(PATH_MAX + HCG_PATH_MAX + 8)
#define HCG_RMDIR_TRIES 50 /* 20 ms apart: the VM's last threads are leaving */

struct hcg_mount {
	char dir[PATH_MAX];
	char dev[32]; /* major:minor, to see a hierarchy mounted twice once */
	bool v2;
	bool memory, cpu, cpuset; /* v1: the controllers bound to it */
};

struct hcg_mounts {
	struct hcg_mount m[HCG_MOUNTS_MAX];
	unsigned n;
};

static bool hcg_has_opt(const char *opts, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = opts; (p = strstr(p, name)); p += len)
		if ((p == opts || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
			return true;
	return false;
}

/* The cgroup mounts in a mountinfo file: "ID PARENT DEV ROOT DIR OPTS ... - TYPE SRC SUPER". */
static int hcg_mounts_read(const char *mountinfo, struct hcg_mounts *ms, struct husk_err *e)
{
	FILE *f = fopen(mountinfo, "re");
	char line[4096];

	ms->n = 0;
	if (!f)
		return husk_err_set(e, errno, "%s: %s", mountinfo, strerror(errno));
	while (fgets(line, sizeof(line), f) && ms->n < HCG_MOUNTS_MAX) {
		char dev[32], dir[PATH_MAX], type[32], super[1024];
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %31s %*s %4095s", dev, dir) != 2 ||
		    sscanf(sep + 3, "%31s %*s %1023s", type, super) != 2)
			continue;
		bool v2 = !strcmp(type, "cgroup2");
		if (!v2 && strcmp(type, "cgroup"))
			continue;
		bool seen = false;
		for (unsigned i = 0; i < ms->n; i++)
			seen = seen || !strcmp(ms->m[i].dev, dev);
		if (seen)
			continue;
		struct hcg_mount *m = &ms->m[ms->n++];
		snprintf(m->dir, sizeof(m->dir), "%s", dir);
		snprintf(m->dev, sizeof(m->dev), "%s", dev);
		m->v2 = v2;
		m->memory = !v2 && hcg_has_opt(super, "memory");
		m->cpu = !v2 && hcg_has_opt(super, "cpu");
		m->cpuset = !v2 && hcg_has_opt(super, "cpuset");
	}
	fclose(f);
	if (ms->n == 0)
		return husk_err_set(e, ENOENT, "no cgroup hierarchy is mounted on this host");
	return 0;
}

int hcg_check_path(const char *path, struct husk_err *e)
{
	if (path[0] != '/')
		return husk_err_set(e, EINVAL, "linux.cgroupsPath \"%.64s\": not an absolute path",
				    path);
	if (strlen(path) > HCG_PATH_MAX)
		return husk_err_set(e, ENAMETOOLONG, "linux.cgroupsPath: longer than %d bytes",
				    HCG_PATH_MAX);
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
			return husk_err_set(e, EINVAL, "linux.cgroupsPath \"%.64s\": holds \"..\"",
					    path);
	return 0;
}

int hcg_path_from_spec(const char *spec_path, char *out, size_t len, struct husk_err *e)
{
	const char *c1 = strchr(spec_path, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	size_t n = 0;

	if (!c1) {
		if ((size_t)snprintf(out, len, "%s%s", spec_path[0] == '/' ? "" : "/", spec_path) >=
		    len)
			return husk_err_set(e, ENAMETOOLONG, "linux.cgroupsPath: too long");
		return hcg_check_path(out, e);
	}
	if (!c2 || strchr(c2 + 1, ':') || c2 == c1 + 1 || !c2[1] || strchr(spec_path, '/'))
		return husk_err_set(e, EINVAL, "linux.cgroupsPath \"%.64s\": not SLICE:PREFIX:NAME",
				    spec_path);
	/* the slice: "a-b.slice" lives in "a.slice/a-b.slice"; "" and "-.slice" are the root */
	size_t slen = (size_t)(c1 - spec_path);
	const char *slice = slen ? spec_path : "-.slice";
	if (!slen)
		slen = strlen(slice);
	if (slen < 6 || strncmp(slice + slen - 6, ".slice", 6))
		return husk_err_set(e, EINVAL, "linux.cgroupsPath: \"%.*s\" is not a .slice",
				    (int)slen, slice);
	if (strncmp(slice, "-.slice", slen)) {
		for (size_t i = 0; i <= slen - 6; i++) {
			if (i < slen - 6 && slice[i] != '-')
				continue;
			if (i == 0 || slice[i - 1] == '-')
				return husk_err_set(e, EINVAL,
						    "linux.cgroupsPath: bad slice \"%.*s\"",
						    (int)slen, slice);
			n += (size_t)snprintf(out + n, n < len ? len - n : 0, "/%.*s.slice", (int)i,
					      slice);
		}
	}
	n += (size_t)snprintf(out + n, n < len ? len - n : 0, "/%.*s-%s.scope", (int)(c2 - c1 - 1),
			      c1 + 1, c2 + 1);
	if (n >= len)
		return husk_err_set(e, ENAMETOOLONG, "linux.cgroupsPath: too long");
	return hcg_check_path(out, e);
}

static int hcg_write(const char *dir, const char *file, const char *value, struct husk_err *e)
{
	char path[HCG_DIR_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC | O_CREAT, 0644);
	if (fd < 0)
		return husk_err_set(e, errno, "%s: %s", path, strerror(errno));
	ssize_t n = write(fd, value, strlen(value));
	int err = n < 0 ? errno : 0;
	close(fd);
	if (n != (ssize_t)strlen(value))
		return husk_err_set(e, err ? err : EIO, "%s: cannot write \"%s\": %s", path, value,
				    strerror(err ? err : EIO));
	return 0;
}

static bool hcg_exists(const char *dir, const char *file)
{
	char path[HCG_DIR_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

/* A new cpuset cgroup has no CPUs or memory nodes until it is given its parent's. */
static int hcg_cpuset_inherit(const char *parent, const char *dir, struct husk_err *e)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	for (size_t i = 0; i < 2; i++) {
		char path[HCG_DIR_MAX + 64], value[4096];
		snprintf(path, sizeof(path), "%s/%s", parent, files[i]);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		size_t n = fread(value, 1, sizeof(value) - 1, f);
		fclose(f);
		value[n] = '\0';
		value[strcspn(value, "\n")] = '\0';
		int r = value[0] ? hcg_write(dir, files[i], value, e) : 0;
		if (r < 0)
			return r;
	}
	return 0;
}

/* cgroup2: let the children of `dir` have the cpu and memory controllers where it can. */
static void hcg_v2_delegate(const char *dir)
{
	static const char *const ctls[] = { "+cpu", "+memory", "+pids" };
	for (size_t i = 0; i < 3; i++) {
		struct husk_err ignored = { 0 };
		/* refused where a controller is absent or bound to cgroup v1: that is fine */
		hcg_write(dir, "cgroup.subtree_control", ctls[i], &ignored);
	}
}

/*
 * mkdir -p MOUNT/PATH; *made is how many of its components were made (so
 * that a failure removes only those).
 */
static int hcg_make(const struct hcg_mount *m, const char *path, unsigned *made, struct husk_err *e)
{
	char dir[HCG_DIR_MAX], parent[HCG_DIR_MAX];
	size_t base = (size_t)snprintf(dir, sizeof(dir), "%s", m->dir);
	const char *p = path;

	*made = 0;
	while (*p) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (!len)
			break;
		memcpy(parent, dir, base + 1);
		if (m->v2)
			hcg_v2_delegate(parent);
		snprintf(dir + base, sizeof(dir) - base, "/%.*s", (int)len, p);
		base += len + 1;
		p += len;
		if (mkdir(dir, 0755) == 0) {
			(*made)++;
			int r = m->cpuset ? hcg_cpuset_inherit(parent, dir, e) : 0;
			if (r < 0)
				return r;
		} else if (errno != EEXIST) {
			return husk_err_set(e, errno, "%s: %s", dir, strerror(errno));
		} else if (*made) {
			return husk_err_set(e, EEXIST, "%s: made by somebody else meanwhile", dir);
		}
	}
	return 0;
}

/* Remove the last `levels` directories of MOUNT/PATH, deepest first. */
static void hcg_unmake(const struct hcg_mount *m, const char *path, unsigned levels)
{
	char dir[HCG_DIR_MAX];
	snprintf(dir, sizeof(dir), "%s%s", m->dir, path);
	for (unsigned i = 0; i < levels; i++) {
		for (int t = 0; rmdir(dir) < 0 && errno == EBUSY && t < HCG_RMDIR_TRIES; t++) {
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
		}
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir + strlen(m->dir))
			break;
		*slash = '\0';
	}
}

/* The limits into one hierarchy; *memory_set and *cpu_set say where they went. */
static int hcg_apply(const struct hcg_mount *m, const char *dir, const struct hcg_limits *l,
		     bool *memory_set, bool *cpu_set, struct husk_err *e)
{
	char v[64];
	uint64_t period = l->cpu_period ? l->cpu_period : 100000;
	int r = 0;

	if (l->memory && (m->memory || (m->v2 && hcg_exists(dir, "memory.max")))) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->memory);
		if ((r = hcg_write(dir, m->v2 ? "memory.max" : "memory.limit_in_bytes", v, e)) < 0)
			return r;
		*memory_set = true;
	}
	bool cpu = m->cpu || (m->v2 && hcg_exists(dir, "cpu.max"));
	if (cpu && (l->cpu_quota >= 0 || l->cpu_period)) {
		if (m->v2) {
			if (l->cpu_quota > 0)
				snprintf(v, sizeof(v), "%lld %llu", (long long)l->cpu_quota,
					 (unsigned long long)period);
			else
				snprintf(v, sizeof(v), "max %llu", (unsigned long long)period);
			r = hcg_write(dir, "cpu.max", v, e);
		} else {
			snprintf(v, sizeof(v), "%llu", (unsigned long long)period);
			r = hcg_write(dir, "cpu.cfs_period_us", v, e);
			snprintf(v, sizeof(v), "%lld",
				 l->cpu_quota > 0 ? (long long)l->cpu_quota : -1LL);
			if (r == 0)
				r = hcg_write(dir, "cpu.cfs_quota_us", v, e);
		}
		if (r < 0)
			return r;
		*cpu_set = true;
	}
	if (cpu && l->cpu_shares) {
		/* cgroup2's weight from v1 shares, the mapping runc and crun use */
		uint64_t s = l->cpu_shares < 2	    ? 2 :
			     l->cpu_shares > 262144 ? 262144 :
						      l->cpu_shares;
		snprintf(v, sizeof(v), "%llu",
			 m->v2 ? (unsigned long long)(1 + ((s - 2) * 9999) / 262142) :
				 (unsigned long long)s);
		if ((r = hcg_write(dir, m->v2 ? "cpu.weight" : "cpu.shares", v, e)) < 0)
			return r;
		*cpu_set = true;
	}
	return 0;
}

static int hcg_apply_all(const struct hcg_mounts *ms, const char *path, const struct hcg_limits *l,
			 struct husk_err *e)
{
	bool memory_set = false, cpu_set = false;
	for (unsigned i = 0; i < ms->n; i++) {
		char dir[HCG_DIR_MAX];
		snprintf(dir, sizeof(dir), "%s%s", ms->m[i].dir, path);
		int r = hcg_apply(&ms->m[i], dir, l, &memory_set, &cpu_set, e);
		if (r < 0)
			return r;
	}
	if (l->memory && !memory_set)
		return husk_err_set(e, EOPNOTSUPP, "no memory cgroup controller on this host");
	if ((l->cpu_quota > 0 || l->cpu_shares) && !cpu_set)
		return husk_err_set(e, EOPNOTSUPP, "no cpu cgroup controller on this host");
	return 0;
}

int hcg_join(const char *mountinfo, const char *path, pid_t pid, const struct hcg_limits *l,
	     struct husk_err *e)
{
	struct hcg_mounts ms;
	unsigned made[HCG_MOUNTS_MAX] = { 0 }, i;
	char v[32];
	int r;

	if ((r = hcg_check_path(path, e)) < 0 || (r = hcg_mounts_read(mountinfo, &ms, e)) < 0)
		return r;
	snprintf(v, sizeof(v), "%d", pid ? (int)pid : (int)getpid());
	for (i = 0; i < ms.n; i++)
		if ((r = hcg_make(&ms.m[i], path, &made[i], e)) < 0)
			goto fail;
	if ((r = hcg_apply_all(&ms, path, l, e)) < 0)
		goto fail;
	for (i = 0; i < ms.n; i++) {
		char dir[HCG_DIR_MAX];
		snprintf(dir, sizeof(dir), "%s%s", ms.m[i].dir, path);
		if ((r = hcg_write(dir, "cgroup.procs", v, e)) < 0)
			goto fail;
	}
	return 0;
fail:
	husk_err_wrap(e, "cgroup %s", path);
	for (i = 0; i < ms.n; i++)
		hcg_unmake(&ms.m[i], path, made[i]);
	return r;
}

int hcg_set(const char *mountinfo, const char *path, const struct hcg_limits *l, struct husk_err *e)
{
	struct hcg_mounts ms;
	int r;
	if ((r = hcg_check_path(path, e)) < 0 || (r = hcg_mounts_read(mountinfo, &ms, e)) < 0)
		return r;
	if ((r = hcg_apply_all(&ms, path, l, e)) < 0)
		return husk_err_wrap(e, "cgroup %s", path);
	return 0;
}

void hcg_remove(const char *mountinfo, const char *path)
{
	struct hcg_mounts ms;
	struct husk_err ignored = { 0 };
	if (hcg_check_path(path, &ignored) < 0 || hcg_mounts_read(mountinfo, &ms, &ignored) < 0)
		return;
	for (unsigned i = 0; i < ms.n; i++)
		hcg_unmake(&ms.m[i], path, 1);
}
