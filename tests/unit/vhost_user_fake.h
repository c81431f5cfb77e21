/*
 * Shared by the unit tests that script a vhost-user back end: the message
 * header, and one front-end message read whole with the fds it carried.
 */
#ifndef HUSK_TESTS_VHOST_USER_FAKE_H
#define HUSK_TESTS_VHOST_USER_FAKE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VU_FAKE_MAX_FDS 8

struct vu_hdr {
	uint32_t request, flags, size;
} __attribute__((packed));

struct vu_fake_msg {
	struct vu_hdr h;
	uint8_t body[512];
	int fds[VU_FAKE_MAX_FDS];
	int nfds;
};

/*
 * The next message on fd: header, body and fds (the caller closes those it
 * does not keep). false at the end of the stream or for a message the
 * script cannot hold.
 */
static inline bool vu_fake_recv(int fd, struct vu_fake_msg *m)
{
	char cbuf[CMSG_SPACE(sizeof(int) * VU_FAKE_MAX_FDS)];
	struct iovec iov = { &m->h, sizeof(m->h) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	m->nfds = 0;
	if (recvmsg(fd, &mh, 0) != sizeof(m->h))
		return false;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		int n = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (n > VU_FAKE_MAX_FDS - m->nfds)
			n = VU_FAKE_MAX_FDS - m->nfds;
		memcpy(m->fds + m->nfds, CMSG_DATA(cm), sizeof(int) * (size_t)n);
		m->nfds += n;
	}
	return m->h.size <= sizeof(m->body) &&
	       (!m->h.size || read(fd, m->body, m->h.size) == (ssize_t)m->h.size);
}

#endif
