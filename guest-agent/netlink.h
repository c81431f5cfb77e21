/*
 * A small rtnetlink client for the agent: one request at a time, each
 * acknowledged, and dumps read to their end. The socket belongs to the
 * network namespace the calling thread was in when nl_open ran.
 */
#ifndef HUSK_AGENT_NETLINK_H
#define HUSK_AGENT_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include "husk/error.h"

#define NL_MSG_MAX 1024 /* a request: header, family header and attributes */

struct nl_sock {
	int fd;
	uint32_t seq;
};

struct nl_msg {
	union {
		struct nlmsghdr h;
		uint8_t buf[NL_MSG_MAX];
	};
};

int nl_open(struct nl_sock *s, struct husk_err *e);
void nl_close(struct nl_sock *s);

/* Start a request of `type` with `flags` (NLM_F_REQUEST added) and its family header. */
void *nl_msg_init(struct nl_msg *m, uint16_t type, uint16_t flags, size_t hdrlen);
/* Append an attribute; -EMSGSIZE (the programmer's error) when it does not fit. */
int nl_put(struct nl_msg *m, uint16_t type, const void *data, size_t len);
int nl_put_u32(struct nl_msg *m, uint16_t type, uint32_t v);
int nl_put_str(struct nl_msg *m, uint16_t type, const char *s);

/* Send a request with NLM_F_ACK and wait for its answer: 0 or the kernel's -errno. */
int nl_talk(struct nl_sock *s, struct nl_msg *m);

/* Send a dump request; call `fn` for each message of the answer (a non-zero return stops). */
typedef int nl_dump_fn(const struct nlmsghdr *h, void *arg);
int nl_dump(struct nl_sock *s, struct nl_msg *m, nl_dump_fn *fn, void *arg);

/* The attributes after a family header of `hdrlen` bytes, by type (at most `max`). */
void nl_parse(const struct nlmsghdr *h, size_t hdrlen, const struct nlattr **tb, int max);

/* --- links --------------------------------------------------------------------- */

/* The link with hardware address `mac` (Ethernet), its ifindex and flags; -ENODEV if none. */
int nl_link_by_mac(struct nl_sock *s, const uint8_t mac[6], int *ifindex, unsigned *flags);
/* The link named `name`, its ifindex, flags and hardware address; -ENODEV if none. */
int nl_link_by_name(struct nl_sock *s, const char *name, int *ifindex, unsigned *flags,
		    uint8_t mac[6]);
/* Move a link into the network namespace of `nsfd`. */
int nl_link_move(struct nl_sock *s, int ifindex, int nsfd);
/*
 * Set what is given: a name (NULL: keep), a hardware address (NULL: keep),
 * an MTU (0: keep); then up or down.
 */
int nl_link_set(struct nl_sock *s, int ifindex, const char *name, const uint8_t *mac, unsigned mtu,
		bool up);

/* --- addresses and routes -------------------------------------------------------- */

/* Add (or refresh) an address; IPv6 ones without duplicate address detection. */
int nl_addr_add(struct nl_sock *s, int ifindex, int family, const uint8_t *addr, unsigned prefix);
/*
 * Append a route to the main table: a gateway route when `gw` is given, a
 * link route otherwise; `metric` < 0 leaves the kernel's default.
 */
int nl_route_add(struct nl_sock *s, int ifindex, int family, const uint8_t *dst, unsigned prefix,
		 const uint8_t *gw, long long metric);

#endif
