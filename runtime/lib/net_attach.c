/*
 * Attaching the VM to the container's network namespace (see net_attach.h):
 * not done yet. These are the places lifecycle.c calls it from.
 */
#include "net_attach.h"

int husk_net_attach(const struct husk_state *st, enum husk_net_when when, struct husk_err *e)
{
	(void)st;
	(void)when;
	(void)e;
	return 0;
}

void husk_net_detach(const struct husk_state *st)
{
	(void)st;
}
