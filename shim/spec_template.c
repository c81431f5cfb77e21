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
	struct timing *t;
	uint64_t key;	     /* the key name's hash, in the template's header */
	bool restore_failed; /* the template was refused on restore */
	int restore_error;
};

/*
 * What the guest saw at boot, and nothing of the back ends. version must
 * outlive k.
 */
static int spec_template_key(const struct spec_run *sr, struct tpl_key *k, char *version,
			     size_t vlen, struct husk_err *e)
{
	uint64_t exe;
	const struct vmm_config *c = &sr->cfg;
	char layout[CONFIG_LAYOUT_MAX];
	char cmdline[4096];
	int r;

	memset(k, 0, sizeof(*k));
	/*
	 * Files by their identity, the one the snapshot header records
	 * (snap_hash_stat): which file and which version of it.
	 */
	if ((r = snap_hash_stat(c->kernel, &k->kernel_hash, e)) < 0 ||
	    (c->initrd && (r = snap_hash_stat(c->initrd, &k->initrd_hash, e)) < 0))
		return r;
	/* husk-vmm itself: a rebuilt one may see a saved VM differently */
	if ((r = snap_hash_stat("/proc/self/exe", &exe, e)) < 0)
		return r;
	snprintf(version, vlen, "%s/%016llx", HUSK_VERSION, (unsigned long long)exe);
	k->version = version;
	k->vcpus = c->vcpus;
	k->ram_bytes = c->mem_bytes;
	/* the flavour's words are on the guest's command line */
	snprintf(cmdline, sizeof(cmdline), "%s %s", flavour_detect(c->flavour, "/sys")->name,
		 c->cmdline ? c->cmdline : "");
	k->cmdline_hash = tpl_hash(TPL_HASH_INIT, cmdline, strlen(cmdline));
	if ((r = config_layout(c, layout, sizeof(layout))) < 0)
		return husk_err_set(e, -r, "the device layout does not fit in %d bytes",
				    CONFIG_LAYOUT_MAX);
	k->layout_hash = tpl_hash(TPL_HASH_INIT, layout, strlen(layout));
	return 0;
}

/* Boot the container's VM without its back ends and save it to dir. */
static int spec_template_build(void *ctx, const char *dir, struct husk_err *e)
{
	struct spec_template *st = ctx;
	struct vmm_config tc = st->sr->cfg;
	char uds[PATH_MAX], console[PATH_MAX];
	struct timing t;

	if (snprintf(uds, sizeof(uds), "%s.sock", dir) >= (int)sizeof(uds) ||
	    snprintf(console, sizeof(console), "%s/%s", dir, SNAP_CONSOLE_FILE) >=
		    (int)sizeof(console))
		return husk_err_set(e, ENAMETOOLONG, "%s: path too long", dir);
	for (unsigned i = 0; i < tc.nfs; i++)
		tc.fs[i].dir = NULL;
	for (unsigned i = 0; i < tc.nnet; i++)
		tc.net[i].tap[0] = '\0';
	tc.vsock.uds_path = uds; /* nobody connects: the agent only listens */
	tc.console = console;	 /* each restore's console log starts with it */
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

/* With the template's lock held, so that nobody removes it meanwhile: the VM from it. */
static int spec_template_use(void *ctx, const char *dir, struct husk_err *e)
{
	struct spec_template *st = ctx;
	struct spec_run *sr = st->sr;
	snprintf(sr->template_dir, sizeof(sr->template_dir), "%s", dir);
	sr->cfg.restore_dir = sr->template_dir;
	int r = vmm_create(&sr->vm, &sr->cfg, st->t);
	if (r < 0) {
		sr->cfg.restore_dir = NULL;
		st->restore_failed = true;
		st->restore_error = r;
		return husk_err_set(e, -r, "template %s could not be restored (see above)", dir);
	}
	return 0;
}

static void spec_template_log(void *ctx, const char *line)
{
	log_err("template", "%s", line);
}

static const struct tpl_ops spec_template_ops = {
	.build = spec_template_build,
	.check = spec_template_check,
	.use = spec_template_use,
	.log = spec_template_log,
};

static bool spec_template_cold(const struct spec_run *sr)
{
	json_t *a = json_object_get(json_object_get(sr->config, "annotations"),
				    SPEC_TEMPLATE_ANNOTATION);
	return json_is_string(a) && !strcmp(json_string_value(a), "cold");
}

int spec_template_create(struct spec_run *sr, struct timing *t)
{
	struct spec_template st = { .sr = sr, .t = t };
	struct husk_err e = { 0 };
	struct tpl_key key;
	char cache[PATH_MAX], name[TPL_NAME_MAX + 1], dir[PATH_MAX], version[64];
	bool built = false;

	/* --restore is the caller's own; no templates asked for, or none fits */
	if (sr->cfg.restore_dir || sr->opts.no_template || !sr->opts.template_dir ||
	    spec_template_cold(sr) || sr->cfg.ndisks)
		return vmm_create(&sr->vm, &sr->cfg, t);
	if (tpl_cache_dir(cache, sizeof(cache), sr->opts.template_dir, &e) < 0 ||
	    spec_template_key(sr, &key, version, sizeof(version), &e) < 0 ||
	    tpl_key_name(&key, name, sizeof(name)) < 0) {
		log_err("template", "%s; booting without a template",
			e.code ? e.msg : "no name for the key");
		return vmm_create(&sr->vm, &sr->cfg, t);
	}
	st.key = tpl_hash(TPL_HASH_INIT, name, strlen(name));
	for (int attempt = 0; attempt < 2; attempt++) {
		st.restore_failed = false;
		e = (struct husk_err){ 0 };
		if (tpl_acquire(cache, name, &spec_template_ops, &st, dir, sizeof(dir), &built,
				&e) == 0)
			return 0;
		if (!st.restore_failed) {
			log_err("template", "%s; booting without a template", e.msg);
			break;
		}
		if (st.restore_error != -EINVAL || built)
			return st.restore_error; /* not the template's fault, or a new one failed */
		/* refused at a closer look than its header's: made again, once */
		log_err("template", "template %s was refused; rebuilding", name);
		if (tpl_remove(cache, name, &e) < 0 && e.code != ENOENT)
			log_err("template", "%s", e.msg);
	}
	return vmm_create(&sr->vm, &sr->cfg, t);
}
