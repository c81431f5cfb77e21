/*
 * config.json into struct spec: the top level, root, hostname, the Linux
 * namespaces and resources, and the typed JSON reads the other spec_*.c
 * files share. The process is in spec_process.c, the mounts in spec_mount.c,
 * the sysctls in spec_sysctl.c.
 */
#include "husk/spec.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define SPEC_HOSTNAME_MAX 64 /* HOST_NAME_MAX on Linux */

/* ---- typed reads ---- */

const json_t *spec_json_get(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

int spec_nomem(struct husk_err *e)
{
	return husk_err_set(e, ENOMEM, "out of memory");
}

int spec_json_str(const json_t *j, const char *at, const char **out, struct husk_err *e)
{
	if (!json_is_string(j))
		return husk_err_set(e, EINVAL, "%s: not a string", at);
	const char *s = json_string_value(j);
	if (strlen(s) != json_string_length(j))
		return husk_err_set(e, EINVAL, "%s: contains a NUL byte", at);
	*out = s;
	return 0;
}

int spec_json_strdup(const json_t *j, const char *at, char **out, struct husk_err *e)
{
	const char *s;
	int r = spec_json_str(j, at, &s, e);
	if (r < 0)
		return r;
	if (!(*out = strdup(s)))
		return spec_nomem(e);
	return 0;
}

int spec_json_bool(const json_t *j, const char *at, bool *out, struct husk_err *e)
{
	if (!json_is_boolean(j))
		return husk_err_set(e, EINVAL, "%s: not a boolean", at);
	*out = json_is_true(j);
	return 0;
}

int spec_json_int(const json_t *j, const char *at, int64_t min, int64_t max, int64_t *out,
		  struct husk_err *e)
{
	if (!json_is_integer(j))
		return husk_err_set(e, EINVAL, "%s: not an integer", at);
	json_int_t v = json_integer_value(j);
	if (v < min || v > max)
		return husk_err_set(e, ERANGE, "%s: %lld is out of range (%lld..%lld)", at,
				    (long long)v, (long long)min, (long long)max);
	*out = v;
	return 0;
}

int spec_json_array(const json_t *j, const char *at, size_t max, struct husk_err *e)
{
	if (!json_is_array(j))
		return husk_err_set(e, EINVAL, "%s: not an array", at);
	if (json_array_size(j) > max)
		return husk_err_set(e, E2BIG, "%s: more than %zu entries", at, max);
	return 0;
}

int spec_json_object(const json_t *j, const char *at, struct husk_err *e)
{
	if (!json_is_object(j))
		return husk_err_set(e, EINVAL, "%s: not an object", at);
	return 0;
}

/* ---- root, hostname ---- */

static int spec_root(const json_t *root, struct spec *s, struct husk_err *e)
{
	const json_t *v;
	int r;

	if (!root)
		return husk_err_set(e, EINVAL, "root: missing");
	if ((r = spec_json_object(root, "root", e)) < 0)
		return r;
	if (!(v = spec_json_get(root, "path")))
		return husk_err_set(e, EINVAL, "root.path: missing");
	if ((r = spec_json_strdup(v, "root.path", &s->root_path, e)) < 0)
		return r;
	if (!s->root_path[0])
		return husk_err_set(e, EINVAL, "root.path: empty");
	if ((v = spec_json_get(root, "readonly")) &&
	    (r = spec_json_bool(v, "root.readonly", &s->root_readonly, e)) < 0)
		return r;
	return 0;
}

static int spec_hostname(const json_t *v, struct spec *s, struct husk_err *e)
{
	const char *h;
	int r;

	if (!v)
		return 0;
	if ((r = spec_json_str(v, "hostname", &h, e)) < 0)
		return r;
	if (strlen(h) > SPEC_HOSTNAME_MAX)
		return husk_err_set(e, ENAMETOOLONG, "hostname: longer than %d bytes",
				    SPEC_HOSTNAME_MAX);
	if (strchr(h, '/'))
		return husk_err_set(e, EINVAL, "hostname: contains '/'");
	if (!(s->hostname = strdup(h)))
		return spec_nomem(e);
	return 0;
}

/* ---- linux.namespaces, linux.resources ---- */

static const struct {
	const char *name;
	int flag;
} spec_ns_types[] = {
	{ "pid", CLONE_NEWPID },       { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
	{ "ipc", CLONE_NEWIPC },       { "uts", CLONE_NEWUTS },	    { "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

static int spec_ns_flag(const char *name)
{
	for (size_t i = 0; i < sizeof(spec_ns_types) / sizeof(spec_ns_types[0]); i++)
		if (strcmp(spec_ns_types[i].name, name) == 0)
			return spec_ns_types[i].flag;
	return 0;
}

/*
 * Each namespace listed is created fresh inside the guest. Joining one by
 * path cannot work: the path names a namespace of the host kernel, and the
 * workload runs on another kernel. The network namespace alone may have a
 * path: it is the host side's (the engine's prepared namespace, which
 * husk-vmm joins and whose links the VM's network devices mirror); the guest
 * still makes a fresh one for the container.
 */
static int spec_namespaces(const json_t *nss, struct spec *s, struct husk_err *e)
{
	char at[SPEC_AT_MAX];
	const json_t *ns, *v;
	const char *type, *path;
	size_t i;
	int r;

	if (!nss)
		return 0;
	if ((r = spec_json_array(nss, "linux.namespaces", 64, e)) < 0)
		return r;
	json_array_foreach (nss, i, ns) {
		snprintf(at, sizeof(at), "linux.namespaces[%zu]", i);
		if ((r = spec_json_object(ns, at, e)) < 0)
			return r;
		snprintf(at, sizeof(at), "linux.namespaces[%zu].type", i);
		if (!(v = spec_json_get(ns, "type")))
			return husk_err_set(e, EINVAL, "%s: missing", at);
		if ((r = spec_json_str(v, at, &type, e)) < 0)
			return r;
		int flag = spec_ns_flag(type);
		if (!flag)
			return husk_err_set(e, EINVAL, "%s: unknown namespace \"%s\"", at, type);
		if (s->namespaces & flag)
			return husk_err_set(e, EINVAL, "%s: \"%s\" listed twice", at, type);
		snprintf(at, sizeof(at), "linux.namespaces[%zu].path", i);
		if ((v = spec_json_get(ns, "path"))) {
			if ((r = spec_json_str(v, at, &path, e)) < 0)
				return r;
			if (path[0] && flag != CLONE_NEWNET)
				return husk_err_set(e, EOPNOTSUPP,
						    "linux.namespaces[%zu]: joining an existing "
						    "namespace (path) is not possible inside a VM",
						    i);
			if (path[0] && path[0] != '/')
				return husk_err_set(e, EINVAL, "%s: \"%s\" is not an absolute path",
						    at, path);
			if (path[0] && !(s->net_ns_path = strdup(path)))
				return spec_nomem(e);
		}
		s->namespaces |= flag;
	}
	return 0;
}

/* OBJ.KEY as an integer in [min, max] into *out, left alone when absent. */
static int spec_res_int(const json_t *obj, const char *key, const char *at, int64_t min,
			int64_t *out, struct husk_err *e)
{
	const json_t *v = spec_json_get(obj, key);
	return v ? spec_json_int(v, at, min, INT64_MAX, out, e) : 0;
}

int spec_resources_parse(const json_t *res, struct spec_resources *out, struct husk_err *e)
{
	const json_t *mem, *pids, *cpu;
	int64_t period = 0, shares = 0;
	int r;

	out->memory_limit = -1;
	out->pids_limit = -1;
	out->cpu_quota = -1;
	if (!res)
		return 0;
	if ((r = spec_json_object(res, "linux.resources", e)) < 0)
		return r;
	if ((mem = spec_json_get(res, "memory"))) {
		if ((r = spec_json_object(mem, "linux.resources.memory", e)) < 0 ||
		    (r = spec_res_int(mem, "limit", "linux.resources.memory.limit", -1,
				      &out->memory_limit, e)) < 0)
			return r;
	}
	if ((pids = spec_json_get(res, "pids"))) {
		if ((r = spec_json_object(pids, "linux.resources.pids", e)) < 0 ||
		    (r = spec_res_int(pids, "limit", "linux.resources.pids.limit", -1,
				      &out->pids_limit, e)) < 0)
			return r;
	}
	if ((cpu = spec_json_get(res, "cpu"))) {
		if ((r = spec_json_object(cpu, "linux.resources.cpu", e)) < 0 ||
		    (r = spec_res_int(cpu, "quota", "linux.resources.cpu.quota", -1,
				      &out->cpu_quota, e)) < 0 ||
		    (r = spec_res_int(cpu, "period", "linux.resources.cpu.period", 0, &period, e)) <
			    0 ||
		    (r = spec_res_int(cpu, "shares", "linux.resources.cpu.shares", 0, &shares, e)) <
			    0)
			return r;
		out->cpu_period = (uint64_t)period;
		out->cpu_shares = (uint64_t)shares;
	}
	return 0;
}

/* Everything under "linux" we read; the rest (devices, seccomp, ...) is ignored. */
static int spec_linux(const json_t *lnx, struct spec *s, struct husk_err *e)
{
	int r;

	if (lnx && (r = spec_json_object(lnx, "linux", e)) < 0)
		return r;
	if ((r = spec_namespaces(spec_json_get(lnx, "namespaces"), s, e)) < 0)
		return r;
	const json_t *cg = spec_json_get(lnx, "cgroupsPath");
	if (cg && (r = spec_json_strdup(cg, "linux.cgroupsPath", &s->cgroups_path, e)) < 0)
		return r;
	if ((r = spec_sysctl_parse(spec_json_get(lnx, "sysctl"), s, e)) < 0)
		return r;
	return spec_resources_parse(spec_json_get(lnx, "resources"), &s->resources, e);
}

/* ---- the whole config ---- */

static int spec_version(const json_t *v, struct husk_err *e)
{
	const char *ver;
	int r;

	if (!v)
		return 0;
	if ((r = spec_json_str(v, "ociVersion", &ver, e)) < 0)
		return r;
	if (strncmp(ver, "1.", 2) != 0)
		return husk_err_set(e, EINVAL, "ociVersion: \"%s\" is not a 1.x version", ver);
	return 0;
}

int spec_parse(const json_t *config, struct spec *out, struct husk_err *e)
{
	const json_t *process;
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(config))
		return husk_err_set(e, EINVAL, "config: not a JSON object");
	if ((r = spec_version(spec_json_get(config, "ociVersion"), e)) < 0)
		goto fail;
	if (!(process = spec_json_get(config, "process"))) {
		r = husk_err_set(e, EINVAL, "process: missing");
		goto fail;
	}
	if ((r = spec_process_parse(process, &out->process, e)) < 0 ||
	    (r = spec_root(spec_json_get(config, "root"), out, e)) < 0 ||
	    (r = spec_hostname(spec_json_get(config, "hostname"), out, e)) < 0 ||
	    (r = spec_mounts_parse(spec_json_get(config, "mounts"), out, e)) < 0 ||
	    (r = spec_linux(spec_json_get(config, "linux"), out, e)) < 0)
		goto fail;
	return 0;
fail:
	spec_free(out);
	return r;
}

void spec_free(struct spec *s)
{
	if (!s)
		return;
	spec_process_free(&s->process);
	spec_mounts_free(s);
	free(s->root_path);
	free(s->hostname);
	free(s->cgroups_path);
	free(s->net_ns_path);
	spec_sysctl_free(s);
	memset(s, 0, sizeof(*s));
}

/* ---- ids and environments ---- */

static bool spec_id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool spec_id_valid(const char *id)
{
	size_t n;

	if (!id || !spec_id_char(id[0])) /* also rules out "", "." and ".." */
		return false;
	for (n = 0; id[n]; n++) {
		if (n >= SPEC_ID_MAX)
			return false;
		if (!spec_id_char(id[n]) && !strchr("_.+-", id[n]))
			return false;
	}
	return true;
}

const char *spec_env_get(char *const *env, const char *name)
{
	if (!env || !name)
		return NULL;
	size_t len = strlen(name);
	for (; *env; env++)
		if (strncmp(*env, name, len) == 0 && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}
