/*
 * virtio-fs (device 26) served by a vhost-user back end (virtiofsd): the
 * VMM holds only the config space (the tag the guest mounts by) and
 * forwards the rings, guest RAM and notifications to the back end. The
 * back end's used-buffer signals come through the event loop, which raises
 * the interrupt (virtio-mmio needs its InterruptStatus set first).
 */
#ifndef HUSK_DEVICES_VIRTIO_FS_H
#define HUSK_DEVICES_VIRTIO_FS_H

#include <stdbool.h>

#include "config.h"
#include "devices/vhost_user.h"
#include "event_loop.h"
#include "virtio/mmio.h"

#define VIRTIO_FS_TAG_MAX CONFIG_FS_TAG_MAX
#define VIRTIO_FS_QUEUES  2 /* hiprio and one request queue */

struct virtio_fs;

struct virtio_fs_queue {
	struct virtio_fs *fs;
	unsigned index;
	int kick, call;
};

struct virtio_fs {
	struct vu_conn vu;
	char tag[VIRTIO_FS_TAG_MAX];
	const struct guest_mem *gm;
	struct event_loop *el;
	struct virtio_fs_queue vq[VIRTIO_FS_QUEUES];
	struct virtio_queues q;
	bool active, broken;
};

/*
 * fd: a socket connected to the back end (taken over), or -1 for a device
 * with no back end: the guest sees it and may set it up; nothing serves its
 * queues (a VM to be saved; the restored one gets a back end).
 */
int virtio_fs_init(struct virtio_fs *fs, int fd, const char *tag, const struct guest_mem *gm,
		   struct event_loop *el);
void virtio_fs_destroy(struct virtio_fs *fs);

extern const struct virtio_device_ops virtio_fs_ops;

#endif
