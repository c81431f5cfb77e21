/* A container's VM from a template (see spec_template.h). */
#include "spec_template.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "husk/snapshot.h"
#include "kvm/flavour.h"
#include "log.h"
#include "template.h"

#ifndef HUSK_VERSION
#define HUSK_VERSION "0.0.0"
#endif

struct spec_template {
	struct spec_run *sr;
	uint64_t key; /* the key name's hash, in the template's header */
};

/* What the guest saw at boot, and nothing of the back ends. */
static int spec_template_key(const struct spec_run *sr, struct tpl_key *k, struct husk_err *e)
{
	const struct vmm_config *c = &sr->cfg;
	char layout[CONFIG_LAYOUT_MAX];
	char cmdline[4096];
	int r;

	memset(k, 0, sizeof(*k));
	if ((r = snap_hash_file(c->kernel, &k->kernel_hash, e)) < 0 ||
	    (c->initrd && (r = snap_hash_file(c->initrd, &k->initrd_hash, e)) < 0))
		return r;
	k->version = HUSK_VERSION;
	k->vcpus = c->vcpus;
	k->mem_bytes = c->mem_bytes;
	/* the flavour's words are on the guest's command line */
	snprintf(cmdline, sizeof(cmdline), "%s %s", flavour_detect(c->flavour, "/sys")->name,
		 c->cmdline ? c->cmdline : "");
	k->cmdline_hash = snap_hash_bytes(cmdline, strlen(cmdline));
	if ((r = config_layout(c, layout, sizeof(layout))) < 0)
		return husk_err_set(e, -r, "the device layout does not fit in %d bytes",
				    CONFIG_LAYOUT_MAX);
	k->layout_hash = snap_hash_bytes(layout, strlen(layout));
	return 0;
}

/* Boot the container's VM without its back ends and save it to dir. */
static int spec_template_build(void *ctx, const char *dir, struct husk_err *e)
{
	struct spec_template *st = ctx;
	struct vmm_config tc = st->sr->cfg;
	char uds[PATH_MAX];
	struct timing t;

	if (snprintf(uds, sizeof(uds), "%s.sock", dir) >= (int)sizeof(uds))
		return husk_err_set(e, ENAMETOOLONG, "%s: path too long", dir);
	for (unsigned i = 0; i < tc.nfs; i++)
		tc.fs[i].dir = NULL;
	for (unsigned i = 0; i < tc.nnet; i++)
		tc.net[i].tap[0] = '\0';
	tc.vsock.uds_path = uds; /* nobody connects: the agent only listens */
	tc.console = "/dev/null";
	tc.timings = NULL;
	tc.restore_dir = NULL;
	tc.snapshot_dir = dir;
	tc.snapshot_key = st->key;
	timing_init(&t);
	int r = vmm_snapshot(&tc, VMM_SNAPSHOT_READY_MS, &t);
	unlink(uds);
	if (r < 0)
		return husk_err_set(e, -r, "the template VM could not be made (see above)");
	return 0;
}

static int spec_template_check(void *ctx, const char *dir, struct husk_err *e)
{
	const struct spec_template *st = ctx;
	struct snap_header h;
	int r = snap_header_read(dir, &h, e);
	if (r < 0)
		return r;
	if (h.key != st->key)
		return husk_err_set(e, EINVAL, "made for another key");
	return 0;
}

static const struct tpl_ops spec_template_ops = {
	.build = spec_template_build,
	.check = spec_template_check,
};

static bool spec_template_cold(const struct spec_run *sr)
{
	json_t *a = json_object_get(json_object_get(sr->config, "annotations"),
				    SPEC_TEMPLATE_ANNOTATION);
	return json_is_string(a) && !strcmp(json_string_value(a), "cold");
}

int spec_template_pick(struct spec_run *sr, bool rebuild)
{
	struct spec_template st = { .sr = sr };
	struct husk_err e = { 0 };
	struct tpl_key key;
	char cache[PATH_MAX], name[TPL_NAME_MAX];
	bool built = false;

	if (sr->cfg.restore_dir && !rebuild)
		return 1; /* --restore: the caller's own */
	sr->cfg.restore_dir = NULL;
	if (sr->opts.no_template || !sr->opts.template_dir || spec_template_cold(sr))
		return 0;
	if (sr->cfg.ndisks)
		return 0; /* a disk's size is the guest's from boot on: no template fits all */
	if (tpl_cache_dir(cache, sizeof(cache), sr->opts.template_dir, &e) < 0 ||
	    spec_template_key(sr, &key, &e) < 0 || tpl_key_name(&key, name, sizeof(name)) < 0) {
		log_err("template", "%s; booting without a template", e.msg[0] ? e.msg : name);
		return 0;
	}
	st.key = snap_hash_bytes(name, strlen(name));
	if (rebuild && tpl_remove(cache, name, &e) < 0 && e.code != ENOENT)
		log_err("template", "%s", e.msg);
	if (tpl_acquire(cache, name, &spec_template_ops, &st, sr->template_dir,
			sizeof(sr->template_dir), &built, &e) < 0) {
		log_err("template", "%s; booting without a template", e.msg);
		return 0;
	}
	sr->cfg.restore_dir = sr->template_dir;
	return 1;
}
