/*
 * linux.sysctl: the net.* entries, which the agent sets in the container's
 * network namespace. The others are left alone (the guest's kernel is the
 * container's own). A name becomes a path under /proc/sys, so it is held
 * to dot-separated words of [A-Za-z0-9_-]: no "/", no "..", no empty word.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"

static bool spec_sysctl_name_ok(const char *name)
{
	size_t word = 0, n = 0;

	for (; name[n]; n++) {
		char c = name[n];
		if (c == '.') {
			if (word == 0)
				return false;
			word = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '_' || c == '-') {
			word++;
		} else {
			return false;
		}
	}
	return word > 0 && n < SPEC_SYSCTL_NAME_MAX;
}

int spec_sysctl_parse(const json_t *sysctl, struct spec *s, struct husk_err *e)
{
	char at[SPEC_AT_MAX];
	const char *name, *value;
	const json_t *v;
	int r;

	if (!sysctl)
		return 0;
	if ((r = spec_json_object(sysctl, "linux.sysctl", e)) < 0)
		return r;
	if (json_object_size(sysctl) > SPEC_MAX_SYSCTLS)
		return husk_err_set(e, EINVAL, "linux.sysctl: more than %d entries",
				    SPEC_MAX_SYSCTLS);
	json_object_foreach ((json_t *)sysctl, name, v) {
		if (strncmp(name, "net.", 4) != 0)
			continue;
		snprintf(at, sizeof(at), "linux.sysctl[\"%.60s\"]", name);
		if (!spec_sysctl_name_ok(name))
			return husk_err_set(e, EINVAL, "%s: not a sysctl name", at);
		if ((r = spec_json_str(v, at, &value, e)) < 0)
			return r;
		if (strlen(value) >= SPEC_SYSCTL_VALUE_MAX)
			return husk_err_set(e, EINVAL, "%s: longer than %d bytes", at,
					    SPEC_SYSCTL_VALUE_MAX - 1);
		if (!s->sysctls && !(s->sysctls = calloc(SPEC_MAX_SYSCTLS, sizeof(*s->sysctls))))
			return spec_nomem(e);
		struct spec_sysctl *sc = &s->sysctls[s->nsysctls];
		if (!(sc->name = strdup(name)) || !(sc->value = strdup(value))) {
			free(sc->name);
			sc->name = NULL;
			return spec_nomem(e);
		}
		s->nsysctls++;
	}
	return 0;
}

void spec_sysctl_free(struct spec *s)
{
	for (size_t i = 0; i < s->nsysctls; i++) {
		free(s->sysctls[i].name);
		free(s->sysctls[i].value);
	}
	free(s->sysctls);
	s->sysctls = NULL;
	s->nsysctls = 0;
}
