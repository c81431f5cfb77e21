/*
 * libFuzzer target: the agent's checks of a NETWORK payload
 * (guest-agent/netcfg_parse.c), JSON text from the host. Whatever it
 * accepts must hold to the bounds netcfg_apply relies on: counts, prefix
 * lengths, families, a route's interface index, names shorter than
 * IFNAMSIZ and MTUs in 68..65535. A refusal must say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_ip_ok(const struct netcfg_ip *ip)
{
	return (ip->family == AF_INET && ip->prefix <= 32) ||
	       (ip->family == AF_INET6 && ip->prefix <= 128);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct netcfg cfg;
	struct husk_err e = { 0 };
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);

	if (!j)
		return 0;
	if (netcfg_parse(j, &cfg, &e) < 0) {
		if (!e.code || !e.msg[0])
			__builtin_trap();
		json_decref(j);
		return 0;
	}
	if (cfg.nifaces > NETCFG_MAX_IFACES || cfg.nroutes > NETCFG_MAX_ROUTES)
		__builtin_trap();
	for (size_t i = 0; i < cfg.nifaces; i++) {
		const struct netcfg_iface *f = &cfg.ifaces[i];
		size_t n = strnlen(f->name, sizeof(f->name));
		if (n == 0 || n >= IFNAMSIZ || f->mtu < 68 || f->mtu > 65535 ||
		    f->naddrs > NETCFG_MAX_ADDRS || (f->mac[0] & 1))
			__builtin_trap();
		for (size_t k = 0; k < f->naddrs; k++)
			if (!fuzz_ip_ok(&f->addrs[k]))
				__builtin_trap();
	}
	for (size_t i = 0; i < cfg.nroutes; i++) {
		const struct netcfg_route *rt = &cfg.routes[i];
		if (rt->dev >= cfg.nifaces || !fuzz_ip_ok(&rt->dest) || rt->metric < -1 ||
		    rt->metric > UINT32_MAX)
			__builtin_trap();
	}
	json_decref(j);
	return 0;
}
