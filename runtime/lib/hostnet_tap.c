/* Preparing husk's taps: quiet, the link's MTU, up (see hostnet.h). */
#include "hostnet.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostnet_nl.h"

void hostnet_tap_name(unsigned i, char name[IFNAMSIZ])
{
	snprintf(name, IFNAMSIZ, "%s%u", HUSK_TAP_PREFIX, i % 100);
}

void hostnet_device_mac(unsigned i, char mac[18])
{
	static const unsigned char p[] = { HUSK_DEVICE_MAC_PREFIX };
	snprintf(mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4], i & 0xff);
}

/* RTM_NEWLINK on an existing link: its attributes, or its flags when `up`. */
static int hostnet_tap_set(struct hostnet_nl *nl, int ifindex, uint32_t mtu, bool up)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh =
		hostnet_nl_msg(nl, RTM_NEWLINK, NLM_F_ACK, (void **)&ifi, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
		return hostnet_nl_talk(nl, nlh, NULL, NULL);
	}
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	struct nlattr *inet6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, inet6);
	mnl_attr_nest_end(nlh, spec);
	return hostnet_nl_talk(nl, nlh, NULL, NULL);
}

int hostnet_tap_prepare(const char *tap, uint32_t mtu, struct husk_err *e)
{
	int ifindex = hostnet_nl_ifindex(tap, "tap", e);
	if (ifindex < 0)
		return ifindex;
	if (mtu < 68)
		return husk_err_set(e, EINVAL, "tap %s: MTU %u is too small", tap, mtu);

	struct hostnet_nl *nl = calloc(1, sizeof(*nl));
	if (!nl)
		return husk_err_set(e, ENOMEM, "out of memory");
	int ret = hostnet_nl_open(nl, e);
	if (ret < 0)
		goto out;
	ret = hostnet_tap_set(nl, ifindex, mtu, false);
	if (ret == -EAFNOSUPPORT) {
		/* no IPv6 on this link (disabled, or not in the kernel): nothing to quiet */
		void *unused;
		struct nlmsghdr *nlh = hostnet_nl_msg(nl, RTM_NEWLINK, NLM_F_ACK, &unused,
						      sizeof(struct ifinfomsg));
		((struct ifinfomsg *)unused)->ifi_index = ifindex;
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
		ret = hostnet_nl_talk(nl, nlh, NULL, NULL);
	}
	if (ret < 0) {
		ret = husk_err_set(e, -ret, "tap %s: set MTU %u and no IPv6 address: %s", tap, mtu,
				   nl->why);
		goto out;
	}
	ret = hostnet_tap_set(nl, ifindex, 0, true);
	if (ret < 0)
		ret = husk_err_set(e, -ret, "tap %s: up: %s", tap, nl->why);
out:
	hostnet_nl_close(nl);
	free(nl);
	return ret;
}
