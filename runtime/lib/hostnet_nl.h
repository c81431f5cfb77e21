/*
 * rtnetlink through libmnl, for the hostnet_*.c files only: one socket per
 * operation, a request built in its buffer, and a reply loop that runs a
 * callback on each message of a dump and turns an error answer into a
 * negative errno plus the kernel's own words (extended ack) when it has some.
 */
#ifndef HUSK_RUNTIME_HOSTNET_NL_H
#define HUSK_RUNTIME_HOSTNET_NL_H

#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

#include "husk/error.h"

#define HOSTNET_NL_BUF 32768

struct hostnet_nl {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
	char why[160]; /* the last failure: the kernel's message, or strerror */
	char buf[HOSTNET_NL_BUF];
};

int hostnet_nl_open(struct hostnet_nl *nl, struct husk_err *e);
void hostnet_nl_close(struct hostnet_nl *nl);

/* A new request in nl->buf: header with the next sequence number, then `extra` bytes zeroed. */
struct nlmsghdr *hostnet_nl_msg(struct hostnet_nl *nl, uint16_t type, uint16_t flags, void **extra,
				size_t extra_len);

/*
 * Send the request and read its answer: `cb` (may be NULL) on each message
 * of a dump. 0 when done or acknowledged; a negative errno when the kernel
 * refused (nl->why says why) or when `cb` returned MNL_CB_ERROR (errno set).
 */
int hostnet_nl_talk(struct hostnet_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* The link's index, or -ENODEV (e set, naming `what`). */
int hostnet_nl_ifindex(const char *name, const char *what, struct husk_err *e);

#endif
