/*
 * The container's network devices: when the OCI config gives the container
 * a network namespace, the VM gets one virtio-net device per link of
 * husk-vmm's network namespace other than "lo" (at least one, at most
 * CONFIG_MAX_NET), each on a tap husk-vmm makes there: tap "husktap<i>",
 * MAC 02:68:75:73:6b:<i>. The runtime attaches each tap to its link later.
 */
#ifndef HUSK_SHIM_SPEC_NET_H
#define HUSK_SHIM_SPEC_NET_H

#include <stdbool.h>

#include "config.h"
#include "husk/netdev.h"

/*
 * The links of husk-vmm's network namespace the runtime will mirror (Ethernet,
 * up, not a husktap); -errno (logged) on failure.
 */
int spec_net_count_links(void);

/*
 * With wanted (the config has a network namespace and husk-vmm was started
 * in it: --netns-own), add max(1, links) devices (at most
 * CONFIG_MAX_NET) to cfg; none when cfg already has --net devices of its
 * own. -errno (logged) on failure.
 */
int spec_net_add(struct vmm_config *cfg, bool wanted);

#endif
