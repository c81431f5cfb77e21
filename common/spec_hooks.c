/*
 * The "hooks" object of config.json into struct spec_hooks: for each kind
 * (prestart, createRuntime, createContainer, startContainer, poststart,
 * poststop) its commands, each with path, args, env and timeout. Only the
 * runtime on the host reads it (runtime/lib/hooks.c runs them); the guest
 * never sees a hook run.
 */
#include "husk/spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"

static const char *const spec_hook_names[SPEC_HOOK_KINDS] = {
	[SPEC_HOOK_PRESTART] = "prestart",
	[SPEC_HOOK_CREATE_RUNTIME] = "createRuntime",
	[SPEC_HOOK_CREATE_CONTAINER] = "createContainer",
	[SPEC_HOOK_START_CONTAINER] = "startContainer",
	[SPEC_HOOK_POSTSTART] = "poststart",
	[SPEC_HOOK_POSTSTOP] = "poststop",
};

const char *spec_hook_name(enum spec_hook_kind k)
{
	return k < SPEC_HOOK_KINDS ? spec_hook_names[k] : "?";
}

static void spec_hook_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* An array of at most MAX strings (at AT) into a NULL-terminated copy. */
static int spec_hook_strv(const json_t *arr, const char *at, size_t max, bool need_eq, char ***out,
			  struct husk_err *e)
{
	char sub[SPEC_AT_MAX + 48];
	const json_t *v;
	size_t i;
	int r;

	if ((r = spec_json_array(arr, at, max, e)) < 0)
		return r;
	if (!(*out = calloc(json_array_size(arr) + 1, sizeof(char *))))
		return spec_nomem(e);
	json_array_foreach (arr, i, v) {
		snprintf(sub, sizeof(sub), "%s[%zu]", at, i);
		if ((r = spec_json_strdup(v, sub, &(*out)[i], e)) < 0)
			return r;
		if (need_eq && !strchr((*out)[i], '='))
			return husk_err_set(e, EINVAL, "%s: \"%s\" is not KEY=VALUE", sub,
					    (*out)[i]);
	}
	return 0;
}

static int spec_hook_parse(const json_t *j, const char *at, struct spec_hook *h, struct husk_err *e)
{
	char sub[SPEC_AT_MAX + 16];
	const json_t *v;
	int64_t timeout;
	int r;

	if ((r = spec_json_object(j, at, e)) < 0)
		return r;
	snprintf(sub, sizeof(sub), "%s.path", at);
	if (!(v = spec_json_get(j, "path")))
		return husk_err_set(e, EINVAL, "%s: missing", sub);
	if ((r = spec_json_strdup(v, sub, &h->path, e)) < 0)
		return r;
	if (h->path[0] != '/')
		return husk_err_set(e, EINVAL, "%s: \"%s\" is not an absolute path", sub, h->path);
	snprintf(sub, sizeof(sub), "%s.args", at);
	if ((v = spec_json_get(j, "args")) &&
	    (r = spec_hook_strv(v, sub, SPEC_MAX_ARGS, false, &h->args, e)) < 0)
		return r;
	if (!h->args || !h->args[0]) { /* as execv's argv: at least the program's name */
		spec_hook_strv_free(h->args);
		if (!(h->args = calloc(2, sizeof(char *))) || !(h->args[0] = strdup(h->path)))
			return spec_nomem(e);
	}
	snprintf(sub, sizeof(sub), "%s.env", at);
	if ((v = spec_json_get(j, "env")) &&
	    (r = spec_hook_strv(v, sub, SPEC_MAX_ENV, true, &h->env, e)) < 0)
		return r;
	snprintf(sub, sizeof(sub), "%s.timeout", at);
	if ((v = spec_json_get(j, "timeout"))) {
		if ((r = spec_json_int(v, sub, 1, SPEC_HOOK_TIMEOUT_MAX, &timeout, e)) < 0)
			return r;
		h->timeout = (int)timeout;
	}
	return 0;
}

int spec_hooks_parse(const json_t *hooks, struct spec_hooks *out, struct husk_err *e)
{
	char at[SPEC_AT_MAX];
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!hooks)
		return 0;
	if ((r = spec_json_object(hooks, "hooks", e)) < 0)
		return r;
	for (int k = 0; k < SPEC_HOOK_KINDS; k++) {
		const json_t *arr = spec_json_get(hooks, spec_hook_names[k]), *v;
		size_t i;

		if (!arr)
			continue;
		snprintf(at, sizeof(at), "hooks.%s", spec_hook_names[k]);
		if ((r = spec_json_array(arr, at, SPEC_MAX_HOOKS, e)) < 0)
			goto fail;
		if (!json_array_size(arr))
			continue;
		if (!(out->list[k] = calloc(json_array_size(arr), sizeof(struct spec_hook)))) {
			r = spec_nomem(e);
			goto fail;
		}
		json_array_foreach (arr, i, v) {
			snprintf(at, sizeof(at), "hooks.%s[%zu]", spec_hook_names[k], i);
			out->n[k] = i + 1;
			if ((r = spec_hook_parse(v, at, &out->list[k][i], e)) < 0)
				goto fail;
		}
	}
	return 0;
fail:
	spec_hooks_free(out);
	return r;
}

void spec_hooks_free(struct spec_hooks *h)
{
	if (!h)
		return;
	for (int k = 0; k < SPEC_HOOK_KINDS; k++) {
		for (size_t i = 0; i < h->n[k]; i++) {
			free(h->list[k][i].path);
			spec_hook_strv_free(h->list[k][i].args);
			spec_hook_strv_free(h->list[k][i].env);
		}
		free(h->list[k]);
	}
	memset(h, 0, sizeof(*h));
}
