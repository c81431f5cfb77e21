/*
 * The tc mirror between a link and husk's tap (see hostnet.h), as
 *	tc qdisc add dev VETH ingress
 *	tc filter add dev VETH parent ffff: protocol all u32 match u8 0 0 \
 *		action mirred egress redirect dev TAP
 * and the same from TAP to VETH. This host kernel has no matchall or
 * flower classifier: u32 with one key of mask 0 matches every frame.
 */
#include "hostnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostnet_nl.h"

#define HOSTNET_TC_INGRESS TC_H_MAKE(TC_H_INGRESS, 0) /* the ingress qdisc's handle, ffff: */

static struct nlmsghdr *hostnet_tc_msg(struct hostnet_nl *nl, uint16_t type, uint16_t flags,
				       int ifindex, uint32_t handle, uint32_t parent, uint32_t info)
{
	struct tcmsg *tcm;
	struct nlmsghdr *nlh =
		hostnet_nl_msg(nl, type, NLM_F_ACK | flags, (void **)&tcm, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_handle = handle;
	tcm->tcm_parent = parent;
	tcm->tcm_info = info;
	return nlh;
}

/* The ingress qdisc on a link; one that is there already is kept. */
static int hostnet_tc_qdisc_add(struct hostnet_nl *nl, int ifindex)
{
	struct nlmsghdr *nlh = hostnet_tc_msg(nl, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex,
					      HOSTNET_TC_INGRESS, TC_H_INGRESS, 0);
	mnl_attr_put_strz(nlh, TCA_KIND, "ingress");
	int ret = hostnet_nl_talk(nl, nlh, NULL, NULL);
	return ret == -EEXIST ? 0 : ret;
}

static int hostnet_tc_qdisc_del(struct hostnet_nl *nl, int ifindex)
{
	struct nlmsghdr *nlh =
		hostnet_tc_msg(nl, RTM_DELQDISC, 0, ifindex, HOSTNET_TC_INGRESS, TC_H_INGRESS, 0);
	return hostnet_nl_talk(nl, nlh, NULL, NULL);
}

static uint32_t hostnet_tc_info(void)
{
	return TC_H_MAKE((uint32_t)HOSTNET_TC_PRIO << 16, htons(ETH_P_ALL));
}

/* Our filters on a link's ingress (all at our priority); none is no error. */
static int hostnet_tc_filter_del(struct hostnet_nl *nl, int ifindex)
{
	struct nlmsghdr *nlh = hostnet_tc_msg(nl, RTM_DELTFILTER, 0, ifindex, 0, HOSTNET_TC_INGRESS,
					      hostnet_tc_info());
	int ret = hostnet_nl_talk(nl, nlh, NULL, NULL);
	return ret == -ENOENT ? 0 : ret;
}

/* u32 "match u8 0 0" (one key, mask 0, at offset 0), action mirred egress redirect to `to`. */
static int hostnet_tc_filter_add(struct hostnet_nl *nl, int ifindex, int to)
{
	struct nlmsghdr *nlh = hostnet_tc_msg(nl, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL,
					      ifindex, 0, HOSTNET_TC_INGRESS, hostnet_tc_info());
	mnl_attr_put_strz(nlh, TCA_KIND, "u32");
	struct nlattr *opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);

	unsigned char sel_buf[sizeof(struct tc_u32_sel) + sizeof(struct tc_u32_key)] = { 0 };
	struct tc_u32_sel sel = { .flags = TC_U32_TERMINAL, .nkeys = 1 };
	struct tc_u32_key key = { .mask = 0, .val = 0, .off = 0, .offmask = 0 };
	memcpy(sel_buf, &sel, sizeof(sel));
	memcpy(sel_buf + sizeof(sel), &key, sizeof(key));
	mnl_attr_put(nlh, TCA_U32_SEL, sizeof(sel_buf), sel_buf);

	struct nlattr *acts = mnl_attr_nest_start(nlh, TCA_U32_ACT);
	struct nlattr *act = mnl_attr_nest_start(nlh, 1); /* the first action */
	mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
	struct nlattr *act_opts = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
	struct tc_mirred mirred = {
		.action = TC_ACT_STOLEN,
		.eaction = TCA_EGRESS_REDIR,
		.ifindex = (uint32_t)to,
	};
	mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(mirred), &mirred);
	mnl_attr_nest_end(nlh, act_opts);
	mnl_attr_nest_end(nlh, act);
	mnl_attr_nest_end(nlh, acts);
	mnl_attr_nest_end(nlh, opts);
	return hostnet_nl_talk(nl, nlh, NULL, NULL);
}

/* One direction: qdisc, then our filter afresh. */
static int hostnet_tc_redirect(struct hostnet_nl *nl, const char *from, int from_idx,
			       const char *to, int to_idx, struct husk_err *e)
{
	int ret = hostnet_tc_qdisc_add(nl, from_idx);
	if (ret < 0)
		return husk_err_set(e, -ret, "%s: add the ingress qdisc: %s", from, nl->why);
	ret = hostnet_tc_filter_del(nl, from_idx);
	if (ret < 0)
		return husk_err_set(e, -ret, "%s: remove the old redirect filter: %s", from,
				    nl->why);
	ret = hostnet_tc_filter_add(nl, from_idx, to_idx);
	if (ret < 0)
		return husk_err_set(e, -ret, "%s: add the redirect filter to %s: %s", from, to,
				    nl->why);
	return 0;
}

int hostnet_tc_mirror(const char *veth, const char *tap, struct husk_err *e)
{
	int veth_idx = hostnet_nl_ifindex(veth, "network interface", e);
	if (veth_idx < 0)
		return veth_idx;
	int tap_idx = hostnet_nl_ifindex(tap, "tap", e);
	if (tap_idx < 0)
		return tap_idx;

	struct hostnet_nl *nl = calloc(1, sizeof(*nl));
	if (!nl)
		return husk_err_set(e, ENOMEM, "out of memory");
	int ret = hostnet_nl_open(nl, e);
	if (ret == 0)
		ret = hostnet_tc_redirect(nl, veth, veth_idx, tap, tap_idx, e);
	if (ret == 0)
		ret = hostnet_tc_redirect(nl, tap, tap_idx, veth, veth_idx, e);
	if (ret < 0 && nl->sock) {
		/* leave no half mirror */
		hostnet_tc_qdisc_del(nl, veth_idx);
		hostnet_tc_qdisc_del(nl, tap_idx);
	}
	hostnet_nl_close(nl);
	free(nl);
	return ret;
}

int hostnet_tc_unmirror(const char *veth, struct husk_err *e)
{
	unsigned idx = if_nametoindex(veth);
	if (idx == 0)
		return 0; /* the link is gone, and its qdisc with it */

	struct hostnet_nl *nl = calloc(1, sizeof(*nl));
	if (!nl)
		return husk_err_set(e, ENOMEM, "out of memory");
	int ret = hostnet_nl_open(nl, e);
	if (ret == 0) {
		ret = hostnet_tc_qdisc_del(nl, (int)idx);
		/* no ingress qdisc (EINVAL or ENOENT), or the link went meanwhile */
		if (ret == -ENOENT || ret == -EINVAL || ret == -ENODEV)
			ret = 0;
		else if (ret < 0)
			ret = husk_err_set(e, -ret, "%s: remove the ingress qdisc: %s", veth,
					   nl->why);
	}
	hostnet_nl_close(nl);
	free(nl);
	return ret;
}
