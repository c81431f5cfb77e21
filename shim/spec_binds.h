/*
 * Bind mounts from the host in an OCI config (podman's /etc/hosts,
 * /etc/resolv.conf, /run/.containerenv, ...) reach the guest through one
 * virtio-fs share: each source is bind-mounted into a staging directory
 * (in husk-vmm's own mount namespace, so nothing outlives it), the share
 * serves that directory, and the config's sources are rewritten to where
 * the agent mounts the share (/run/husk/<id>/binds/N).
 */
#ifndef HUSK_SHIM_SPEC_BINDS_H
#define HUSK_SHIM_SPEC_BINDS_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>

#define SPEC_BINDS_TAG "binds"

struct spec_binds {
	char dir[PATH_MAX]; /* the staging directory, "" when there is none */
	unsigned n;
};

/*
 * Stage the host binds of config (rewriting it); *needed says whether
 * there were any. The staging directory is dir, made here (the runtime
 * names one in its state directory, so that it goes with the state even
 * when husk-vmm is killed), or with dir NULL a fresh /tmp/husk-binds-*.
 * Call before any thread or virtiofsd starts.
 */
int spec_binds_prepare(struct spec_binds *b, json_t *config, const char *id, const char *dir,
		       bool *needed);
void spec_binds_remove(struct spec_binds *b);

#endif
