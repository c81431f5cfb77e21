/*
 * The host side of a container's network: what the engine configured in the container's network namespace, read
 * into plain structs; the taps husk-vmm made there (husktap<i>) prepared and
 * mirrored to the engine's links with tc (an ingress qdisc and a u32
 * `match u8 0 0` filter with `action mirred egress redirect`, both ways);
 * and the agent's NETWORK request built from what was read.
 *
 * Every function but hostnet_attach_pid and hostnet_detach_path (which go
 * there and back themselves) works in the calling thread's current network
 * namespace: enter the container's first (netns.h).
 */
#ifndef HUSK_RUNTIME_HOSTNET_H
#define HUSK_RUNTIME_HOSTNET_H

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "husk/error.h"
#include "husk/netdev.h"

#define HOSTNET_MAX_LINKS  4  /* virtio-net devices a VM gets at most */
#define HOSTNET_MAX_ADDRS  16 /* per link */
#define HOSTNET_MAX_ROUTES 32
#define HOSTNET_TC_PRIO	   49152 /* the filter's priority: tc's for a first filter */

struct hostnet_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefixlen;
};

struct hostnet_link {
	char name[IFNAMSIZ];
	int ifindex;
	unsigned short type; /* ARPHRD_*: ARPHRD_ETHER from hostnet_read */
	uint8_t mac[6];
	uint32_t mtu;
	char kind[16]; /* rtnetlink's link kind ("veth", "macvlan"), "" for none */
	struct hostnet_addr addrs[HOSTNET_MAX_ADDRS];
	unsigned n_addrs;
};

struct hostnet_route {
	int family;
	uint8_t dst[16];
	uint8_t dst_len; /* 0: a default route */
	bool has_gateway;
	uint8_t gateway[16];
	unsigned link; /* index into hostnet.links of its device */
	bool has_metric;
	uint32_t metric;
};

struct hostnet {
	struct hostnet_link links[HOSTNET_MAX_LINKS]; /* ascending ifindex */
	unsigned n_links;
	/* routes without a gateway first, each part in the kernel's order */
	struct hostnet_route routes[HOSTNET_MAX_ROUTES];
	unsigned n_routes;
};

/*
 * Read the current namespace: every Ethernet link that is up, but husk's
 * taps (husktap*, kind tun), each with its addresses of global (or site) scope,
 * IPv4 and IPv6; the routes of the main table over those links, without
 * the kernel's own (proto kernel) and fe80::/64; routes without a gateway
 * first, so that each gateway is reachable when its route is added. More
 * than the bounds above is an error (-E2BIG) that says which; a multipath
 * route is one too (-EOPNOTSUPP).
 */
int hostnet_read(struct hostnet *n, struct husk_err *e);

/*
 * Make an existing tap ready to carry frames: IPv6 address generation off
 * (before it is up, so that it never gets a link-local address of its own,
 * nor sends router or neighbour solicitations), the MTU, up.
 */
int hostnet_tap_prepare(const char *tap, uint32_t mtu, struct husk_err *e);

/*
 * Mirror every frame between `veth` and `tap`: on each an ingress qdisc
 * (kept if it exists) and at priority HOSTNET_TC_PRIO a u32 filter for all
 * protocols matching everything, with action mirred egress redirect to the
 * other. Again on the same pair it replaces its filters (one each).
 */
int hostnet_tc_mirror(const char *veth, const char *tap, struct husk_err *e);

/* Delete the ingress qdisc of `veth`; no such link or no such qdisc is no error. */
int hostnet_tc_unmirror(const char *veth, struct husk_err *e);

/* husktap<i> and 02:68:75:73:6b:<i>, for link i (buffers of IFNAMSIZ and 18 bytes). */
void hostnet_tap_name(unsigned i, char name[IFNAMSIZ]);
void hostnet_device_mac(unsigned i, char mac[18]);

/*
 * Attach: for each link i, prepare tap husktap<i> with the link's MTU and
 * mirror them. On failure the mirrors made are removed again.
 */
int hostnet_attach(const struct hostnet *n, struct husk_err *e);

/* Detach: unmirror each link (husk delete; the taps go with husk-vmm). */
int hostnet_detach(const struct hostnet *n, struct husk_err *e);

/*
 * Step 4 for the container whose husk-vmm (in the container's network
 * namespace) is `pid`: enter that namespace, read it into *n, attach each
 * link to its tap, come back, and build the NETWORK payload for container
 * `id` into *payload. A namespace with no links yet (ctr --cni before
 * start) is no error: n->n_links is 0, *payload NULL, nothing done. On
 * failure nothing is left mirrored and the thread is back where it was.
 */
int hostnet_attach_pid(pid_t pid, const char *id, struct hostnet *n, json_t **payload,
		       struct husk_err *e);

/*
 * Step 6: in the namespace at `netns_path`, unmirror the named links. A
 * namespace that is gone is no error.
 */
int hostnet_detach_path(const char *netns_path, const char *const *links, unsigned n_links,
			struct husk_err *e);

/*
 * The NETWORK request's payload (include/husk/proto.h) for container `id`:
 *   {"id", "interfaces": [{"device_mac", "name", "mac", "mtu", "addresses":
 *   ["10.88.0.5/16", "fd00::5/64"]}], "routes": [{"dest": "default" (IPv4)
 *   | "::/0" | "CIDR", "gateway" (optional), "dev", "metric" (optional)}]}
 * NULL (and e set) when a link is not Ethernet or out of memory.
 */
json_t *hostnet_payload(const char *id, const struct hostnet *n, struct husk_err *e);

#endif
