/*
 * The NETWORK request's payload into struct netcfg (see netcfg.h). It comes
 * from the host: every count is bounded, every string checked, and every
 * error names the field.
 */
#include "netcfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "husk/proto.h"

#define NETCFG_AT_MAX 64

bool netcfg_parse_mac(const char *s, uint8_t out[6])
{
	for (int i = 0; i < 6; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = *s++;
			unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
				     c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) :
				     c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) :
							    16;
			if (d > 15)
				return false;
			v = v << 4 | d;
		}
		out[i] = (uint8_t)v;
		if (*s++ != (i < 5 ? ':' : '\0'))
			return false;
	}
	return true;
}

/* An IPv4 or IPv6 address without a prefix. */
static bool netcfg_parse_ip(const char *s, int *family, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

bool netcfg_parse_cidr(const char *s, struct netcfg_ip *out)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	unsigned prefix = 0;

	if (!slash || (size_t)(slash - s) >= sizeof(ip) || !slash[1] || strlen(slash + 1) > 3)
		return false;
	for (const char *p = slash + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		prefix = prefix * 10 + (unsigned)(*p - '0');
	}
	if (slash[1] == '0' && slash[2])
		return false; /* "/08" */
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (!netcfg_parse_ip(ip, &out->family, out->addr))
		return false;
	out->prefix = prefix;
	return prefix <= (out->family == AF_INET ? 32u : 128u);
}

/* A destination: no bit set past the prefix (the kernel would refuse it). */
static bool netcfg_host_bits_clear(const struct netcfg_ip *ip)
{
	unsigned bits = ip->family == AF_INET ? 32 : 128;
	for (unsigned b = ip->prefix; b < bits; b++)
		if (ip->addr[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

/* An interface name as the kernel takes it (dev_valid_name), and not lo. */
static bool netcfg_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, "..") ||
	    !strcmp(name, "lo"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || name[i] == ':' || (unsigned char)name[i] <= ' ' ||
		    (unsigned char)name[i] >= 0x7f)
			return false;
	return true;
}

static const json_t *netcfg_array(const json_t *obj, const char *key, size_t max,
				  struct husk_err *e)
{
	const json_t *a = json_object_get(obj, key);
	if (!a || json_is_null(a))
		return NULL;
	if (!json_is_array(a)) {
		husk_err_set(e, EINVAL, "\"%s\": not an array", key);
		return NULL;
	}
	if (json_array_size(a) > max) {
		husk_err_set(e, EINVAL, "\"%s\": more than %zu entries", key, max);
		return NULL;
	}
	return a;
}

static int netcfg_mac_field(const json_t *obj, const char *key, const char *at, bool unicast,
			    uint8_t out[6], struct husk_err *e)
{
	const char *s = NULL;
	int r = proto_get_string(obj, key, 1, &s, e);
	if (r < 0)
		return husk_err_wrap(e, "%s", at);
	if (!netcfg_parse_mac(s, out))
		return husk_err_set(e, EINVAL, "%s.%s: \"%.40s\" is not a MAC address", at, key, s);
	static const uint8_t zero[6];
	if (unicast && ((out[0] & 1) || !memcmp(out, zero, 6)))
		return husk_err_set(e, EINVAL, "%s.%s: %s is not a unicast address", at, key, s);
	return 0;
}

static int netcfg_iface(const json_t *j, size_t i, struct netcfg_iface *out, struct husk_err *e)
{
	char at[NETCFG_AT_MAX];
	const char *name = NULL;
	long long mtu = 0;
	int r;

	snprintf(at, sizeof(at), "interfaces[%zu]", i);
	if (!json_is_object(j))
		return husk_err_set(e, EINVAL, "%s: not an object", at);
	if ((r = netcfg_mac_field(j, "device_mac", at, false, out->device_mac, e)) < 0 ||
	    (r = netcfg_mac_field(j, "mac", at, true, out->mac, e)) < 0)
		return r;
	if ((r = proto_get_string(j, "name", 1, &name, e)) < 0 ||
	    (r = proto_get_int(j, "mtu", 1, 68, 65535, &mtu, e)) < 0)
		return husk_err_wrap(e, "%s", at);
	if (!netcfg_name_ok(name))
		return husk_err_set(e, EINVAL, "%s.name: \"%.40s\" is not an interface name", at,
				    name);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->mtu = (unsigned)mtu;

	snprintf(at, sizeof(at), "interfaces[%zu].addresses", i);
	const json_t *addrs = netcfg_array(j, "addresses", NETCFG_MAX_ADDRS, e);
	if (e->code)
		return husk_err_wrap(e, "interfaces[%zu]", i);
	const json_t *a;
	size_t k;
	json_array_foreach (addrs, k, a) {
		const char *s = json_string_value(a);
		if (!s || strlen(s) != json_string_length(a))
			return husk_err_set(e, EINVAL, "%s[%zu]: not a string", at, k);
		if (!netcfg_parse_cidr(s, &out->addrs[k]))
			return husk_err_set(e, EINVAL,
					    "%s[%zu]: \"%.50s\" is not an address with a prefix "
					    "(10.0.0.5/16, fd00::5/64)",
					    at, k, s);
		out->naddrs++;
	}
	return 0;
}

static int netcfg_route(const json_t *j, size_t i, const struct netcfg *cfg,
			struct netcfg_route *out, struct husk_err *e)
{
	char at[NETCFG_AT_MAX];
	const char *dest = NULL, *gw = NULL, *dev = NULL;
	long long metric = -1;
	int gw_family = 0, r;

	snprintf(at, sizeof(at), "routes[%zu]", i);
	if (!json_is_object(j))
		return husk_err_set(e, EINVAL, "%s: not an object", at);
	if ((r = proto_get_string(j, "dest", 1, &dest, e)) < 0 ||
	    (r = proto_get_string(j, "gateway", 0, &gw, e)) < 0 ||
	    (r = proto_get_string(j, "dev", 1, &dev, e)) < 0 ||
	    (r = proto_get_int(j, "metric", 0, 0, UINT32_MAX, &metric, e)) < 0)
		return husk_err_wrap(e, "%s", at);
	out->metric = metric;
	if (gw) {
		if (!netcfg_parse_ip(gw, &gw_family, out->gateway))
			return husk_err_set(e, EINVAL, "%s.gateway: \"%.50s\" is not an address",
					    at, gw);
		out->has_gateway = true;
	}
	if (!strcmp(dest, "default")) {
		/* IPv4's, or IPv6's for an IPv6 gateway */
		out->dest = (struct netcfg_ip){ .family = gw_family ? gw_family : AF_INET };
	} else if (!netcfg_parse_cidr(dest, &out->dest)) {
		return husk_err_set(e, EINVAL,
				    "%s.dest: \"%.50s\" is not \"default\" or a network "
				    "(10.1.0.0/16, fd00::/64)",
				    at, dest);
	} else if (!netcfg_host_bits_clear(&out->dest)) {
		return husk_err_set(e, EINVAL, "%s.dest: %s has bits set past its prefix", at,
				    dest);
	}
	if (gw_family && gw_family != out->dest.family)
		return husk_err_set(e, EINVAL, "%s: gateway %s is not of the family of %s", at, gw,
				    dest);
	for (out->dev = 0; out->dev < cfg->nifaces; out->dev++)
		if (!strcmp(cfg->ifaces[out->dev].name, dev))
			return 0;
	return husk_err_set(e, EINVAL, "%s.dev: \"%.40s\" is none of the interfaces", at, dev);
}

int netcfg_parse(const json_t *payload, struct netcfg *out, struct husk_err *e)
{
	const json_t *j;
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	const json_t *ifaces = netcfg_array(payload, "interfaces", NETCFG_MAX_IFACES, e);
	if (e->code)
		return -e->code;
	if (!ifaces)
		return husk_err_set(e, EINVAL, "\"interfaces\": missing");
	json_array_foreach (ifaces, i, j) {
		struct netcfg_iface *f = &out->ifaces[i];
		if ((r = netcfg_iface(j, i, f, e)) < 0)
			return r;
		for (size_t k = 0; k < i; k++) {
			if (!memcmp(out->ifaces[k].device_mac, f->device_mac, 6))
				return husk_err_set(e, EINVAL,
						    "interfaces[%zu].device_mac: the same as "
						    "interfaces[%zu]'s",
						    i, k);
			if (!strcmp(out->ifaces[k].name, f->name))
				return husk_err_set(e, EINVAL,
						    "interfaces[%zu].name: %s is named twice", i,
						    f->name);
		}
		out->nifaces++;
	}
	const json_t *routes = netcfg_array(payload, "routes", NETCFG_MAX_ROUTES, e);
	if (e->code)
		return -e->code;
	json_array_foreach (routes, i, j) {
		if ((r = netcfg_route(j, i, out, &out->routes[i], e)) < 0)
			return r;
		out->nroutes++;
	}
	return 0;
}
