/*
 * What husk and husk-vmm agree on for a container's network devices:
 * husk-vmm makes device i on tap HUSK_TAP_PREFIX<i> with MAC
 * HUSK_DEVICE_MAC_PREFIX:<i> (runtime: shim/spec_net.c, vmm/config.c);
 * husk mirrors the engine's link i to that tap and names the device to the
 * guest by that MAC (runtime/lib/hostnet_*.c).
 */
#ifndef HUSK_NETDEV_H
#define HUSK_NETDEV_H

#define HUSK_TAP_PREFIX "husktap"
/* "husk" and the index, locally administered: 02:68:75:73:6b:<i> */
#define HUSK_DEVICE_MAC_PREFIX 0x02, 0x68, 0x75, 0x73, 0x6b

#endif
