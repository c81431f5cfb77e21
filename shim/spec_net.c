/* The container's virtio-net devices, one per link of husk-vmm's network namespace. */
#include "spec_net.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

/* What the runtime mirrors (hostnet_read): an Ethernet link that is up, not one of our taps. */
static bool spec_net_counts(int sock, const char *name)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (!strncmp(name, HUSK_TAP_PREFIX, strlen(HUSK_TAP_PREFIX)) ||
	    ioctl(sock, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP))
		return false;
	return ioctl(sock, SIOCGIFHWADDR, &ifr) == 0 && ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER;
}

int spec_net_count_links(void)
{
	struct if_nameindex *links = if_nameindex();
	if (!links) {
		int e = -errno;
		log_err("spec", "cannot list the network links: %s", strerror(errno));
		return e;
	}
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int n = 0;
	for (struct if_nameindex *l = links; sock >= 0 && l->if_index; l++)
		if (spec_net_counts(sock, l->if_name))
			n++;
	int e = sock < 0 ? -errno : 0;
	if (sock < 0)
		log_err("spec", "cannot look at the network links: %s", strerror(errno));
	else
		close(sock);
	if_freenameindex(links);
	return e < 0 ? e : n;
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
		snprintf(opt, sizeof(opt), "tap=%s%u", HUSK_TAP_PREFIX, i);
		int r = config_parse_net(opt, i, &cfg->net[i]);
		if (r < 0)
			return r;
	}
	cfg->nnet = n;
	return 0;
}
