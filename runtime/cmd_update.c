/*
 * update: change a container's resources where its VM can honour them.
 * Memory and pids limits go to the container's cgroup in the guest (memory
 * up to what the VM has: its RAM is fixed when it is made); CPU quota,
 * period and shares go to the VM's host cgroup (linux.cgroupsPath), which
 * bounds all of its vCPUs. Anything else is refused with a reason.
 */
#include "husk.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_cgroup.h"
#include "husk/proto.h"
#include "husk/spec.h"
#include "resources.h"

enum { UPD_MEMORY = 1, UPD_PIDS, UPD_QUOTA, UPD_PERIOD, UPD_SHARES, UPD_RESOURCES };

/* A number with an optional k/m/g suffix, as runc's --memory takes it. */
static int upd_number(const char *s, bool suffix, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v < -1)
		return -EINVAL;
	int shift = 0;
	if (suffix && *end) {
		const char *units = "kmg";
		const char *u = strchr(units, *end | 0x20);
		if (!u || end[1 + (end[1] == 'b' || end[1] == 'B')] != '\0')
			return -EINVAL;
		shift = 10 * (int)(u - units + 1);
	} else if (*end) {
		return -EINVAL;
	}
	if (v > 0 && (v >> (62 - shift)) != 0)
		return -ERANGE;
	*out = v > 0 ? v << shift : v;
	return 0;
}

/* --resources FILE|-: an OCI LinuxResources object. */
static int upd_read(const char *path, struct spec_resources *res, struct husk_err *e)
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

static int upd_apply(const struct husk_state *st, const struct spec_resources *res,
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

int cmd_update(const struct husk_global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, UPD_RESOURCES },
		{ "memory", required_argument, NULL, UPD_MEMORY },
		{ "pids-limit", required_argument, NULL, UPD_PIDS },
		{ "cpu-quota", required_argument, NULL, UPD_QUOTA },
		{ "cpu-period", required_argument, NULL, UPD_PERIOD },
		{ "cpu-share", required_argument, NULL, UPD_SHARES },
		{ NULL, 0, NULL, 0 },
	};
	struct spec_resources res = { .memory_limit = -1, .pids_limit = -1, .cpu_quota = -1 };
	struct husk_state st;
	struct husk_err e = { 0 };
	const char *file = NULL;
	int64_t v = 0;
	int o;

	optind = 1;
	while ((o = cmd_getopt(g, argc, argv, "r:", opts)) != -1) {
		if (o == 'r' || o == UPD_RESOURCES) {
			file = optarg;
			continue;
		}
		if (o == '?' || upd_number(optarg, o == UPD_MEMORY, &v) < 0) {
			if (o != '?')
				husk_report(g, "update: --%s: not a number: \"%s\"", opts[o].name,
					    optarg);
			return 1;
		}
		switch (o) {
		case UPD_MEMORY: res.memory_limit = v; break;
		case UPD_PIDS: res.pids_limit = v; break;
		case UPD_QUOTA: res.cpu_quota = v; break;
		case UPD_PERIOD: res.cpu_period = v > 0 ? (uint64_t)v : 0; break;
		case UPD_SHARES: res.cpu_shares = v > 0 ? (uint64_t)v : 0; break;
		}
	}
	if (optind != argc - 1) {
		husk_report(g, "update: exactly one container id, please");
		return 1;
	}
	if ((file && upd_read(file, &res, &e) < 0) || state_load(g, argv[optind], &st, &e) < 0 ||
	    upd_apply(&st, &res, &e) < 0) {
		husk_report(g, "update %s: %s", argv[optind], e.msg);
		return 1;
	}
	return 0;
}
