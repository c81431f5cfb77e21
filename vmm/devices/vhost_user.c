/* vhost-user front end (see vhost_user.h). */
#include "devices/vhost_user.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest_mem.h"
#include "log.h"

enum {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_SET_MEM_TABLE = 5,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_SET_VRING_ENABLE = 18,
};

#define VU_VERSION     0x1
#define VU_REPLY       0x4
#define VU_MAX_REGIONS 8

struct vu_hdr {
	uint32_t request, flags, size;
} __attribute__((packed));

struct vu_state {
	uint32_t index, num;
} __attribute__((packed));

struct vu_addr {
	uint32_t index, flags;
	uint64_t desc, used, avail, log;
} __attribute__((packed));

struct vu_region {
	uint64_t gpa, size, uaddr, offset;
} __attribute__((packed));

struct vu_mem {
	uint32_t nregions, padding;
	struct vu_region r[VU_MAX_REGIONS];
} __attribute__((packed));

/* One message, with fds (SCM_RIGHTS) if nfds > 0. */
static int vu_send(struct vu_conn *c, uint32_t req, const void *body, uint32_t size, const int *fds,
		   unsigned nfds)
{
	struct vu_hdr h = { req, VU_VERSION, size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, size } };
	char cbuf[CMSG_SPACE(sizeof(int) * VU_MAX_REGIONS)];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };

	if (nfds) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	ssize_t n;
	do
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)(sizeof(h) + size)) {
		int e = n < 0 ? errno : EIO;
		log_err("vhost-user", "request %u: %s", req, strerror(e));
		return -e;
	}
	return 0;
}

static int vu_read_all(int fd, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ECONNRESET;
		got += (size_t)r;
	}
	return 0;
}

/* The reply to req: a header that says so and exactly `size` bytes (the back end is
 * another process: what it says is checked like guest input). */
static int vu_reply(struct vu_conn *c, uint32_t req, void *body, uint32_t size)
{
	struct vu_hdr h;
	int r = vu_read_all(c->fd, &h, sizeof(h));
	if (r == 0 && (h.request != req || !(h.flags & VU_REPLY) || h.size != size))
		r = -EPROTO;
	if (r == 0)
		r = vu_read_all(c->fd, body, size);
	if (r < 0)
		log_err("vhost-user", "reply to request %u: %s", req, strerror(-r));
	return r;
}

static int vu_get_u64(struct vu_conn *c, uint32_t req, uint64_t *v)
{
	int r = vu_send(c, req, NULL, 0, NULL, 0);
	return r < 0 ? r : vu_reply(c, req, v, sizeof(*v));
}

static int vu_set_u64(struct vu_conn *c, uint32_t req, uint64_t v, int fd)
{
	return vu_send(c, req, &v, sizeof(v), &fd, fd >= 0 ? 1 : 0);
}

int vu_open(struct vu_conn *c, int fd)
{
	int r;
	c->fd = fd;
	c->features = c->protocol_features = 0;
	if ((r = vu_send(c, VU_SET_OWNER, NULL, 0, NULL, 0)) < 0 ||
	    (r = vu_get_u64(c, VU_GET_FEATURES, &c->features)) < 0)
		return r;
	if (c->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)) {
		if ((r = vu_get_u64(c, VU_GET_PROTOCOL_FEATURES, &c->protocol_features)) < 0)
			return r;
		/* none of the optional protocol features is needed */
		if ((r = vu_set_u64(c, VU_SET_PROTOCOL_FEATURES, 0, -1)) < 0)
			return r;
	}
	return 0;
}

void vu_close(struct vu_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int vu_set_features(struct vu_conn *c, uint64_t features)
{
	features &= c->features;
	features |= c->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES);
	return vu_set_u64(c, VU_SET_FEATURES, features, -1);
}

int vu_set_mem_table(struct vu_conn *c, const struct guest_mem *gm)
{
	struct vu_mem m = { .nregions = gm->nregions };
	int fds[VU_MAX_REGIONS];

	for (unsigned i = 0; i < gm->nregions; i++) {
		m.r[i] = (struct vu_region){ gm->regions[i].gpa, gm->regions[i].size,
					     (uint64_t)(uintptr_t)gm->regions[i].hva,
					     (uint64_t)(gm->regions[i].hva - gm->base) };
		fds[i] = gm->memfd;
	}
	/* the message carries only the regions in use */
	uint32_t size = (uint32_t)(8 + sizeof(struct vu_region) * gm->nregions);
	return vu_send(c, VU_SET_MEM_TABLE, &m, size, fds, gm->nregions);
}

int vu_setup_ring(struct vu_conn *c, unsigned index, unsigned size, uint64_t desc_hva,
		  uint64_t avail_hva, uint64_t used_hva, uint16_t next, int kick_fd, int call_fd)
{
	struct vu_state num = { index, size }, base = { index, next }, on = { index, 1 };
	struct vu_addr addr = {
		.index = index, .desc = desc_hva, .used = used_hva, .avail = avail_hva
	};
	int r;

	if ((r = vu_send(c, VU_SET_VRING_NUM, &num, sizeof(num), NULL, 0)) < 0 ||
	    (r = vu_send(c, VU_SET_VRING_BASE, &base, sizeof(base), NULL, 0)) < 0 ||
	    (r = vu_send(c, VU_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0)) < 0 ||
	    (r = vu_set_u64(c, VU_SET_VRING_CALL, index, call_fd)) < 0 ||
	    (r = vu_set_u64(c, VU_SET_VRING_KICK, index, kick_fd)) < 0)
		return r;
	/* with F_PROTOCOL_FEATURES, rings start disabled */
	if (c->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES))
		r = vu_send(c, VU_SET_VRING_ENABLE, &on, sizeof(on), NULL, 0);
	return r;
}

int vu_stop_ring(struct vu_conn *c, unsigned index)
{
	struct vu_state st = { index, 0 };
	int r = vu_send(c, VU_GET_VRING_BASE, &st, sizeof(st), NULL, 0);
	return r < 0 ? r : vu_reply(c, VU_GET_VRING_BASE, &st, sizeof(st));
}
