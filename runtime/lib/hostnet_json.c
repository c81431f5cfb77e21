/* The agent's NETWORK request from what hostnet_read found (see hostnet.h). */
#include "hostnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <stdio.h>

static json_t *hostnet_json_cidr(int family, const uint8_t *addr, unsigned prefixlen)
{
	char ip[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 8];
	if (!inet_ntop(family, addr, ip, sizeof(ip)))
		return NULL;
	snprintf(cidr, sizeof(cidr), "%s/%u", ip, prefixlen);
	return json_string(cidr);
}

static json_t *hostnet_json_link(unsigned i, const struct hostnet_link *l, struct husk_err *e)
{
	char device_mac[18], mac[18];

	if (l->type != ARPHRD_ETHER) {
		husk_err_set(e, EOPNOTSUPP,
			     "network interface %s is not Ethernet (link type %u): husk can give a "
			     "VM only Ethernet interfaces",
			     l->name, l->type);
		return NULL;
	}
	hostnet_device_mac(i, device_mac);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", l->mac[0], l->mac[1], l->mac[2],
		 l->mac[3], l->mac[4], l->mac[5]);
	json_t *addrs = json_array();
	for (unsigned a = 0; addrs && a < l->n_addrs; a++) {
		const struct hostnet_addr *ad = &l->addrs[a];
		if (json_array_append_new(addrs,
					  hostnet_json_cidr(ad->family, ad->addr, ad->prefixlen))) {
			json_decref(addrs);
			addrs = NULL;
		}
	}
	json_t *o = addrs ? json_pack("{s:s, s:s, s:s, s:I, s:o}", "device_mac", device_mac, "name",
				      l->name, "mac", mac, "mtu", (json_int_t)l->mtu, "addresses",
				      addrs) :
			    NULL;
	if (!o)
		husk_err_set(e, ENOMEM, "out of memory");
	return o;
}

static json_t *hostnet_json_route(const struct hostnet *n, const struct hostnet_route *rt)
{
	json_t *dest;
	if (rt->dst_len == 0)
		dest = json_string(rt->family == AF_INET ? "default" : "::/0");
	else
		dest = hostnet_json_cidr(rt->family, rt->dst, rt->dst_len);
	json_t *o = json_pack("{s:o, s:s}", "dest", dest, "dev", n->links[rt->link].name);
	if (o && rt->has_gateway) {
		char gw[INET6_ADDRSTRLEN];
		if (!inet_ntop(rt->family, rt->gateway, gw, sizeof(gw)) ||
		    json_object_set_new(o, "gateway", json_string(gw))) {
			json_decref(o);
			return NULL;
		}
	}
	if (o && rt->has_metric &&
	    json_object_set_new(o, "metric", json_integer((json_int_t)rt->metric))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *hostnet_payload(const char *id, const struct hostnet *n, struct husk_err *e)
{
	json_t *ifs = json_array(), *routes = json_array();
	if (!ifs || !routes)
		goto oom;
	for (unsigned i = 0; i < n->n_links; i++) {
		json_t *l = hostnet_json_link(i, &n->links[i], e);
		if (!l || json_array_append_new(ifs, l))
			goto fail;
	}
	for (unsigned r = 0; r < n->n_routes; r++) {
		if (n->routes[r].link >= n->n_links) {
			husk_err_set(e, EINVAL, "route %u: no such interface", r);
			goto fail;
		}
		if (json_array_append_new(routes, hostnet_json_route(n, &n->routes[r])))
			goto oom;
	}
	json_t *o = json_pack("{s:s, s:o, s:o}", "id", id, "interfaces", ifs, "routes", routes);
	if (o)
		return o;
	ifs = routes = NULL; /* json_pack's "o" took them, even on failure */
oom:
	husk_err_set(e, ENOMEM, "out of memory");
fail:
	json_decref(ifs);
	json_decref(routes);
	return NULL;
}
