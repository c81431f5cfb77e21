/*
 * A container's file systems as the agent prepares them, under
 * AGENT_RUN_DIR/<id>: the root filesystem (a guest block device or a
 * virtio-fs tag) on rootfs/, the host's bind mount sources on binds/.
 */
#ifndef HUSK_AGENT_ROOTFS_H
#define HUSK_AGENT_ROOTFS_H

#include <jansson.h>

#include "husk/error.h"

#define AGENT_RUN_DIR "/run/husk"

struct container;

/* CREATE's "rootfs" (NULL: root.path is a directory already in the guest). */
int rootfs_mount_root(struct container *c, const json_t *rootfs, struct husk_err *e);
/* CREATE's "binds": the virtio-fs share of the host's bind sources, if named. */
int rootfs_mount_binds(struct container *c, const json_t *payload, struct husk_err *e);
/* Undo both (detached unmounts) and remove the container's directory. */
void rootfs_unmount(struct container *c);

#endif
