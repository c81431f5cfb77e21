/* Attaching a namespace's links to husk's taps, and detaching them (see hostnet.h). */
#include "hostnet.h"

#include <errno.h>
#include <stdio.h>

#include "netns.h"

int hostnet_attach(const struct hostnet *n, struct husk_err *e)
{
	for (unsigned i = 0; i < n->n_links; i++) {
		const struct hostnet_link *l = &n->links[i];
		char tap[IFNAMSIZ];
		hostnet_tap_name(i, tap);
		int ret = hostnet_tap_prepare(tap, l->mtu, e);
		if (ret == 0)
			ret = hostnet_tc_mirror(l->name, tap, e);
		if (ret < 0) {
			for (unsigned j = 0; j < i; j++)
				hostnet_tc_unmirror(n->links[j].name, NULL);
			return husk_err_wrap(e, "attach %s to %s", l->name, tap);
		}
	}
	return 0;
}

int hostnet_detach(const struct hostnet *n, struct husk_err *e)
{
	int first = 0;
	for (unsigned i = 0; i < n->n_links; i++) {
		int ret = hostnet_tc_unmirror(n->links[i].name, e);
		if (ret < 0 && first == 0)
			first = ret;
	}
	return first;
}

int hostnet_attach_pid(pid_t pid, const char *id, struct hostnet *n, json_t **payload,
		       struct husk_err *e)
{
	int saved = -1;

	*payload = NULL;
	int ret = netns_enter_pid(pid, &saved, e);
	if (ret < 0)
		return husk_err_wrap(e, "container network");
	json_t *p = NULL;
	ret = hostnet_read(n, e);
	if (ret == 0 && n->n_links > 0) {
		/* the payload first: it refuses a link that is not Ethernet before any mirror */
		p = hostnet_payload(id, n, e);
		ret = p ? hostnet_attach(n, e) : -e->code;
	}
	int back = netns_leave(&saved, e);
	if (ret == 0 && back < 0)
		ret = back;
	if (ret < 0) {
		json_decref(p);
		return husk_err_wrap(e, "container network");
	}
	*payload = p;
	return 0;
}

int hostnet_detach_path(const char *netns_path, const char *const *links, unsigned n_links,
			struct husk_err *e)
{
	cleanup_netns int saved = -1;

	struct husk_err enter = { 0 };
	int ret = netns_enter_path(netns_path, &saved, &enter);
	if (ret == -ENOENT || ret == -ESRCH)
		return 0; /* the namespace is gone, and the qdiscs in it */
	if (ret < 0)
		return husk_err_set(e, enter.code, "%s", enter.msg);
	for (unsigned i = 0; i < n_links; i++) {
		int r = hostnet_tc_unmirror(links[i], e);
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}
