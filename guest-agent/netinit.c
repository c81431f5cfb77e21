/*
 * A container's network namespace at CREATE: lo up and the spec's net.*
 * sysctls (see netcfg.h); and the one made ahead, before the agent's ready
 * line. /proc/sys/net shows the network namespace of whoever opens it, so
 * the agent's /proc serves any namespace.
 */
#include "netcfg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "husk/cleanup.h"
#include "netlink.h"

int netinit_lo_up(struct husk_err *e)
{
	struct nl_sock s;
	int ifindex, r;
	unsigned flags;
	uint8_t mac[6];

	if ((r = nl_open(&s, e)) < 0)
		return r;
	r = nl_link_by_name(&s, "lo", &ifindex, &flags, mac);
	if (r == 0 && !(flags & IFF_UP))
		r = nl_link_set(&s, ifindex, NULL, NULL, 0, true);
	nl_close(&s);
	return r < 0 ? husk_err_set(e, -r, "bringing up lo: %s", strerror(-r)) : 0;
}

bool netinit_sysctl_iface(const char *name, char out[IFNAMSIZ])
{
	static const char *const per_iface[] = { "net.ipv4.conf.", "net.ipv6.conf.",
						 "net.ipv4.neigh.", "net.ipv6.neigh." };
	for (size_t i = 0; i < sizeof(per_iface) / sizeof(per_iface[0]); i++) {
		size_t n = strlen(per_iface[i]);
		if (strncmp(name, per_iface[i], n) != 0)
			continue;
		size_t len = strcspn(name + n, ".");
		if (!name[n + len] || len == 0 || len >= IFNAMSIZ)
			return false;
		snprintf(out, IFNAMSIZ, "%.*s", (int)len, name + n);
		return strcmp(out, "all") && strcmp(out, "default") && strcmp(out, "lo");
	}
	return false;
}

int netinit_sysctl(const struct spec_sysctl *s, struct husk_err *e)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "/proc/sys/%s", s->name);

	if (n < 0 || (size_t)n >= sizeof(path))
		return husk_err_set(e, ENAMETOOLONG, "sysctl %s: name too long", s->name);
	/* the name is dot-separated words without "/" (spec_sysctl.c) */
	for (char *p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return husk_err_set(e, ENOENT, "sysctl %s: the guest's kernel has none", s->name);
	size_t len = strlen(s->value);
	if (fd < 0 || write(fd, s->value, len) != (ssize_t)len)
		return husk_err_set(e, errno, "sysctl %s=%s: %s", s->name, s->value,
				    strerror(errno));
	return 0;
}

int netinit_spare(struct husk_err *e)
{
	cleanup_close int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		return husk_err_set(e, errno, "/proc/self/ns/net: %s", strerror(errno));
	if (unshare(CLONE_NEWNET) < 0)
		return husk_err_set(e, errno, "a network namespace: %s", strerror(errno));
	int spare = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int r = spare < 0 ?
			husk_err_set(e, errno, "the new network namespace: %s", strerror(errno)) :
			netinit_lo_up(e);
	if (setns(own, CLONE_NEWNET) < 0 && r == 0)
		r = husk_err_set(e, errno, "back to the agent's network namespace: %s",
				 strerror(errno));
	if (r < 0 && spare >= 0)
		close(spare);
	return r < 0 ? r : spare;
}

int netinit_container(const struct spec *spec, bool made_ahead, struct husk_err *e)
{
	char iface[IFNAMSIZ];
	int r;

	if (!made_ahead && (r = netinit_lo_up(e)) < 0)
		return r;
	for (size_t i = 0; i < spec->nsysctls; i++) {
		r = netinit_sysctl(&spec->sysctls[i], e);
		if (r == -ENOENT && netinit_sysctl_iface(spec->sysctls[i].name, iface)) {
			*e = (struct husk_err){ 0 };
			continue; /* for an interface that NETWORK brings */
		}
		if (r < 0)
			return r;
	}
	return 0;
}
