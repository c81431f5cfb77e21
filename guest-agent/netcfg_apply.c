/*
 * The NETWORK request's work (see netcfg.h): the guest's interfaces into
 * the container's network namespace, configured there. The calling thread
 * enters that namespace with setns() and always comes back.
 */
#include "netcfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "husk/cleanup.h"
#include "netlink.h"

static const char *netcfg_mac_str(const uint8_t m[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/* In the agent's namespace: each interface still here goes to the container's. */
static int netcfg_move_all(const struct netcfg *cfg, int nsfd, struct husk_err *e)
{
	struct nl_sock s;
	char mac[18];
	int r;

	if ((r = nl_open(&s, e)) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < cfg->nifaces; i++) {
		const struct netcfg_iface *f = &cfg->ifaces[i];
		int ifindex;
		unsigned flags;
		r = nl_link_by_mac(&s, f->device_mac, &ifindex, &flags);
		if (r == -ENODEV) {
			r = 0; /* moved already, by an earlier NETWORK (or missing: said later) */
			continue;
		}
		if (r == 0 && (flags & IFF_UP))
			r = nl_link_set(&s, ifindex, NULL, NULL, 0, false);
		if (r == 0)
			r = nl_link_move(&s, ifindex, nsfd);
		if (r < 0)
			husk_err_set(e, -r, "moving the interface %s into the container: %s",
				     netcfg_mac_str(f->device_mac, mac), strerror(-r));
	}
	nl_close(&s);
	return r;
}

/* The spec's sysctls for interface `name`, set now that it exists. */
static int netcfg_sysctls(const struct spec *spec, const char *name, struct husk_err *e)
{
	char iface[IFNAMSIZ];
	for (size_t i = 0; spec && i < spec->nsysctls; i++) {
		if (!netinit_sysctl_iface(spec->sysctls[i].name, iface) || strcmp(iface, name))
			continue;
		int r = netinit_sysctl(&spec->sysctls[i], e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* In the container's namespace: one interface named, addressed and up. */
static int netcfg_iface(struct nl_sock *s, const struct netcfg_iface *f, const struct spec *spec,
			int *ifindex, struct husk_err *e)
{
	char mac[18];
	uint8_t cur_mac[6];
	unsigned flags;
	bool renamed = false;
	int r;

	r = nl_link_by_mac(s, f->device_mac, ifindex, &flags);
	if (r == -ENODEV) {
		/* configured by an earlier NETWORK: its name and MAC are the ones asked */
		r = nl_link_by_name(s, f->name, ifindex, &flags, cur_mac);
		if (r == 0 && memcmp(cur_mac, f->mac, 6) != 0)
			r = -ENODEV;
		renamed = r == 0;
	}
	if (r == -ENODEV)
		return husk_err_set(e, ENODEV, "the guest has no interface with MAC %s",
				    netcfg_mac_str(f->device_mac, mac));
	if (r < 0)
		return husk_err_set(e, -r, "%s: looking for it: %s", f->name, strerror(-r));
	/* a name and an address are changed while the interface is down */
	if (!renamed &&
	    (r = nl_link_set(s, *ifindex, f->name, memcmp(f->device_mac, f->mac, 6) ? f->mac : NULL,
			     f->mtu, false)) < 0)
		return husk_err_set(e, -r, "%s (device %s): setting its name, MAC and MTU %u: %s",
				    f->name, netcfg_mac_str(f->device_mac, mac), f->mtu,
				    strerror(-r));
	if ((r = netcfg_sysctls(spec, f->name, e)) < 0)
		return r;
	if ((r = nl_link_set(s, *ifindex, NULL, NULL, f->mtu, true)) < 0)
		return husk_err_set(e, -r, "%s: up, MTU %u: %s", f->name, f->mtu, strerror(-r));
	for (size_t k = 0; k < f->naddrs; k++) {
		const struct netcfg_ip *a = &f->addrs[k];
		r = nl_addr_add(s, *ifindex, a->family, a->addr, a->prefix);
		if (r < 0 && r != -EEXIST) {
			char ip[64];
			inet_ntop(a->family, a->addr, ip, sizeof(ip));
			return husk_err_set(e, -r, "%s: address %s/%u: %s", f->name, ip, a->prefix,
					    strerror(-r));
		}
	}
	return 0;
}

static int netcfg_route(struct nl_sock *s, const struct netcfg *cfg, const struct netcfg_route *rt,
			const int *ifindex)
{
	int r = nl_route_add(s, ifindex[rt->dev], rt->dest.family, rt->dest.addr, rt->dest.prefix,
			     rt->has_gateway ? rt->gateway : NULL, rt->metric);
	return r == -EEXIST ? 0 : r; /* there already: a NETWORK again */
}

static int netcfg_route_err(const struct netcfg *cfg, const struct netcfg_route *rt, int r,
			    struct husk_err *e)
{
	char dst[64], gw[64] = "";
	inet_ntop(rt->dest.family, rt->dest.addr, dst, sizeof(dst));
	if (rt->has_gateway)
		inet_ntop(rt->dest.family, rt->gateway, gw, sizeof(gw));
	return husk_err_set(e, -r, "route %s/%u%s%s dev %s: %s", dst, rt->dest.prefix,
			    gw[0] ? " via " : "", gw, cfg->ifaces[rt->dev].name, strerror(-r));
}

/*
 * Routes in the order given, but one whose gateway is not reachable yet
 * (ENETUNREACH, EHOSTUNREACH: its link route comes later in the list) is tried again
 * after the others, as long as some go in.
 */
static int netcfg_routes(struct nl_sock *s, const struct netcfg *cfg, const int *ifindex,
			 struct husk_err *e)
{
	bool done[NETCFG_MAX_ROUTES] = { false };
	size_t left = cfg->nroutes;

	while (left) {
		size_t before = left;
		int last = 0;
		const struct netcfg_route *failed = NULL;
		for (size_t i = 0; i < cfg->nroutes; i++) {
			if (done[i])
				continue;
			int r = netcfg_route(s, cfg, &cfg->routes[i], ifindex);
			if (r == 0) {
				done[i] = true;
				left--;
			} else if (r != -ENETUNREACH && r != -EHOSTUNREACH) {
				return netcfg_route_err(cfg, &cfg->routes[i], r, e);
			} else {
				failed = &cfg->routes[i];
				last = r;
			}
		}
		if (left == before)
			return netcfg_route_err(cfg, failed, last, e);
	}
	return 0;
}

/*
 * In the container's namespace: each device still named by the guest's kernel
 * (eth0, eth1, ...) gets a name of husk's first, for the names asked may be
 * swapped (the engine's eth1 on the guest's eth0).
 */
_Static_assert(NETCFG_MAX_IFACES <= 10, "one digit in the temporary name");
static int netcfg_unname(struct nl_sock *s, const struct netcfg *cfg, struct husk_err *e)
{
	for (size_t i = 0; i < cfg->nifaces; i++) {
		char name[IFNAMSIZ] = "husknet0", mac[18];
		int ifindex, r;
		unsigned flags;
		r = nl_link_by_mac(s, cfg->ifaces[i].device_mac, &ifindex, &flags);
		if (r == -ENODEV)
			continue; /* named by an earlier NETWORK, or missing: said later */
		name[7] = (char)('0' + i);
		if (r == 0)
			r = nl_link_set(s, ifindex, name, NULL, 0, false);
		if (r < 0)
			return husk_err_set(e, -r, "the interface %s: naming it %s: %s",
					    netcfg_mac_str(cfg->ifaces[i].device_mac, mac), name,
					    strerror(-r));
	}
	return 0;
}

/* In the container's namespace: the interfaces, lo, the routes. */
static int netcfg_inside(const struct netcfg *cfg, const struct spec *spec, struct husk_err *e)
{
	int ifindex[NETCFG_MAX_IFACES] = { 0 };
	struct nl_sock s;
	int r;

	if ((r = nl_open(&s, e)) < 0)
		return r;
	r = netcfg_unname(&s, cfg, e);
	for (size_t i = 0; r >= 0 && i < cfg->nifaces; i++)
		r = netcfg_iface(&s, &cfg->ifaces[i], spec, &ifindex[i], e);
	if (r >= 0)
		r = netcfg_routes(&s, cfg, ifindex, e);
	nl_close(&s);
	return r < 0 ? r : netinit_lo_up(e);
}

int netcfg_apply(pid_t pid, const struct netcfg *cfg, const struct spec *spec, struct husk_err *e)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	cleanup_close int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return husk_err_set(e, errno == ENOENT ? ESRCH : errno,
				    "the container's network namespace (%s): %s", path,
				    strerror(errno));
	cleanup_close int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		return husk_err_set(e, errno, "the agent's network namespace: %s", strerror(errno));
	if ((r = netcfg_move_all(cfg, nsfd, e)) < 0)
		return r;
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return husk_err_set(e, errno, "entering the container's network namespace: %s",
				    strerror(errno));
	r = netcfg_inside(cfg, spec, e);
	if (setns(own, CLONE_NEWNET) < 0) {
		/* the vsock connections do not depend on it; later NETWORKs would */
		int err = errno;
		husk_err_set(e, err, "returning to the agent's network namespace: %s",
			     strerror(err));
		return -err;
	}
	return r;
}
