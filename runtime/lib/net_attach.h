/*
 * Attaching the container's VM to its network namespace on the host: once
 * the namespace has its links (at create after the hooks, or, if it had
 * none then, at start before the workload runs), each link is mirrored to
 * a tap of husk-vmm's and the guest told its addresses and routes; delete
 * takes down what the attach added to a namespace that outlives the
 * container. Its callers are in lifecycle.c.
 */
#ifndef HUSK_RUNTIME_NET_ATTACH_H
#define HUSK_RUNTIME_NET_ATTACH_H

#include "husk/error.h"
#include "state.h"

enum husk_net_when {
	HUSK_NET_AT_CREATE, /* after the create hooks (Podman's namespace, Docker's prestart) */
	HUSK_NET_AT_START,  /* before START (ctr --cni fills the namespace after create) */
};

/* A failure fails the create or start that called it. */
int husk_net_attach(struct husk_state *st, enum husk_net_when when, struct husk_err *e);
/* At delete, before husk-vmm ends; whatever fails is left as it is. */
void husk_net_detach(const struct husk_state *st);

#endif
