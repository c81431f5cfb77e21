/* update: a container's resources, where its VM can honour them (see update.h). */
#include "update.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host_cgroup.h"
#include "husk/proto.h"
#include "resources.h"

/* --resources FILE|-: an OCI LinuxResources object. */
static int update_read(const char *path, struct spec_resources *res, struct husk_err *e)
{
	json_error_t jerr;
	json_t *j = !strcmp(path, "-") ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr) :
					 json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return husk_err_set(e, EINVAL, "--resources %s: %s", path, jerr.text);
	int r = spec_resources_parse(j, res, e);
	json_decref(j);
	return r < 0 ? husk_err_wrap(e, "--resources %s", path) : 0;
}

static int update_apply(const struct husk_state *st, const struct spec_resources *res,
			struct husk_err *e)
{
	const char *status = state_status(st);
	bool guest = res->memory_limit > 0 || res->pids_limit > 0;
	bool cpu = res->cpu_quota >= 0 || res->cpu_period || res->cpu_shares;
	uint64_t room = st->mem_bytes > RES_GUEST_RESERVE ? st->mem_bytes - RES_GUEST_RESERVE : 0;

	if (strcmp(status, "created") && strcmp(status, "running") && strcmp(status, "paused"))
		return husk_err_set(e, ESRCH, HUSK_ERR_NOT_RUNNING); /* runc's words */
	if (res->memory_limit > 0 && (uint64_t)res->memory_limit > room)
		return husk_err_set(e, EOPNOTSUPP,
				    "a memory limit of %lld MiB is more than this container's VM "
				    "holds (%llu MiB): a VM's RAM is fixed when it is created",
				    (long long)(res->memory_limit >> 20),
				    (unsigned long long)(room >> 20));
	if (guest && !strcmp(status, "paused"))
		return husk_err_set(e, EBUSY, "container \"%s\" is paused: resume it first",
				    st->id);
	if (cpu && !st->cgroup[0])
		return husk_err_set(e, EOPNOTSUPP,
				    "CPU limits need the VM's host cgroup, and config.json gave no "
				    "linux.cgroupsPath");
	if (cpu) {
		/* the VM's own memory limit on the host stays: its RAM does not change */
		const struct hcg_limits l = { .memory = 0,
					      .cpu_quota = res->cpu_quota,
					      .cpu_period = res->cpu_period,
					      .cpu_shares = res->cpu_shares };
		int r = hcg_set(HCG_MOUNTINFO, st->cgroup, &l, e);
		if (r < 0)
			return r;
	}
	if (!guest)
		return 0;
	json_t *req = json_pack("{s:s,s:{s:{s:I},s:{s:I}}}", "id", st->id, "resources", "memory",
				"limit", (json_int_t)res->memory_limit, "pids", "limit",
				(json_int_t)res->pids_limit);
	return state_agent_call(st, PROTO_UPDATE, req, NULL, e);
}

int husk_update(const struct husk_global *g, const char *id, const char *resources_file,
		const struct spec_resources *res)
{
	struct spec_resources r = *res;
	struct husk_state st;
	struct husk_err e = { 0 };

	if ((resources_file && update_read(resources_file, &r, &e) < 0) ||
	    state_load(g, id, &st, &e) < 0 || update_apply(&st, &r, &e) < 0) {
		husk_report(g, "update %s: %s", id, e.msg);
		return -e.code;
	}
	return 0;
}
