/*
 * The "process" object of config.json (and of an EXEC message) into struct
 * spec_process. Messages name the field as "process.<field>" in both cases.
 */
#include "husk/spec.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "spec_internal.h"

/* Capabilities newer than some installed kernel headers. */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

/* clang-format off: two names a line */
#define SPEC_CAP(name)      \
	{                   \
#name, name \
	}
static const struct {
	const char *name;
	int bit;
} spec_process_cap_names[] = {
	SPEC_CAP(CAP_CHOWN),
	SPEC_CAP(CAP_DAC_OVERRIDE),
	SPEC_CAP(CAP_DAC_READ_SEARCH),
	SPEC_CAP(CAP_FOWNER),
	SPEC_CAP(CAP_FSETID),
	SPEC_CAP(CAP_KILL),
	SPEC_CAP(CAP_SETGID),
	SPEC_CAP(CAP_SETUID),
	SPEC_CAP(CAP_SETPCAP),
	SPEC_CAP(CAP_LINUX_IMMUTABLE),
	SPEC_CAP(CAP_NET_BIND_SERVICE),
	SPEC_CAP(CAP_NET_BROADCAST),
	SPEC_CAP(CAP_NET_ADMIN),
	SPEC_CAP(CAP_NET_RAW),
	SPEC_CAP(CAP_IPC_LOCK),
	SPEC_CAP(CAP_IPC_OWNER),
	SPEC_CAP(CAP_SYS_MODULE),
	SPEC_CAP(CAP_SYS_RAWIO),
	SPEC_CAP(CAP_SYS_CHROOT),
	SPEC_CAP(CAP_SYS_PTRACE),
	SPEC_CAP(CAP_SYS_PACCT),
	SPEC_CAP(CAP_SYS_ADMIN),
	SPEC_CAP(CAP_SYS_BOOT),
	SPEC_CAP(CAP_SYS_NICE),
	SPEC_CAP(CAP_SYS_RESOURCE),
	SPEC_CAP(CAP_SYS_TIME),
	SPEC_CAP(CAP_SYS_TTY_CONFIG),
	SPEC_CAP(CAP_MKNOD),
	SPEC_CAP(CAP_LEASE),
	SPEC_CAP(CAP_AUDIT_WRITE),
	SPEC_CAP(CAP_AUDIT_CONTROL),
	SPEC_CAP(CAP_SETFCAP),
	SPEC_CAP(CAP_MAC_OVERRIDE),
	SPEC_CAP(CAP_MAC_ADMIN),
	SPEC_CAP(CAP_SYSLOG),
	SPEC_CAP(CAP_WAKE_ALARM),
	SPEC_CAP(CAP_BLOCK_SUSPEND),
	SPEC_CAP(CAP_AUDIT_READ),
	SPEC_CAP(CAP_PERFMON),
	SPEC_CAP(CAP_BPF),
	SPEC_CAP(CAP_CHECKPOINT_RESTORE),
};
#undef SPEC_CAP
/* clang-format on */

/* clang-format off: three names a line */
#define SPEC_RLIMIT(name)   \
	{                   \
#name, name \
	}
static const struct {
	const char *name;
	int resource;
} spec_process_rlimit_names[] = {
	SPEC_RLIMIT(RLIMIT_CPU),      SPEC_RLIMIT(RLIMIT_FSIZE),  SPEC_RLIMIT(RLIMIT_DATA),
	SPEC_RLIMIT(RLIMIT_STACK),    SPEC_RLIMIT(RLIMIT_CORE),	  SPEC_RLIMIT(RLIMIT_RSS),
	SPEC_RLIMIT(RLIMIT_NPROC),    SPEC_RLIMIT(RLIMIT_NOFILE), SPEC_RLIMIT(RLIMIT_MEMLOCK),
	SPEC_RLIMIT(RLIMIT_AS),	      SPEC_RLIMIT(RLIMIT_LOCKS),  SPEC_RLIMIT(RLIMIT_SIGPENDING),
	SPEC_RLIMIT(RLIMIT_MSGQUEUE), SPEC_RLIMIT(RLIMIT_NICE),	  SPEC_RLIMIT(RLIMIT_RTPRIO),
	SPEC_RLIMIT(RLIMIT_RTTIME),
};
#undef SPEC_RLIMIT
/* clang-format on */

#define SPEC_N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * An array of strings (at most MAX) into a NULL-terminated copy. With NEED_EQ
 * every entry must be "KEY=VALUE" (it must contain '=').
 */
static int spec_process_strv(const json_t *arr, const char *name, size_t max, bool need_eq,
			     char ***out, size_t *n, struct husk_err *e)
{
	char at[SPEC_AT_MAX];
	const json_t *v;
	size_t i;
	int r;

	snprintf(at, sizeof(at), "process.%s", name);
	if (arr && (r = spec_json_array(arr, at, max, e)) < 0)
		return r;
	if (!(*out = calloc(json_array_size(arr) + 1, sizeof(char *))))
		return spec_nomem(e);
	json_array_foreach (arr, i, v) {
		snprintf(at, sizeof(at), "process.%s[%zu]", name, i);
		if ((r = spec_json_strdup(v, at, &(*out)[i], e)) < 0)
			return r;
		*n = i + 1;
		if (need_eq && !strchr((*out)[i], '='))
			return husk_err_set(e, EINVAL, "%s: \"%s\" is not KEY=VALUE", at,
					    (*out)[i]);
	}
	return 0;
}

static int spec_process_console(const json_t *cs, struct spec_process *p, struct husk_err *e)
{
	const json_t *h, *w;
	int64_t rows, cols;
	int r;

	if ((r = spec_json_object(cs, "process.consoleSize", e)) < 0)
		return r;
	if (!(h = spec_json_get(cs, "height")) || !(w = spec_json_get(cs, "width")))
		return husk_err_set(e, EINVAL, "process.consoleSize: needs height and width");
	if ((r = spec_json_int(h, "process.consoleSize.height", 0, UINT16_MAX, &rows, e)) < 0 ||
	    (r = spec_json_int(w, "process.consoleSize.width", 0, UINT16_MAX, &cols, e)) < 0)
		return r;
	p->rows = (uint16_t)rows;
	p->cols = (uint16_t)cols;
	return 0;
}

/* process.user: uid, gid, additionalGids, umask. "username" is ignored (no passwd lookup here). */
static int spec_process_user(const json_t *u, struct spec_user *out, struct husk_err *e)
{
	char at[SPEC_AT_MAX];
	const json_t *v, *g;
	int64_t x;
	size_t i;
	int r;

	if (!u)
		return 0;
	if ((r = spec_json_object(u, "process.user", e)) < 0)
		return r;
	if ((v = spec_json_get(u, "uid"))) {
		if ((r = spec_json_int(v, "process.user.uid", 0, UINT32_MAX, &x, e)) < 0)
			return r;
		out->uid = (uint32_t)x;
	}
	if ((v = spec_json_get(u, "gid"))) {
		if ((r = spec_json_int(v, "process.user.gid", 0, UINT32_MAX, &x, e)) < 0)
			return r;
		out->gid = (uint32_t)x;
	}
	if ((v = spec_json_get(u, "umask"))) {
		if ((r = spec_json_int(v, "process.user.umask", 0, 0777, &x, e)) < 0)
			return r;
		out->has_umask = true;
		out->umask = (uint32_t)x;
	}
	if (!(v = spec_json_get(u, "additionalGids")))
		return 0;
	if ((r = spec_json_array(v, "process.user.additionalGids", SPEC_MAX_GROUPS, e)) < 0)
		return r;
	if (json_array_size(v) == 0)
		return 0;
	if (!(out->groups = calloc(json_array_size(v), sizeof(uint32_t))))
		return spec_nomem(e);
	json_array_foreach (v, i, g) {
		snprintf(at, sizeof(at), "process.user.additionalGids[%zu]", i);
		if ((r = spec_json_int(g, at, 0, UINT32_MAX, &x, e)) < 0)
			return r;
		out->groups[out->ngroups++] = (uint32_t)x;
	}
	return 0;
}

static int spec_process_cap_bit(const char *name)
{
	for (size_t i = 0; i < SPEC_N(spec_process_cap_names); i++)
		if (strcmp(spec_process_cap_names[i].name, name) == 0)
			return spec_process_cap_names[i].bit;
	return -1;
}

static int spec_process_capset(const json_t *caps, const char *set, uint64_t *mask,
			       struct husk_err *e)
{
	char at[SPEC_AT_MAX];
	const json_t *arr, *v;
	const char *name;
	size_t i;
	int r;

	if (!(arr = spec_json_get(caps, set)))
		return 0;
	snprintf(at, sizeof(at), "process.capabilities.%s", set);
	if ((r = spec_json_array(arr, at, 256, e)) < 0)
		return r;
	json_array_foreach (arr, i, v) {
		snprintf(at, sizeof(at), "process.capabilities.%s[%zu]", set, i);
		if ((r = spec_json_str(v, at, &name, e)) < 0)
			return r;
		int bit = spec_process_cap_bit(name);
		if (bit < 0)
			return husk_err_set(e, EINVAL, "%s: unknown capability \"%s\"", at, name);
		*mask |= UINT64_C(1) << bit;
	}
	return 0;
}

static int spec_process_caps(const json_t *caps, struct spec_process *p, struct husk_err *e)
{
	struct spec_caps *c = &p->caps;
	int r;

	if (!caps)
		return 0;
	if ((r = spec_json_object(caps, "process.capabilities", e)) < 0)
		return r;
	p->has_caps = true;
	if ((r = spec_process_capset(caps, "bounding", &c->bounding, e)) < 0 ||
	    (r = spec_process_capset(caps, "effective", &c->effective, e)) < 0 ||
	    (r = spec_process_capset(caps, "permitted", &c->permitted, e)) < 0 ||
	    (r = spec_process_capset(caps, "inheritable", &c->inheritable, e)) < 0 ||
	    (r = spec_process_capset(caps, "ambient", &c->ambient, e)) < 0)
		return r;
	return 0;
}

const char *spec_rlimit_name(int resource)
{
	for (size_t i = 0; i < SPEC_N(spec_process_rlimit_names); i++)
		if (spec_process_rlimit_names[i].resource == resource)
			return spec_process_rlimit_names[i].name;
	return "RLIMIT_?";
}

static int spec_process_rlimit_type(const char *name)
{
	for (size_t i = 0; i < SPEC_N(spec_process_rlimit_names); i++)
		if (strcmp(spec_process_rlimit_names[i].name, name) == 0)
			return spec_process_rlimit_names[i].resource;
	return -1;
}

/* One rlimits[i] entry: {type, soft, hard}, all three required. */
static int spec_process_rlimit(const json_t *rl, size_t i, const struct spec_process *p,
			       struct spec_rlimit *out, struct husk_err *e)
{
	char at[SPEC_AT_MAX];
	const json_t *t, *soft, *hard;
	const char *type;
	int64_t x;
	int r;

	snprintf(at, sizeof(at), "process.rlimits[%zu]", i);
	if ((r = spec_json_object(rl, at, e)) < 0)
		return r;
	if (!(t = spec_json_get(rl, "type")) || !(soft = spec_json_get(rl, "soft")) ||
	    !(hard = spec_json_get(rl, "hard")))
		return husk_err_set(e, EINVAL, "%s: needs type, soft and hard", at);
	snprintf(at, sizeof(at), "process.rlimits[%zu].type", i);
	if ((r = spec_json_str(t, at, &type, e)) < 0)
		return r;
	if ((out->resource = spec_process_rlimit_type(type)) < 0)
		return husk_err_set(e, EINVAL, "%s: unknown rlimit \"%s\"", at, type);
	for (size_t k = 0; k < p->nrlimits; k++)
		if (p->rlimits[k].resource == out->resource)
			return husk_err_set(e, EINVAL, "%s: \"%s\" listed twice", at, type);
	snprintf(at, sizeof(at), "process.rlimits[%zu].soft", i);
	if ((r = spec_json_int(soft, at, 0, INT64_MAX, &x, e)) < 0)
		return r;
	out->soft = (uint64_t)x;
	snprintf(at, sizeof(at), "process.rlimits[%zu].hard", i);
	if ((r = spec_json_int(hard, at, 0, INT64_MAX, &x, e)) < 0)
		return r;
	out->hard = (uint64_t)x;
	if (out->soft > out->hard)
		return husk_err_set(e, EINVAL, "process.rlimits[%zu]: soft %llu above hard %llu", i,
				    (unsigned long long)out->soft, (unsigned long long)out->hard);
	return 0;
}

static int spec_process_rlimits(const json_t *rls, struct spec_process *p, struct husk_err *e)
{
	const json_t *rl;
	size_t i;
	int r;

	if (!rls)
		return 0;
	if ((r = spec_json_array(rls, "process.rlimits", SPEC_MAX_RLIMITS, e)) < 0)
		return r;
	if (json_array_size(rls) == 0)
		return 0;
	if (!(p->rlimits = calloc(json_array_size(rls), sizeof(*p->rlimits))))
		return spec_nomem(e);
	json_array_foreach (rls, i, rl) {
		if ((r = spec_process_rlimit(rl, i, p, &p->rlimits[i], e)) < 0)
			return r;
		p->nrlimits++;
	}
	return 0;
}

/* process.cwd: absolute; "/" when absent (the runtime spec requires it, engines always set it). */
static int spec_process_cwd(const json_t *v, struct spec_process *p, struct husk_err *e)
{
	int r;

	if (!v) {
		if (!(p->cwd = strdup("/")))
			return spec_nomem(e);
		return 0;
	}
	if ((r = spec_json_strdup(v, "process.cwd", &p->cwd, e)) < 0)
		return r;
	if (p->cwd[0] != '/')
		return husk_err_set(e, EINVAL, "process.cwd: \"%s\" is not an absolute path",
				    p->cwd);
	return 0;
}

/* The booleans and the oom score: the small scalar fields. */
static int spec_process_scalars(const json_t *process, struct spec_process *p, struct husk_err *e)
{
	const json_t *v;
	int64_t x;
	int r;

	if ((v = spec_json_get(process, "terminal")) &&
	    (r = spec_json_bool(v, "process.terminal", &p->terminal, e)) < 0)
		return r;
	if ((v = spec_json_get(process, "consoleSize")) && (r = spec_process_console(v, p, e)) < 0)
		return r;
	if ((v = spec_json_get(process, "noNewPrivileges")) &&
	    (r = spec_json_bool(v, "process.noNewPrivileges", &p->no_new_privileges, e)) < 0)
		return r;
	if ((v = spec_json_get(process, "oomScoreAdj"))) {
		if ((r = spec_json_int(v, "process.oomScoreAdj", -1000, 1000, &x, e)) < 0)
			return r;
		p->has_oom_score_adj = true;
		p->oom_score_adj = (int)x;
	}
	return 0;
}

int spec_process_parse(const json_t *process, struct spec_process *out, struct husk_err *e)
{
	const json_t *args;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = spec_json_object(process, "process", e)) < 0)
		return r;
	if (!(args = spec_json_get(process, "args"))) {
		r = husk_err_set(e, EINVAL, "process.args: missing");
		goto fail;
	}
	if (json_is_array(args) && json_array_size(args) == 0) {
		r = husk_err_set(e, EINVAL, "process.args: empty");
		goto fail;
	}
	if ((r = spec_process_strv(args, "args", SPEC_MAX_ARGS, false, &out->args, &out->nargs,
				   e)) < 0)
		goto fail;
	if (!out->args[0][0]) {
		r = husk_err_set(e, EINVAL, "process.args[0]: empty");
		goto fail;
	}
	if ((r = spec_process_strv(spec_json_get(process, "env"), "env", SPEC_MAX_ENV, true,
				   &out->env, &out->nenv, e)) < 0 ||
	    (r = spec_process_cwd(spec_json_get(process, "cwd"), out, e)) < 0 ||
	    (r = spec_process_scalars(process, out, e)) < 0 ||
	    (r = spec_process_user(spec_json_get(process, "user"), &out->user, e)) < 0 ||
	    (r = spec_process_caps(spec_json_get(process, "capabilities"), out, e)) < 0 ||
	    (r = spec_process_rlimits(spec_json_get(process, "rlimits"), out, e)) < 0)
		goto fail;
	return 0;
fail:
	spec_process_free(out);
	return r;
}

static void spec_process_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void spec_process_free(struct spec_process *p)
{
	if (!p)
		return;
	spec_process_strv_free(p->args, p->nargs);
	spec_process_strv_free(p->env, p->nenv);
	free(p->cwd);
	free(p->user.groups);
	free(p->rlimits);
	memset(p, 0, sizeof(*p));
}
