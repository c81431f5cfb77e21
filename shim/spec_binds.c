/* Host bind mounts through a virtio-fs share (see spec_binds.h). */
#include "spec_binds.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "husk/path.h"
#include "log.h"

#define SPEC_BINDS_MAX 64

static bool spec_binds_is_bind(const json_t *m)
{
	const char *type = json_string_value(json_object_get(m, "type"));
	size_t i;
	json_t *o;
	if (type && !strcmp(type, "bind"))
		return true;
	json_array_foreach (json_object_get(m, "options"), i, o) {
		const char *s = json_string_value(o);
		if (s && (!strcmp(s, "bind") || !strcmp(s, "rbind")))
			return true;
	}
	return false;
}

/* husk-vmm's own mount namespace: the staging mounts die with it. */
static int spec_binds_private_ns(void)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		int r = -errno;
		log_err("spec", "bind mounts from the host need a mount namespace (root): %s",
			strerror(errno));
		return r;
	}
	return 0;
}

int spec_binds_prepare(struct spec_binds *b, json_t *config, const char *id, const char *dir,
		       bool *needed)
{
	json_t *mounts = json_object_get(config, "mounts"), *m;
	size_t i;
	int r;

	memset(b, 0, sizeof(*b));
	*needed = false;
	json_array_foreach (mounts, i, m) {
		const char *src = json_string_value(json_object_get(m, "source"));
		if (spec_binds_is_bind(m) && src && src[0] == '/')
			*needed = true;
	}
	if (!*needed)
		return 0;
	if ((r = spec_binds_private_ns()) < 0)
		return r;
	struct husk_err e = { 0 };
	if ((r = path_fmt(&e, b->dir, sizeof(b->dir), "%s", dir ? dir : "/tmp/husk-binds-XXXXXX")) <
	    0) {
		log_err("spec", "--binds-dir: %s", e.msg);
		return r;
	}
	if (dir)
		r = mkdir(b->dir, 0700) < 0 ? -errno : 0;
	else
		r = mkdtemp(b->dir) ? 0 : -errno;
	if (r < 0) {
		log_err("spec", "staging directory %s: %s", b->dir, strerror(-r));
		b->dir[0] = '\0';
		return r;
	}
	json_array_foreach (mounts, i, m) {
		const char *src = json_string_value(json_object_get(m, "source"));
		struct stat st;
		char stage[PATH_MAX + 16], guest[160];
		if (!spec_binds_is_bind(m) || !src || src[0] != '/')
			continue;
		if (b->n == SPEC_BINDS_MAX) {
			log_err("spec", "more than %d bind mounts from the host", SPEC_BINDS_MAX);
			return -E2BIG;
		}
		if (stat(src, &st) < 0) {
			r = -errno;
			log_err("spec", "bind mount source %s: %s", src, strerror(errno));
			return r;
		}
		snprintf(stage, sizeof(stage), "%s/%u", b->dir, b->n);
		int made;
		if (S_ISDIR(st.st_mode)) {
			made = mkdir(stage, 0755);
		} else if ((made = open(stage, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) >= 0) {
			close(made);
			made = 0;
		}
		if (made < 0 || mount(src, stage, NULL, MS_BIND | MS_REC, NULL) < 0) {
			r = -errno;
			log_err("spec", "staging bind mount %s: %s", src, strerror(errno));
			return r;
		}
		b->n++;
		snprintf(guest, sizeof(guest), "/run/husk/%s/binds/%u", id, b->n - 1);
		json_object_set_new(m, "source", json_string(guest));
	}
	return 0;
}

void spec_binds_remove(struct spec_binds *b)
{
	if (!b->dir[0])
		return;
	for (unsigned i = 0; i < b->n; i++) {
		char stage[PATH_MAX + 16];
		snprintf(stage, sizeof(stage), "%s/%u", b->dir, i);
		umount2(stage, MNT_DETACH);
		if (rmdir(stage) < 0)
			unlink(stage);
	}
	rmdir(b->dir);
	b->dir[0] = '\0';
}
