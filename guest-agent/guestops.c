/* The agent's operations in a real guest: mounts, cgroups, clone3, netlink. */
#include "agent.h"

#include <unistd.h>

#include "cgroup.h"
#include "netcfg.h"
#include "rootfs.h"

static int gops_prepare(struct container *c, const json_t *payload, struct husk_err *e)
{
	int r;

	if ((r = rootfs_mount_root(c, json_object_get(payload, "rootfs"), e)) < 0 ||
	    (r = rootfs_mount_binds(c, payload, e)) < 0 ||
	    (r = cg_create(c->id, &c->spec.resources, c->cgroup, sizeof(c->cgroup), e)) < 0)
		return r;
	return 0;
}

static void gops_release(struct container *c)
{
	rootfs_unmount(c);
	cg_remove(c->cgroup);
}

static void gops_sync(void)
{
	sync();
}

static int gops_network(struct container *c, const struct netcfg *cfg, struct husk_err *e)
{
	return netcfg_apply(c->procs->pid, cfg, &c->spec, e);
}

const struct agent_ops gops_guest = {
	.prepare = gops_prepare,
	.release = gops_release,
	.clone_child = spawn_clone_child,
	.network = gops_network,
	.refresh = refresh_apply,
	.sync = gops_sync,
};
