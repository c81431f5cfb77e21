/* husk-vmm's container options (see shim_options.h). */
#include "shim_options.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>

#include "log.h"

enum {
	OPT_SPEC = CONFIG_OPT_EXTRA,
	OPT_ID,
	OPT_CONTROL,
	OPT_READY_FD,
	OPT_BINDS_DIR,
	OPT_NETNS_OWN,
	OPT_TEMPLATE_DIR,
	OPT_NO_TEMPLATE,
	OPT_STEPS
};

void shim_options_usage(FILE *f)
{
	config_usage(f);
	fputs("  --spec CONFIG.json   run the OCI config's process in the guest, with\n"
	      "                       husk-vmm's stdio as its own, and exit with its\n"
	      "                       status; root.path names an ext4 or erofs image\n"
	      "                       (relative to the config's directory); the\n"
	      "                       console then defaults to nowhere (see --console)\n"
	      "  --id ID              the container's id in the guest (default husk)\n"
	      "  --control PATH       with --spec: a control socket (husk/proto.h: START,\n"
	      "                       SIGNAL, PAUSE, RESUME, STATE); the process starts\n"
	      "                       on START\n"
	      "  --ready-fd N         with --spec: write \"ready\" (or \"error MSG\") to\n"
	      "                       descriptor N once the container is created\n"
	      "  --binds-dir DIR      with --spec: stage the host's bind mounts in DIR\n"
	      "                       (made here; default a fresh /tmp/husk-binds-*)\n"
	      "  --netns-own          with --spec: husk-vmm runs in the container's own\n"
	      "                       network namespace; the VM gets a virtio-net device\n"
	      "                       (tap husktap<i>) per Ethernet link there, at least one\n"
	      "  --template-dir DIR   with --spec: the cache of VM templates (husk passes it)\n"
	      "  --no-template        with --spec: no template, the VM boots\n"
	      "  --steps PATH         with --spec: write the run's steps (VM made, agent\n"
	      "                       reached, CREATE, START, WAIT, ...) as one JSON line,\n"
	      "                       each in ms since start (\"-\": stderr)\n\n"
	      "Exit status: 0 when the guest powers off or reboots, 1 on a setup\n"
	      "error, 2 when the guest crashes (triple fault, KVM internal error),\n"
	      "128+N when husk-vmm is ended by signal N. With --spec: the process's exit\n"
	      "status (128+N when signal N ended it), 126/127 when its program cannot\n"
	      "be run or found, 1 when the container cannot be made.\n",
	      f);
}

static int shim_options_one(void *ctx, int val, const char *arg)
{
	struct shim_options *o = ctx;

	switch (val) {
	case OPT_SPEC: o->spec = arg; break;
	case OPT_ID: o->container_id = arg; break;
	case OPT_CONTROL: o->control = arg; break;
	case OPT_BINDS_DIR: o->binds_dir = arg; break;
	case OPT_NETNS_OWN: o->netns_own = true; break;
	case OPT_TEMPLATE_DIR: o->template_dir = arg; break;
	case OPT_NO_TEMPLATE: o->no_template = true; break;
	case OPT_STEPS: o->steps = arg; break;
	case OPT_READY_FD: {
		unsigned fd;
		if (config_parse_count(arg, &fd) < 0 || fd < 3 || fd > 65535) {
			log_err("config", "--ready-fd '%s': a descriptor number from 3", arg);
			return -EINVAL;
		}
		o->ready_fd = (int)fd;
		break;
	}
	default: return -EINVAL; /* not in the table below */
	}
	return 0;
}

static int shim_options_check(void *ctx)
{
	const struct shim_options *o = ctx;

	if ((o->control || o->ready_fd >= 0 || o->binds_dir || o->netns_own || o->steps) &&
	    !o->spec) {
		log_err("config",
			"--control, --ready-fd, --binds-dir, --netns-own and --steps go with --spec");
		return -EINVAL;
	}
	return 0;
}

int shim_options_parse(struct shim_options *o, struct vmm_config *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "ready-fd", required_argument, NULL, OPT_READY_FD },
		{ "id", required_argument, NULL, OPT_ID },
		{ "binds-dir", required_argument, NULL, OPT_BINDS_DIR },
		{ "netns-own", no_argument, NULL, OPT_NETNS_OWN },
		{ "template-dir", required_argument, NULL, OPT_TEMPLATE_DIR },
		{ "no-template", no_argument, NULL, OPT_NO_TEMPLATE },
		{ "steps", required_argument, NULL, OPT_STEPS },
		{ NULL, 0, NULL, 0 },
	};
	const struct config_extra extra = {
		.opts = opts,
		.option = shim_options_one,
		.check = shim_options_check,
		.ctx = o,
	};

	*o = (struct shim_options){ .container_id = "husk", .ready_fd = -1 };
	return config_parse(c, argc, argv, &extra);
}
