/* The agent's rtnetlink client (see netlink.h). */
#include "netlink.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>

#define NL_RECV_MAX 32768

int nl_open(struct nl_sock *s, struct husk_err *e)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	s->seq = 0;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s->fd < 0)
		return husk_err_set(e, errno, "netlink socket: %s", strerror(errno));
	int one = 1;
	setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		nl_close(s);
		return husk_err_set(e, err, "netlink bind: %s", strerror(err));
	}
	return 0;
}

void nl_close(struct nl_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

void *nl_msg_init(struct nl_msg *m, uint16_t type, uint16_t flags, size_t hdrlen)
{
	memset(m->buf, 0, NLMSG_SPACE(hdrlen));
	m->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdrlen);
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = (uint16_t)(flags | NLM_F_REQUEST);
	return NLMSG_DATA(&m->h);
}

/*
 * Not inlined: GCC's object-size checks under the sanitizers lose the
 * bound above once it is inlined and warn about the copies.
 */
__attribute__((noinline)) int nl_put(struct nl_msg *m, uint16_t type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(m->h.nlmsg_len);
	if (off + NLA_ALIGN(NLA_HDRLEN + len) > sizeof(m->buf))
		return -EMSGSIZE;
	struct nlattr *a = (struct nlattr *)(m->buf + off);
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
	memset((uint8_t *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	m->h.nlmsg_len = (uint32_t)(off + NLA_ALIGN(NLA_HDRLEN + len));
	return 0;
}

int nl_put_u32(struct nl_msg *m, uint16_t type, uint32_t v)
{
	return nl_put(m, type, &v, sizeof(v));
}

int nl_put_str(struct nl_msg *m, uint16_t type, const char *s)
{
	return nl_put(m, type, s, strlen(s) + 1);
}

static int nl_send(struct nl_sock *s, struct nl_msg *m)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	m->h.nlmsg_seq = ++s->seq;
	ssize_t n = sendto(s->fd, m->buf, m->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa));
	if (n < 0)
		return -errno;
	return (size_t)n == m->h.nlmsg_len ? 0 : -EIO;
}

/*
 * Read the answers to the last request: messages of other sequence
 * numbers are skipped. `fn` (for a dump) gets every data message; the end
 * is NLMSG_DONE or, for a request, its NLMSG_ERROR (0 is the ack).
 */
static int nl_recv(struct nl_sock *s, nl_dump_fn *fn, void *arg)
{
	static uint8_t buf[NL_RECV_MAX] __attribute__((aligned(NLMSG_ALIGNTO)));
	int stop = 0;

	for (;;) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != s->seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return stop < 0 ? stop : 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
					return -EPROTO;
				const struct nlmsgerr *err = NLMSG_DATA(h);
				return err->error > 0 ? -EPROTO : err->error;
			}
			if (fn && !stop) /* the rest of a dump is read all the same */
				stop = fn(h, arg);
		}
	}
}

int nl_talk(struct nl_sock *s, struct nl_msg *m)
{
	m->h.nlmsg_flags |= NLM_F_ACK;
	int r = nl_send(s, m);
	return r < 0 ? r : nl_recv(s, NULL, NULL);
}

int nl_dump(struct nl_sock *s, struct nl_msg *m, nl_dump_fn *fn, void *arg)
{
	m->h.nlmsg_flags |= NLM_F_DUMP;
	int r = nl_send(s, m);
	return r < 0 ? r : nl_recv(s, fn, arg);
}

void nl_parse(const struct nlmsghdr *h, size_t hdrlen, const struct nlattr **tb, int max)
{
	memset(tb, 0, sizeof(*tb) * (size_t)(max + 1));
	size_t start = NLMSG_SPACE(hdrlen);
	if (h->nlmsg_len < start)
		return;
	const uint8_t *p = (const uint8_t *)h + start;
	size_t left = h->nlmsg_len - start;
	while (left >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		if (a->nla_len < NLA_HDRLEN || a->nla_len > left)
			return;
		int type = a->nla_type & NLA_TYPE_MASK;
		if (type <= max)
			tb[type] = a;
		size_t step = NLA_ALIGN(a->nla_len);
		if (step >= left)
			return;
		p += step;
		left -= step;
	}
}

static const void *nl_data(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

static size_t nl_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* --- links --------------------------------------------------------------------- */

struct nl_link_find {
	const uint8_t *mac; /* look for this address, or */
	const char *name;   /* this name */
	int ifindex;
	unsigned flags;
	uint8_t found_mac[6];
};

static int nl_link_match(const struct nlmsghdr *h, void *arg)
{
	struct nl_link_find *f = arg;
	const struct nlattr *tb[IFLA_MAX + 1];

	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return 0;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	nl_parse(h, sizeof(*ifi), tb, IFLA_MAX);
	const struct nlattr *addr = tb[IFLA_ADDRESS], *name = tb[IFLA_IFNAME];
	bool is_ether = ifi->ifi_type == ARPHRD_ETHER && addr && nl_len(addr) == 6;
	if (f->mac && (!is_ether || memcmp(nl_data(addr), f->mac, 6) != 0))
		return 0;
	if (f->name && (!name || strnlen(nl_data(name), nl_len(name)) != strlen(f->name) ||
			memcmp(nl_data(name), f->name, strlen(f->name)) != 0))
		return 0;
	if (f->ifindex)
		return 0; /* the first one found */
	f->ifindex = ifi->ifi_index;
	f->flags = ifi->ifi_flags;
	if (is_ether)
		memcpy(f->found_mac, nl_data(addr), 6);
	return 0;
}

static int nl_link_find(struct nl_sock *s, struct nl_link_find *f)
{
	struct nl_msg m;
	nl_msg_init(&m, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
	int r = nl_dump(s, &m, nl_link_match, f);
	if (r < 0)
		return r;
	return f->ifindex ? 0 : -ENODEV;
}

int nl_link_by_mac(struct nl_sock *s, const uint8_t mac[6], int *ifindex, unsigned *flags)
{
	struct nl_link_find f = { .mac = mac };
	int r = nl_link_find(s, &f);
	*ifindex = f.ifindex;
	*flags = f.flags;
	return r;
}

int nl_link_by_name(struct nl_sock *s, const char *name, int *ifindex, unsigned *flags,
		    uint8_t mac[6])
{
	struct nl_link_find f = { .name = name };
	int r = nl_link_find(s, &f);
	*ifindex = f.ifindex;
	*flags = f.flags;
	memcpy(mac, f.found_mac, 6);
	return r;
}

int nl_link_move(struct nl_sock *s, int ifindex, int nsfd)
{
	struct nl_msg m;
	struct ifinfomsg *ifi = nl_msg_init(&m, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	int r = nl_put_u32(&m, IFLA_NET_NS_FD, (uint32_t)nsfd);
	return r < 0 ? r : nl_talk(s, &m);
}

int nl_link_set(struct nl_sock *s, int ifindex, const char *name, const uint8_t *mac, unsigned mtu,
		bool up)
{
	struct nl_msg m;
	struct ifinfomsg *ifi = nl_msg_init(&m, RTM_NEWLINK, 0, sizeof(*ifi));
	int r = 0;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	if (name && (r = nl_put_str(&m, IFLA_IFNAME, name)) < 0)
		return r;
	if (mac && (r = nl_put(&m, IFLA_ADDRESS, mac, 6)) < 0)
		return r;
	if (mtu && (r = nl_put_u32(&m, IFLA_MTU, mtu)) < 0)
		return r;
	return nl_talk(s, &m);
}

/* --- addresses and routes -------------------------------------------------------- */

static size_t nl_addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

int nl_addr_add(struct nl_sock *s, int ifindex, int family, const uint8_t *addr, unsigned prefix)
{
	struct nl_msg m;
	/* REPLACE: the same address again refreshes it instead of failing */
	struct ifaddrmsg *ifa =
		nl_msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*ifa));
	size_t len = nl_addr_len(family);
	int r;

	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	/*
	 * The engine gave this address to this container: no duplicate
	 * address detection (it would hold the address back for a second,
	 * and a bridge in hairpin mode would echo the probes back).
	 */
	if (family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	if ((r = nl_put(&m, IFA_LOCAL, addr, len)) < 0 ||
	    (r = nl_put(&m, IFA_ADDRESS, addr, len)) < 0)
		return r;
	if (family == AF_INET6 && (r = nl_put_u32(&m, IFA_FLAGS, IFA_F_NODAD)) < 0)
		return r;
	return nl_talk(s, &m);
}

int nl_route_add(struct nl_sock *s, int ifindex, int family, const uint8_t *dst, unsigned prefix,
		 const uint8_t *gw, long long metric)
{
	struct nl_msg m;
	/* APPEND: a second default route (another network) goes after the first */
	struct rtmsg *rtm =
		nl_msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_APPEND, sizeof(*rtm));
	size_t len = nl_addr_len(family);
	int r;

	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = gw || family == AF_INET6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if ((prefix && (r = nl_put(&m, RTA_DST, dst, len)) < 0) ||
	    (gw && (r = nl_put(&m, RTA_GATEWAY, gw, len)) < 0) ||
	    (r = nl_put_u32(&m, RTA_OIF, (uint32_t)ifindex)) < 0 ||
	    (metric >= 0 && (r = nl_put_u32(&m, RTA_PRIORITY, (uint32_t)metric)) < 0))
		return r;
	return nl_talk(s, &m);
}
