/* state, list, spec, features: what the CLI prints, as JSON (see info.h). */
#include "info.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "husk/path.h"

/* The bundle's annotations (string values only), {} when they cannot be read. */
static json_t *info_annotations(const struct husk_state *st)
{
	char path[sizeof(st->bundle) + 16];
	json_t *out = json_object();
	snprintf(path, sizeof(path), "%s/config.json", st->bundle);
	json_t *config = json_load_file(path, 0, NULL);
	const char *key;
	json_t *v;
	json_object_foreach (json_object_get(config, "annotations"), key, v)
		if (json_is_string(v))
			json_object_set(out, key, v);
	json_decref(config);
	return out;
}

json_t *husk_state_json(const struct husk_state *st, const char *status)
{
	if (!status)
		status = state_status(st);
	return json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:o}", "ociVersion", HUSK_OCI_VERSION, "id",
			 st->id, "status", status, "pid",
			 strcmp(status, "stopped") ? (int)st->pid : 0, "bundle", st->bundle,
			 "created", st->created, "annotations", info_annotations(st));
}

int husk_state(const struct husk_global *g, const char *id, json_t **out)
{
	struct husk_state st;
	struct husk_err e = { 0 };
	if (state_load(g, id, &st, &e) < 0) {
		husk_report(g, "state %s: %s", id, e.msg);
		return -e.code;
	}
	*out = husk_state_json(&st, NULL);
	return 0;
}

json_t *husk_list(const struct husk_global *g)
{
	json_t *all = json_array();
	DIR *d = opendir(g->root);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct husk_state st;
		struct husk_err e = { 0 };
		if (de->d_name[0] == '.' || state_load(g, de->d_name, &st, &e) < 0)
			continue;
		json_array_append_new(all, husk_state_json(&st, NULL));
	}
	if (d)
		closedir(d);
	return all;
}

/*
 * runc spec --rootless: a user namespace that maps the caller to root. runc
 * also drops the network namespace (an unprivileged user could not set one
 * up); husk keeps it: a container in a VM cannot share the host's network,
 * and husk refuses a config.json without one.
 */
static void info_spec_rootless(json_t *spec)
{
	json_t *lx = json_object_get(spec, "linux");
	json_t *ns = json_object_get(lx, "namespaces");
	json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
	json_object_set_new(lx, "uidMappings",
			    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (int)geteuid(),
				      "size", 1));
	json_object_set_new(lx, "gidMappings",
			    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (int)getegid(),
				      "size", 1));
}

/* A starting config.json, as runc spec writes one (rootfs "rootfs"). */
int husk_spec(const struct husk_global *g, const char *bundle, bool rootless)
{
	char path[PATH_MAX];
	struct husk_err e = { 0 };

	if (path_fmt(&e, path, sizeof(path), "%s/config.json", bundle ? bundle : ".") < 0) {
		husk_report(g, "spec: %s", e.msg);
		return -e.code;
	}
	if (access(path, F_OK) == 0) {
		husk_report(g, "spec: %s exists", path);
		return -EEXIST;
	}
	json_t *caps = json_pack("[s,s,s]", "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
	json_t *j = json_pack(
		"{s:s,s:{s:b,s:{s:i,s:i},s:[s],s:[s,s],s:s,s:{s:O,s:O,s:O},s:[{s:s,s:i,s:i}],"
		"s:b},s:{s:s,s:b},s:s,s:[{s:s,s:s,s:s},{s:s,s:s,s:s,s:[s,s,s,s]}],"
		"s:{s:[{s:s},{s:s},{s:s},{s:s},{s:s}]}}",
		"ociVersion", HUSK_OCI_VERSION, "process", "terminal", 0, "user", "uid", 0, "gid",
		0, "args", "sh", "env",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
		"cwd", "/", "capabilities", "bounding", caps, "effective", caps, "permitted", caps,
		"rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges",
		1, "root", "path", "rootfs", "readonly", 1, "hostname", "husk", "mounts",
		"destination", "/proc", "type", "proc", "source", "proc", "destination", "/dev",
		"type", "tmpfs", "source", "tmpfs", "options", "nosuid", "strictatime", "mode=755",
		"size=65536k", "linux", "namespaces", "type", "pid", "type", "network", "type",
		"ipc", "type", "uts", "type", "mount");
	json_decref(caps);
	if (j && rootless)
		info_spec_rootless(j);
	int r = j ? json_dump_file(j, path, JSON_INDENT(2)) : -1;
	json_decref(j);
	if (r < 0) {
		husk_report(g, "spec: cannot write %s", path);
		return -EIO;
	}
	return 0;
}

json_t *husk_features(void)
{
	return json_pack("{s:s,s:s,s:[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s],"
			 "s:{s:[s,s,s,s,s,s,s],s:{s:b}},s:{s:s}}",
			 "ociVersionMin", "1.0.0", "ociVersionMax", HUSK_OCI_VERSION,
			 "mountOptions", "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec",
			 "exec", "bind", "rbind", "private", "rprivate", "slave", "rslave",
			 "shared", "rshared", "noatime", "relatime", "strictatime", "nodiratime",
			 "sync", "remount", "linux", "namespaces", "pid", "network", "ipc", "uts",
			 "mount", "cgroup", "user", "cgroup", "v2", 1, "annotations",
			 "io.husk.isolation", "a KVM micro-VM with its own kernel per container");
}
