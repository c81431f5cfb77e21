/*
 * The "mounts" array of config.json into struct spec_mount: mount(8)-style
 * options become MS_* flags, a propagation type, and the rest is the data
 * string the filesystem itself parses ("mode=755,size=65536k").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "spec_internal.h"

#define SPEC_N(a) (sizeof(a) / sizeof((a)[0]))

enum spec_mount_kind {
	SPEC_MOUNT_SET,	  /* flags |= flag */
	SPEC_MOUNT_CLEAR, /* flags &= ~flag (0: a no-op we accept) */
	SPEC_MOUNT_BIND,  /* flags |= flag, bind = true */
	SPEC_MOUNT_PROP,  /* propagation = flag */
};

static const struct {
	const char *name;
	enum spec_mount_kind kind;
	unsigned long flag;
} spec_mount_options[] = {
	{ "ro", SPEC_MOUNT_SET, MS_RDONLY },
	{ "rw", SPEC_MOUNT_CLEAR, MS_RDONLY },
	{ "nosuid", SPEC_MOUNT_SET, MS_NOSUID },
	{ "suid", SPEC_MOUNT_CLEAR, MS_NOSUID },
	{ "nodev", SPEC_MOUNT_SET, MS_NODEV },
	{ "dev", SPEC_MOUNT_CLEAR, MS_NODEV },
	{ "noexec", SPEC_MOUNT_SET, MS_NOEXEC },
	{ "exec", SPEC_MOUNT_CLEAR, MS_NOEXEC },
	{ "sync", SPEC_MOUNT_SET, MS_SYNCHRONOUS },
	{ "async", SPEC_MOUNT_CLEAR, MS_SYNCHRONOUS },
	{ "dirsync", SPEC_MOUNT_SET, MS_DIRSYNC },
	{ "remount", SPEC_MOUNT_SET, MS_REMOUNT },
	{ "mand", SPEC_MOUNT_CLEAR, 0 }, /* mandatory locking is gone from Linux */
	{ "nomand", SPEC_MOUNT_CLEAR, 0 },
	{ "noatime", SPEC_MOUNT_SET, MS_NOATIME },
	{ "atime", SPEC_MOUNT_CLEAR, MS_NOATIME },
	{ "nodiratime", SPEC_MOUNT_SET, MS_NODIRATIME },
	{ "diratime", SPEC_MOUNT_CLEAR, MS_NODIRATIME },
	{ "relatime", SPEC_MOUNT_SET, MS_RELATIME },
	{ "norelatime", SPEC_MOUNT_CLEAR, MS_RELATIME },
	{ "strictatime", SPEC_MOUNT_SET, MS_STRICTATIME },
	{ "nostrictatime", SPEC_MOUNT_CLEAR, MS_STRICTATIME },
	{ "lazytime", SPEC_MOUNT_SET, MS_LAZYTIME },
	{ "nolazytime", SPEC_MOUNT_CLEAR, MS_LAZYTIME },
	{ "silent", SPEC_MOUNT_SET, MS_SILENT },
	{ "loud", SPEC_MOUNT_CLEAR, MS_SILENT },
	{ "bind", SPEC_MOUNT_BIND, MS_BIND },
	{ "rbind", SPEC_MOUNT_BIND, MS_BIND | MS_REC },
	{ "private", SPEC_MOUNT_PROP, MS_PRIVATE },
	{ "rprivate", SPEC_MOUNT_PROP, MS_PRIVATE | MS_REC },
	{ "slave", SPEC_MOUNT_PROP, MS_SLAVE },
	{ "rslave", SPEC_MOUNT_PROP, MS_SLAVE | MS_REC },
	{ "shared", SPEC_MOUNT_PROP, MS_SHARED },
	{ "rshared", SPEC_MOUNT_PROP, MS_SHARED | MS_REC },
	{ "unbindable", SPEC_MOUNT_PROP, MS_UNBINDABLE },
	{ "runbindable", SPEC_MOUNT_PROP, MS_UNBINDABLE | MS_REC },
	/* runc's copy-up extension for tmpfs: not the kernel's, not honoured (yet) */
	{ "tmpcopyup", SPEC_MOUNT_CLEAR, 0 },
};

/* Append OPT to m->data, comma-separated. */
static int spec_mount_data_add(struct spec_mount *m, const char *opt, struct husk_err *e)
{
	size_t old = m->data ? strlen(m->data) : 0, add = strlen(opt);
	char *d = realloc(m->data, old + (old ? 1 : 0) + add + 1);

	if (!d)
		return spec_nomem(e);
	if (old)
		d[old++] = ',';
	memcpy(d + old, opt, add + 1);
	m->data = d;
	return 0;
}

static int spec_mount_option(struct spec_mount *m, const char *opt, struct husk_err *e)
{
	for (size_t i = 0; i < SPEC_N(spec_mount_options); i++) {
		if (strcmp(spec_mount_options[i].name, opt) != 0)
			continue;
		unsigned long f = spec_mount_options[i].flag;
		switch (spec_mount_options[i].kind) {
		case SPEC_MOUNT_SET: m->flags |= f; break;
		case SPEC_MOUNT_CLEAR: m->flags &= ~f; break;
		case SPEC_MOUNT_BIND:
			m->flags |= f;
			m->bind = true;
			break;
		case SPEC_MOUNT_PROP: m->propagation = f; break;
		}
		return 0;
	}
	return spec_mount_data_add(m, opt, e);
}

static int spec_mount_options_parse(const json_t *opts, size_t i, struct spec_mount *m,
				    struct husk_err *e)
{
	char at[SPEC_AT_MAX];
	const json_t *v;
	const char *opt;
	size_t k;
	int r;

	snprintf(at, sizeof(at), "mounts[%zu].options", i);
	if ((r = spec_json_array(opts, at, 256, e)) < 0)
		return r;
	json_array_foreach (opts, k, v) {
		snprintf(at, sizeof(at), "mounts[%zu].options[%zu]", i, k);
		if ((r = spec_json_str(v, at, &opt, e)) < 0)
			return r;
		if (!opt[0] || strchr(opt, ','))
			return husk_err_set(e, EINVAL, "%s: \"%s\" is not one option", at, opt);
		if ((r = spec_mount_option(m, opt, e)) < 0)
			return r;
	}
	return 0;
}

/* mounts[i]: destination (absolute, required), type, source, options. */
static int spec_mount_parse(const json_t *j, size_t i, struct spec_mount *m, struct husk_err *e)
{
	char at[SPEC_AT_MAX];
	const json_t *v;
	int r;

	snprintf(at, sizeof(at), "mounts[%zu]", i);
	if ((r = spec_json_object(j, at, e)) < 0)
		return r;
	snprintf(at, sizeof(at), "mounts[%zu].destination", i);
	if (!(v = spec_json_get(j, "destination")))
		return husk_err_set(e, EINVAL, "%s: missing", at);
	if ((r = spec_json_strdup(v, at, &m->destination, e)) < 0)
		return r;
	if (m->destination[0] != '/')
		return husk_err_set(e, EINVAL, "%s: \"%s\" is not an absolute path", at,
				    m->destination);
	snprintf(at, sizeof(at), "mounts[%zu].type", i);
	if ((v = spec_json_get(j, "type")) && (r = spec_json_strdup(v, at, &m->type, e)) < 0)
		return r;
	snprintf(at, sizeof(at), "mounts[%zu].source", i);
	if ((v = spec_json_get(j, "source")) && (r = spec_json_strdup(v, at, &m->source, e)) < 0)
		return r;
	if ((v = spec_json_get(j, "options")) && (r = spec_mount_options_parse(v, i, m, e)) < 0)
		return r;
	if (m->type && strcmp(m->type, "bind") == 0) {
		m->bind = true;
		m->flags |= MS_BIND;
	}
	if (m->type && !m->type[0] && !m->bind)
		return husk_err_set(e, EINVAL, "mounts[%zu].type: empty", i);
	if (!m->type && !m->bind)
		return husk_err_set(e, EINVAL, "mounts[%zu]: neither a type nor a bind mount", i);
	return 0;
}

int spec_mounts_parse(const json_t *mounts, struct spec *s, struct husk_err *e)
{
	const json_t *j;
	size_t i;
	int r;

	if (!mounts)
		return 0;
	if ((r = spec_json_array(mounts, "mounts", SPEC_MAX_MOUNTS, e)) < 0)
		return r;
	if (json_array_size(mounts) == 0)
		return 0;
	if (!(s->mounts = calloc(json_array_size(mounts), sizeof(*s->mounts))))
		return spec_nomem(e);
	json_array_foreach (mounts, i, j) {
		/* counted first, so that spec_mounts_free frees a half-parsed entry too */
		s->nmounts++;
		if ((r = spec_mount_parse(j, i, &s->mounts[i], e)) < 0)
			return r;
	}
	return 0;
}

void spec_mounts_free(struct spec *s)
{
	for (size_t i = 0; i < s->nmounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		free(s->mounts[i].data);
	}
	free(s->mounts);
	s->mounts = NULL;
	s->nmounts = 0;
}
