/*
 * The container's network, as the host's NETWORK request gives it (see
 * include/husk/proto.h): the guest's interfaces, each named by the MAC
 * husk-vmm gave its device, with the name, MAC, MTU and addresses of the
 * engine's interface it stands for, and the routes. netcfg_parse.c checks
 * the payload, netcfg_apply.c puts it into the container's network
 * namespace; netinit.c sets up that namespace at CREATE.
 */
#ifndef HUSK_AGENT_NETCFG_H
#define HUSK_AGENT_NETCFG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "husk/error.h"
#include "husk/spec.h"

#define NETCFG_MAX_IFACES 4 /* as many as husk-vmm gives a VM */
#define NETCFG_MAX_ADDRS  32
#define NETCFG_MAX_ROUTES 128

struct netcfg_ip {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix; /* 0..32 or 0..128 */
};

struct netcfg_iface {
	uint8_t device_mac[6]; /* the guest's device: how it is found */
	char name[IFNAMSIZ];
	uint8_t mac[6];
	unsigned mtu;
	struct netcfg_ip addrs[NETCFG_MAX_ADDRS];
	size_t naddrs;
};

struct netcfg_route {
	struct netcfg_ip dest;
	bool has_gateway;
	uint8_t gateway[16]; /* of dest's family */
	size_t dev;	     /* index into netcfg.ifaces */
	long long metric;    /* -1: the kernel's default */
};

struct netcfg {
	struct netcfg_iface ifaces[NETCFG_MAX_IFACES];
	size_t nifaces;
	struct netcfg_route routes[NETCFG_MAX_ROUTES];
	size_t nroutes;
};

/* netcfg_parse.c: the NETWORK payload, every field checked (errors name the field). */
int netcfg_parse(const json_t *payload, struct netcfg *out, struct husk_err *e);
/* "aa:bb:cc:dd:ee:ff" (either case) into out; false if it is not one. */
bool netcfg_parse_mac(const char *s, uint8_t out[6]);
/* "10.0.0.5/16", "fd00::5/64" into out; false if it is not one. */
bool netcfg_parse_cidr(const char *s, struct netcfg_ip *out);

/*
 * netcfg_apply.c: move each interface (found by device_mac in the calling
 * thread's network namespace) into the network namespace of process `pid`,
 * and there name it, give it its MAC and MTU, bring it up, add its
 * addresses, then the routes (appended), and bring up lo. The calling
 * thread enters that namespace and comes back. The spec's net.* sysctls
 * that name one of these interfaces are set before it comes up. Running
 * it again with the same configuration succeeds.
 */
int netcfg_apply(pid_t pid, const struct netcfg *cfg, const struct spec *spec, struct husk_err *e);

/*
 * netinit.c, in the container's first process, in its new network
 * namespace before anything else: bring up lo (unless the namespace was
 * made ahead, with lo up: made_ahead) and set the spec's net.*
 * sysctls (through the agent's /proc, still visible). A sysctl of an
 * interface that is not there yet (net.ipv4.conf.eth0.*) is left for
 * netcfg_apply.
 */
int netinit_container(const struct spec *spec, bool made_ahead, struct husk_err *e);
/*
 * A network namespace made ahead, with lo up, for the first container that
 * asks for one of its own (see agent.h, spare_netns): its fd, or a
 * negative errno. The calling thread stays in its own namespace.
 */
int netinit_spare(struct husk_err *e);
/* Bring up lo in the calling thread's network namespace. */
int netinit_lo_up(struct husk_err *e);
/*
 * Write one sysctl (name with dots) in the calling thread's network
 * namespace. -ENOENT ("the guest's kernel has none") when it does not exist.
 */
int netinit_sysctl(const struct spec_sysctl *s, struct husk_err *e);
/* The interface a per-interface net.* sysctl names (into out), or false. */
bool netinit_sysctl_iface(const char *name, char out[IFNAMSIZ]);

#endif
