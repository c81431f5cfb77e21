/*
 * fuzz_virtio_net drives the device through its transport only. The
 * device-module glue in virtio_net.c (its option parser and its creation
 * under the device manager) calls these, and the fuzzer never reaches it:
 * here they stop the run if it ever did.
 */
#include <stdlib.h>

#include "config.h"
#include "devices/devmgr.h"

int config_parse_net(const char *s, unsigned index, struct net_config *n)
{
	(void)s;
	(void)index;
	(void)n;
	abort();
}

int devmgr_add(struct devmgr *dm, struct virtio_mmio *t, const struct virtio_device_ops *ops,
	       void *dev)
{
	(void)dm;
	(void)t;
	(void)ops;
	(void)dev;
	abort();
}
