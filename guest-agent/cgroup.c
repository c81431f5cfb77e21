/* Per-container cgroups in the guest. */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG_ROOT	 "/sys/fs/cgroup"
#define CG_HUSK	 CG_ROOT "/husk"
#define CG_AHEAD CG_HUSK "/_ahead" /* a container id begins with a letter or digit */

static bool cg_ahead; /* CG_AHEAD is there for the next container */

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, val, strlen(val));
	int r = w < 0 ? -errno : 0;
	close(fd);
	return r;
}

int cg_set_limits(const char *path, const struct spec_resources *res, struct husk_err *e)
{
	static const char *const files[2] = { "memory.max", "pids.max" };
	const int64_t limits[2] = { res->memory_limit, res->pids_limit };
	for (int i = 0; i < 2; i++) {
		char val[32];
		if (limits[i] <= 0)
			continue; /* not given */
		snprintf(val, sizeof(val), "%lld", (long long)limits[i]);
		int r = cg_write(path, files[i], val);
		if (r < 0)
			return husk_err_set(e, -r,
					    "linux.resources: cannot set %s %s in the guest: %s",
					    files[i], val, strerror(-r));
	}
	return 0;
}

static int cg_parent(struct husk_err *e)
{
	if (mkdir(CG_HUSK, 0755) < 0 && errno != EEXIST)
		return husk_err_set(e, errno, "cgroup %s: %s", CG_HUSK, strerror(errno));
	/* best effort: a limit that needs a missing controller fails in cg_set_limits */
	cg_write(CG_ROOT, "cgroup.subtree_control", "+memory +pids");
	cg_write(CG_HUSK, "cgroup.subtree_control", "+memory +pids");
	return 0;
}

int cg_prepare(struct husk_err *e)
{
	int r = cg_parent(e);
	if (r < 0)
		return r;
	if (mkdir(CG_AHEAD, 0755) < 0)
		return husk_err_set(e, errno, "cgroup %s: %s", CG_AHEAD, strerror(errno));
	cg_ahead = true;
	return 0;
}

int cg_create(const char *id, const struct spec_resources *res, char *path, size_t len,
	      struct husk_err *e)
{
	int r;

	if (cg_ahead) {
		cg_ahead = false;
		snprintf(path, len, "%s", CG_AHEAD);
	} else {
		if ((r = cg_parent(e)) < 0)
			return r;
		snprintf(path, len, "%s/%s", CG_HUSK, id);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return husk_err_set(e, errno, "cgroup %s: %s", path, strerror(errno));
	}
	if ((r = cg_set_limits(path, res, e)) < 0)
		rmdir(path);
	return r;
}

int cg_pids(const char *path, pid_t **pids, size_t *n)
{
	char file[256];
	size_t cap = 0;
	long v;

	*pids = NULL;
	*n = 0;
	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	FILE *f = fopen(file, "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%ld", &v) == 1) {
		if (*n == cap) {
			pid_t *grown = realloc(*pids, (cap = cap ? cap * 2 : 16) * sizeof(pid_t));
			if (!grown) {
				fclose(f);
				free(*pids);
				*pids = NULL;
				*n = 0;
				return -ENOMEM;
			}
			*pids = grown;
		}
		(*pids)[(*n)++] = (pid_t)v;
	}
	fclose(f);
	return 0;
}

int cg_signal(const char *path, int sig)
{
	pid_t *pids;
	size_t n;
	int sent = 0;

	if (sig == SIGKILL && cg_write(path, "cgroup.kill", "1") == 0)
		return 1;
	if (cg_pids(path, &pids, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		sent += kill(pids[i], sig) == 0;
	free(pids);
	return sent;
}

void cg_remove(const char *path)
{
	if (path[0])
		rmdir(path);
}
