/* Reading a network namespace's links, addresses and routes (see hostnet.h). */
#include "hostnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostnet_nl.h"

/* What the dumps collect into; the callbacks set e when they stop one. */
struct hostnet_reader {
	struct hostnet *n;
	unsigned links_seen; /* links that count, stored or not */
	struct husk_err *e;
};

/* A message's attributes by type; types past the table are ignored. */
struct hostnet_attrs {
	const struct nlattr *tb[64];
};

static int hostnet_read_attr_cb(const struct nlattr *a, void *data)
{
	struct hostnet_attrs *at = data;
	unsigned type = mnl_attr_get_type(a);
	if (type < sizeof(at->tb) / sizeof(at->tb[0]))
		at->tb[type] = a;
	return MNL_CB_OK;
}

static int hostnet_read_parse(const struct nlmsghdr *m, size_t hdr, struct hostnet_attrs *at)
{
	memset(at, 0, sizeof(*at));
	if (mnl_nlmsg_get_payload_len(m) < hdr) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return mnl_attr_parse(m, hdr, hostnet_read_attr_cb, at);
}

static const char *hostnet_read_kind(const struct nlattr *linkinfo)
{
	struct hostnet_attrs at = { 0 };
	if (!linkinfo || mnl_attr_parse_nested(linkinfo, hostnet_read_attr_cb, &at) < 0)
		return "";
	const struct nlattr *kind = at.tb[IFLA_INFO_KIND];
	if (!kind || mnl_attr_validate(kind, MNL_TYPE_STRING) < 0)
		return "";
	return mnl_attr_get_str(kind);
}

static int hostnet_read_link(const struct nlmsghdr *m, void *data)
{
	struct hostnet_reader *r = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(m);
	struct hostnet_attrs at;

	if (m->nlmsg_type != RTM_NEWLINK || hostnet_read_parse(m, sizeof(*ifi), &at) < 0)
		return MNL_CB_OK;
	/*
	 * Only links in use that frames can be mirrored to: up and Ethernet.
	 * Not lo; nor the fallback tunnels a kernel with ipip, sit or gre puts
	 * in every namespace (tunl0, sit0, gre0: not Ethernet; gretap0,
	 * erspan0: down).
	 */
	if ((ifi->ifi_flags & IFF_LOOPBACK) || !(ifi->ifi_flags & IFF_UP) ||
	    ifi->ifi_type != ARPHRD_ETHER)
		return MNL_CB_OK;
	const struct nlattr *name = at.tb[IFLA_IFNAME];
	if (!name || mnl_attr_validate(name, MNL_TYPE_STRING) < 0 ||
	    strlen(mnl_attr_get_str(name)) >= IFNAMSIZ)
		return MNL_CB_OK;
	const char *kind = hostnet_read_kind(at.tb[IFLA_LINKINFO]);
	if (!strncmp(mnl_attr_get_str(name), HUSK_TAP_PREFIX, strlen(HUSK_TAP_PREFIX)) &&
	    !strcmp(kind, "tun"))
		return MNL_CB_OK;
	if (r->links_seen++ >= HOSTNET_MAX_LINKS)
		return MNL_CB_OK;

	struct hostnet_link *l = &r->n->links[r->n->n_links++];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(name));
	snprintf(l->kind, sizeof(l->kind), "%s", kind);
	l->ifindex = ifi->ifi_index;
	l->type = ifi->ifi_type;
	if (at.tb[IFLA_MTU] && mnl_attr_validate(at.tb[IFLA_MTU], MNL_TYPE_U32) == 0)
		l->mtu = mnl_attr_get_u32(at.tb[IFLA_MTU]);
	if (at.tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(at.tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, mnl_attr_get_payload(at.tb[IFLA_ADDRESS]), 6);
	return MNL_CB_OK;
}

static struct hostnet_link *hostnet_read_find(struct hostnet *n, int ifindex, unsigned *pos)
{
	for (unsigned i = 0; i < n->n_links; i++)
		if (n->links[i].ifindex == ifindex) {
			if (pos)
				*pos = i;
			return &n->links[i];
		}
	return NULL;
}

/* An address attribute of the family's length into out[16]. */
static int hostnet_read_ip(const struct nlattr *a, int family, uint8_t out[16])
{
	size_t len = family == AF_INET ? 4 : 16;
	if (!a || mnl_attr_get_payload_len(a) != len)
		return -1;
	memset(out, 0, 16);
	memcpy(out, mnl_attr_get_payload(a), len);
	return 0;
}

static int hostnet_read_addr(const struct nlmsghdr *m, void *data)
{
	struct hostnet_reader *r = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(m);
	struct hostnet_attrs at;

	if (m->nlmsg_type != RTM_NEWADDR || hostnet_read_parse(m, sizeof(*ifa), &at) < 0)
		return MNL_CB_OK;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	if (ifa->ifa_scope == RT_SCOPE_HOST || ifa->ifa_scope == RT_SCOPE_LINK)
		return MNL_CB_OK;
	struct hostnet_link *l = hostnet_read_find(r->n, (int)ifa->ifa_index, NULL);
	if (!l)
		return MNL_CB_OK;
	/* IPv4's own address is IFA_LOCAL (IFA_ADDRESS is the peer's on point-to-point) */
	const struct nlattr *a = at.tb[IFA_LOCAL] && ifa->ifa_family == AF_INET ?
					 at.tb[IFA_LOCAL] :
					 at.tb[IFA_ADDRESS];
	struct hostnet_addr addr = { .family = ifa->ifa_family, .prefixlen = ifa->ifa_prefixlen };
	if (hostnet_read_ip(a, addr.family, addr.addr) < 0)
		return MNL_CB_OK;
	if (l->n_addrs >= HOSTNET_MAX_ADDRS) {
		husk_err_set(r->e, E2BIG, "network interface %s has more than %d addresses",
			     l->name, HOSTNET_MAX_ADDRS);
		errno = E2BIG;
		return MNL_CB_ERROR;
	}
	l->addrs[l->n_addrs++] = addr;
	return MNL_CB_OK;
}

static bool hostnet_read_is_fe80_64(const struct hostnet_route *rt)
{
	static const uint8_t fe80[8] = { 0xfe, 0x80 };
	return rt->family == AF_INET6 && rt->dst_len == 64 && !memcmp(rt->dst, fe80, 8);
}

static int hostnet_read_route(const struct nlmsghdr *m, void *data)
{
	struct hostnet_reader *r = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(m);
	struct hostnet_attrs at;

	if (m->nlmsg_type != RTM_NEWROUTE || hostnet_read_parse(m, sizeof(*rtm), &at) < 0)
		return MNL_CB_OK;
	uint32_t table = rtm->rtm_table;
	if (at.tb[RTA_TABLE] && mnl_attr_validate(at.tb[RTA_TABLE], MNL_TYPE_U32) == 0)
		table = mnl_attr_get_u32(at.tb[RTA_TABLE]);
	if (table != RT_TABLE_MAIN || rtm->rtm_protocol == RTPROT_KERNEL ||
	    rtm->rtm_type != RTN_UNICAST || (rtm->rtm_flags & RTM_F_CLONED))
		return MNL_CB_OK;
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return MNL_CB_OK;

	struct hostnet_route rt = { .family = rtm->rtm_family, .dst_len = rtm->rtm_dst_len };
	if (rt.dst_len > (rt.family == AF_INET ? 32 : 128))
		return MNL_CB_OK;
	if (at.tb[RTA_DST] && hostnet_read_ip(at.tb[RTA_DST], rt.family, rt.dst) < 0)
		return MNL_CB_OK;
	if (hostnet_read_is_fe80_64(&rt))
		return MNL_CB_OK;
	if (at.tb[RTA_MULTIPATH] || at.tb[RTA_VIA]) {
		husk_err_set(r->e, EOPNOTSUPP,
			     "the network namespace has a %s route (to a /%u), which husk cannot "
			     "give a VM",
			     at.tb[RTA_MULTIPATH] ? "multipath" : "cross-family gateway",
			     rt.dst_len);
		errno = EOPNOTSUPP;
		return MNL_CB_ERROR;
	}
	if (!at.tb[RTA_OIF] || mnl_attr_validate(at.tb[RTA_OIF], MNL_TYPE_U32) < 0 ||
	    !hostnet_read_find(r->n, (int)mnl_attr_get_u32(at.tb[RTA_OIF]), &rt.link))
		return MNL_CB_OK; /* over lo or a tap of husk's: not the container's */
	if (at.tb[RTA_GATEWAY]) {
		if (hostnet_read_ip(at.tb[RTA_GATEWAY], rt.family, rt.gateway) < 0)
			return MNL_CB_OK;
		rt.has_gateway = true;
	}
	if (at.tb[RTA_PRIORITY] && mnl_attr_validate(at.tb[RTA_PRIORITY], MNL_TYPE_U32) == 0) {
		rt.metric = mnl_attr_get_u32(at.tb[RTA_PRIORITY]);
		rt.has_metric = true;
	}
	if (r->n->n_routes >= HOSTNET_MAX_ROUTES) {
		husk_err_set(r->e, E2BIG,
			     "the network namespace has more than %d routes in its main table",
			     HOSTNET_MAX_ROUTES);
		errno = E2BIG;
		return MNL_CB_ERROR;
	}
	r->n->routes[r->n->n_routes++] = rt;
	return MNL_CB_OK;
}

static int hostnet_read_dump(struct hostnet_nl *nl, uint16_t type, int family, size_t hdr_len,
			     mnl_cb_t cb, struct hostnet_reader *r, const char *what)
{
	void *hdr;
	struct nlmsghdr *nlh = hostnet_nl_msg(nl, type, NLM_F_DUMP, &hdr, hdr_len);
	*(unsigned char *)hdr = (unsigned char)family; /* every family header starts with it */
	int ret = hostnet_nl_talk(nl, nlh, cb, r);
	if (ret < 0)
		return husk_err_set(r->e, -ret, "read the network namespace's %s: %s", what,
				    nl->why);
	return 0;
}

static int hostnet_read_by_ifindex(const void *a, const void *b)
{
	const struct hostnet_link *x = a, *y = b;
	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

/*
 * Routes without a gateway first (stable otherwise): a gateway must be
 * reachable when its route is added, and the kernel dumps IPv4's default
 * route before a link route to its gateway (Calico's 169.254.1.1).
 */
static void hostnet_read_order_routes(struct hostnet *n)
{
	struct hostnet_route sorted[HOSTNET_MAX_ROUTES];
	unsigned k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < n->n_routes; i++)
			if (n->routes[i].has_gateway == (pass == 1))
				sorted[k++] = n->routes[i];
	memcpy(n->routes, sorted, k * sizeof(sorted[0]));
}

int hostnet_read(struct hostnet *n, struct husk_err *e)
{
	struct hostnet_nl *nl = calloc(1, sizeof(*nl));
	struct hostnet_reader r = { .n = n, .e = e };
	int ret;

	memset(n, 0, sizeof(*n));
	if (!nl)
		return husk_err_set(e, ENOMEM, "out of memory");
	ret = hostnet_nl_open(nl, e);
	if (ret < 0)
		goto out;
	ret = hostnet_read_dump(nl, RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg),
				hostnet_read_link, &r, "links");
	if (ret < 0)
		goto out;
	if (r.links_seen > HOSTNET_MAX_LINKS) {
		ret = husk_err_set(e, E2BIG,
				   "the network namespace has %u network interfaces besides lo; "
				   "husk gives a VM at most %d",
				   r.links_seen, HOSTNET_MAX_LINKS);
		goto out;
	}
	qsort(n->links, n->n_links, sizeof(n->links[0]), hostnet_read_by_ifindex);
	ret = hostnet_read_dump(nl, RTM_GETADDR, AF_UNSPEC, sizeof(struct ifaddrmsg),
				hostnet_read_addr, &r, "addresses");
	if (ret < 0)
		goto out;
	ret = hostnet_read_dump(nl, RTM_GETROUTE, AF_INET, sizeof(struct rtmsg), hostnet_read_route,
				&r, "IPv4 routes");
	if (ret < 0)
		goto out;
	ret = hostnet_read_dump(nl, RTM_GETROUTE, AF_INET6, sizeof(struct rtmsg),
				hostnet_read_route, &r, "IPv6 routes");
	if (ret == 0)
		hostnet_read_order_routes(n);
out:
	hostnet_nl_close(nl);
	free(nl);
	return ret;
}
