/* Mounting a container's root filesystem and the host's bind sources. */
#include "rootfs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

/* The root filesystem: a guest block device or a virtio-fs tag mounted under
 * /run/husk/<id>, or (without "rootfs") a directory already in the guest
 * named by root.path. */
int rootfs_mount_root(struct container *c, const json_t *rootfs, struct husk_err *e)
{
	const char *source = NULL, *type = "ext4";
	char root[sizeof(c->dir) + 8];

	if (!rootfs) {
		struct stat st;
		if (c->spec.root_path[0] != '/' || stat(c->spec.root_path, &st) < 0 ||
		    !S_ISDIR(st.st_mode))
			return husk_err_set(e, ENOENT, "root.path %s: not a directory in the guest",
					    c->spec.root_path);
		return 0;
	}
	if (!json_is_object(rootfs))
		return husk_err_set(e, EINVAL, "\"rootfs\": not an object");
	if (proto_get_string(rootfs, "source", 1, &source, e) < 0 ||
	    proto_get_string(rootfs, "type", 0, &type, e) < 0)
		return husk_err_wrap(e, "rootfs");
	if (!strcmp(type, "virtiofs")) {
		if (!*source || strlen(source) > 35)
			return husk_err_set(e, EINVAL, "rootfs.source: \"%s\" is no virtio-fs tag",
					    source);
	} else if (strncmp(source, "/dev/", 5) || strstr(source, "..")) {
		return husk_err_set(e, EINVAL, "rootfs.source %s: not a device under /dev", source);
	}
	snprintf(root, sizeof(root), "%s/rootfs", c->dir);
	if (mkdir(AGENT_RUN_DIR, 0700) < 0 && errno != EEXIST)
		return husk_err_set(e, errno, "%s: %s", AGENT_RUN_DIR, strerror(errno));
	if ((mkdir(c->dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(root, 0755) < 0 && errno != EEXIST))
		return husk_err_set(e, errno, "%s: %s", root, strerror(errno));
	unsigned long flags = c->spec.root_readonly ? MS_RDONLY : 0;
	if (mount(source, root, type, flags, NULL) < 0) {
		int err = errno;
		rmdir(root);
		rmdir(c->dir);
		return husk_err_set(e, err, "mount %s (%s) as the root filesystem: %s", source,
				    type, strerror(err));
	}
	c->mounted = true;
	return 0;
}

/*
 * The host's bind mount sources, staged by the VMM in one virtio-fs share
 * ("binds": its tag), at /run/husk/<id>/binds where the spec's mounts now
 * point.
 */
int rootfs_mount_binds(struct container *c, const json_t *payload, struct husk_err *e)
{
	const char *tag = NULL;
	char dir[sizeof(c->dir) + 8];

	if (proto_get_string(payload, "binds", 0, &tag, e) < 0)
		return -e->code;
	if (!tag)
		return 0;
	snprintf(dir, sizeof(dir), "%s/binds", c->dir);
	if ((mkdir(AGENT_RUN_DIR, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(c->dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0755) < 0 && errno != EEXIST))
		return husk_err_set(e, errno, "%s: %s", dir, strerror(errno));
	if (mount(tag, dir, "virtiofs", MS_NOSUID | MS_NODEV, NULL) < 0) {
		int err = errno;
		rmdir(dir);
		return husk_err_set(e, err, "mount the host's bind mounts (virtio-fs %s): %s", tag,
				    strerror(err));
	}
	c->binds_mounted = true;
	return 0;
}

void rootfs_unmount(struct container *c)
{
	if (c->binds_mounted) {
		char binds[sizeof(c->dir) + 8];
		snprintf(binds, sizeof(binds), "%s/binds", c->dir);
		umount2(binds, MNT_DETACH);
		rmdir(binds);
	}
	if (c->mounted) {
		char root[sizeof(c->dir) + 8];
		snprintf(root, sizeof(root), "%s/rootfs", c->dir);
		umount2(root, MNT_DETACH);
		rmdir(root);
	}
	rmdir(c->dir);
}
