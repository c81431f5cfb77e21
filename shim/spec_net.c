/* The container's virtio-net devices, one per link of husk-vmm's network namespace. */
#include "spec_net.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

/* Same namespace as PID 1's: the host's (or, if that cannot be told, taken to be). */
static bool spec_net_host_ns(void)
{
	struct stat self, host;
	if (stat("/proc/self/ns/net", &self) < 0 || stat("/proc/1/ns/net", &host) < 0)
		return true;
	return self.st_dev == host.st_dev && self.st_ino == host.st_ino;
}

bool spec_net_wanted(bool spec_has_netns)
{
	return spec_has_netns && !spec_net_host_ns();
}

int spec_net_count_links(void)
{
	struct if_nameindex *links = if_nameindex();
	if (!links) {
		int e = -errno;
		log_err("spec", "cannot list the network links: %s", strerror(errno));
		return e;
	}
	int n = 0;
	for (struct if_nameindex *l = links; l->if_index; l++)
		if (strcmp(l->if_name, "lo"))
			n++;
	if_freenameindex(links);
	return n;
}

int spec_net_add(struct vmm_config *cfg, bool wanted)
{
	if (!wanted || cfg->nnet)
		return 0;
	int links = spec_net_count_links();
	if (links < 0)
		return links;
	unsigned n = links < 1 ? 1 : (unsigned)links;
	if (n > CONFIG_MAX_NET) {
		log_err("spec", "the network namespace has %u links; the VM takes the first %d", n,
			CONFIG_MAX_NET);
		n = CONFIG_MAX_NET;
	}
	for (unsigned i = 0; i < n; i++) {
		char opt[IFNAMSIZ + 8];
		snprintf(opt, sizeof(opt), "tap=%s%u", SPEC_NET_TAP_PREFIX, i);
		int r = config_parse_net(opt, i, &cfg->net[i]);
		if (r < 0)
			return r;
	}
	cfg->nnet = n;
	return 0;
}
