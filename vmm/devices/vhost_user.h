/*
 * The front end of the vhost-user protocol (QEMU's docs/interop/vhost-user):
 * a device whose queues a separate back-end process serves straight from
 * guest memory (virtiofsd for virtio-fs). We tell it where guest RAM is (the
 * memfd), where each ring is, and hand it an eventfd to kick it and one it
 * signals when it has used buffers. Requests are synchronous; every reply
 * is checked for its request and size.
 */
#ifndef HUSK_DEVICES_VHOST_USER_H
#define HUSK_DEVICES_VHOST_USER_H

#include <stdint.h>

struct guest_mem;

#define VHOST_USER_F_PROTOCOL_FEATURES 30

struct vu_conn {
	int fd;
	uint64_t features;	    /* what the back end offers */
	uint64_t protocol_features; /* offered, when F_PROTOCOL_FEATURES is */
};

/* Take a connected socket; SET_OWNER, GET_FEATURES (and the protocol features). */
int vu_open(struct vu_conn *c, int fd);
void vu_close(struct vu_conn *c);

/* SET_FEATURES with what the driver accepted (plus F_PROTOCOL_FEATURES if offered). */
int vu_set_features(struct vu_conn *c, uint64_t features);
int vu_set_mem_table(struct vu_conn *c, const struct guest_mem *gm);

/*
 * One ring: size, addresses (in our address space), the index of the first
 * available entry the back end is to take (0 for a new ring; after a
 * restore, where the saved ring stopped), eventfds, enable.
 */
int vu_setup_ring(struct vu_conn *c, unsigned index, unsigned size, uint64_t desc_hva,
		  uint64_t avail_hva, uint64_t used_hva, uint16_t base, int kick_fd, int call_fd);
/* Stop a ring (GET_VRING_BASE). */
int vu_stop_ring(struct vu_conn *c, unsigned index);

#endif
