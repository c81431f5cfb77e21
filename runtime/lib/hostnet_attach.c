/* Attaching a namespace's links to husk's taps, and detaching them (see hostnet.h). */
#include "hostnet.h"

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
			return husk_err_wrap(e, "attach %s to %s: ", l->name, tap);
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
