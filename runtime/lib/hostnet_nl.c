/* rtnetlink requests and answers through libmnl (see hostnet_nl.h). */
#include "hostnet_nl.h"

#include <errno.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int hostnet_nl_open(struct hostnet_nl *nl, struct husk_err *e)
{
	int one = 1;

	nl->why[0] = '\0';
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return husk_err_set(e, errno, "rtnetlink socket: %s", strerror(errno));
	/* best effort: the kernel's reason with an error, without our request echoed */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return husk_err_set(e, err, "rtnetlink bind: %s", strerror(err));
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	return 0;
}

void hostnet_nl_close(struct hostnet_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

struct nlmsghdr *hostnet_nl_msg(struct hostnet_nl *nl, uint16_t type, uint16_t flags, void **extra,
				size_t extra_len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	*extra = mnl_nlmsg_put_extra_header(nlh, extra_len);
	return nlh;
}

static int hostnet_nl_ext_msg(const struct nlattr *a, void *data)
{
	struct hostnet_nl *nl = data;
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		snprintf(nl->why, sizeof(nl->why), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

/* An NLMSG_ERROR answer: 0 for an ack, else -errno with nl->why set. */
static int hostnet_nl_error(struct hostnet_nl *nl, const struct nlmsghdr *m)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(m);
	if (mnl_nlmsg_get_payload_len(m) < sizeof(*err)) {
		snprintf(nl->why, sizeof(nl->why), "a short netlink error message");
		return -EBADMSG;
	}
	if (err->error == 0)
		return 0;
	int code = err->error < 0 ? -err->error : err->error;
	snprintf(nl->why, sizeof(nl->why), "%s", strerror(code));
	if ((m->nlmsg_flags & NLM_F_ACK_TLVS) && (m->nlmsg_flags & NLM_F_CAPPED))
		mnl_attr_parse(m, sizeof(*err), hostnet_nl_ext_msg, nl);
	return -code;
}

int hostnet_nl_talk(struct hostnet_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;

	nl->why[0] = '\0';
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0) {
		snprintf(nl->why, sizeof(nl->why), "send: %s", strerror(errno));
		return -errno;
	}
	for (;;) {
		ssize_t got = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (got < 0) {
			if (errno == EINTR)
				continue;
			snprintf(nl->why, sizeof(nl->why), "receive: %s", strerror(errno));
			return -errno;
		}
		int len = (int)got;
		for (const struct nlmsghdr *m = (const void *)nl->buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_seq != seq || m->nlmsg_pid != nl->portid)
				continue;
			if (m->nlmsg_type == NLMSG_ERROR)
				return hostnet_nl_error(nl, m);
			if (m->nlmsg_type == NLMSG_DONE) {
				const int *status = mnl_nlmsg_get_payload(m);
				if (mnl_nlmsg_get_payload_len(m) >= sizeof(int) && *status < 0) {
					snprintf(nl->why, sizeof(nl->why), "%s",
						 strerror(-*status));
					return *status;
				}
				return 0;
			}
			if (m->nlmsg_type < NLMSG_MIN_TYPE || !cb)
				continue;
			if (cb(m, data) == MNL_CB_ERROR) {
				int err = errno ? errno : EINVAL;
				snprintf(nl->why, sizeof(nl->why), "%s", strerror(err));
				return -err;
			}
		}
	}
}

int hostnet_nl_ifindex(const char *name, const char *what, struct husk_err *e)
{
	unsigned idx = if_nametoindex(name);
	if (idx == 0)
		return husk_err_set(e, ENODEV, "%s %s: no such network interface", what, name);
	return (int)idx;
}
