/*
 * Attaching the VM to the container's network namespace (see net_attach.h):
 * hostnet_attach_pid mirrors each of the engine's links to husk-vmm's tap of
 * the same rank; the agent then gives the guest's interfaces the links'
 * names, MACs, addresses and routes (NETWORK). What was mirrored is kept in
 * the state, for delete.
 */
#include "net_attach.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "hostnet.h"
#include "husk/proto.h"

_Static_assert(HUSK_STATE_MAX_LINKS == HOSTNET_MAX_LINKS, "the state keeps every link");
_Static_assert(sizeof(((struct husk_state *)0)->net_links[0]) == IFNAMSIZ, "a link's name");

int husk_net_attach(struct husk_state *st, enum husk_net_when when, struct husk_err *e)
{
	struct hostnet n;
	json_t *payload = NULL;

	if (st->net_attached)
		return 0;
	int r = hostnet_attach_pid(st->pid, st->id, &n, &payload, e);
	if (r < 0)
		return r;
	if (!payload)
		return 0; /* nothing yet, or nothing ever (--network none): the guest keeps lo only */
	/* kept before the guest is told, so that delete takes the mirrors down whatever follows */
	st->net_attached = true;
	st->n_net_links = n.n_links;
	for (unsigned i = 0; i < n.n_links; i++)
		snprintf(st->net_links[i], sizeof(st->net_links[i]), "%s", n.links[i].name);
	r = state_save(st, e);
	if (r == 0)
		r = state_agent_call(st, PROTO_NETWORK, payload, NULL, e);
	else
		json_decref(payload);
	if (r < 0)
		return husk_err_wrap(e, "the container's network (%s)",
				     when == HUSK_NET_AT_CREATE ? "at create" : "at start");
	return 0;
}

void husk_net_detach(const struct husk_state *st)
{
	char own[64];
	const char *links[HOSTNET_MAX_LINKS];
	struct husk_err e = { 0 };

	if (!st->net_attached)
		return;
	/*
	 * The spec's path while it is there: a husk-vmm that is going (its
	 * workload ended) may still be alive and yet no longer show its
	 * namespace in /proc, and the namespace outlives it. Otherwise
	 * husk-vmm's own (one husk made, or a path the engine removed first).
	 */
	const char *ns = st->netns;
	if ((!ns[0] || access(ns, F_OK) < 0) && state_alive(st)) {
		snprintf(own, sizeof(own), "/proc/%d/ns/net", (int)st->pid);
		ns = own;
	}
	if (!ns[0])
		return;
	for (unsigned i = 0; i < st->n_net_links; i++)
		links[i] = st->net_links[i];
	hostnet_detach_path(ns, links, st->n_net_links, &e);
}
