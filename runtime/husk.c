/*
 * husk: the runc command line, each container in a micro-VM of its own.
 * main() parses the global options and hands the rest to a command; state,
 * list, spec and features live here, the lifecycle's options in cmd_lifecycle.c
 * (its work in lib/lifecycle.c).
 */
#include "husk.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "husk/path.h"

#ifndef HUSK_VERSION
#define HUSK_VERSION "0.0.0"
#endif

#define HUSK_OCI_VERSION "1.0.2"

/* The bundle's annotations (string values only), {} when they cannot be read. */
static json_t *husk_annotations(const struct husk_state *st)
{
	char path[sizeof(st->bundle) + 16];
	json_t *out = json_object();
	snprintf(path, sizeof(path), "%s/config.json", st->bundle);
	json_t *config = json_load_file(path, 0, NULL);
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(config, "annotations"), key, v)
		if (json_is_string(v))
			json_object_set(out, key, v);
	json_decref(config);
	return out;
}

static json_t *husk_state_json(const struct husk_state *st)
{
	const char *status = state_status(st);
	return json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:o}", "ociVersion", HUSK_OCI_VERSION, "id",
			 st->id, "status", status, "pid", strcmp(status, "stopped") ? (int)st->pid : 0,
			 "bundle", st->bundle, "created", st->created, "annotations",
			 husk_annotations(st));
}

int cmd_state(const struct husk_global *g, int argc, char **argv)
{
	struct husk_state st;
	struct husk_err e = { 0 };
	const char *id = cmd_only_id(g, "state", argc, argv);
	if (!id)
		return 1;
	if (state_load(g, id, &st, &e) < 0) {
		husk_report(g, "state %s: %s", id, e.msg);
		return 1;
	}
	json_t *j = husk_state_json(&st);
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(j);
	return 0;
}

/* `husk list [--format|-f table|json] [--quiet|-q]`, as runc takes it. */
int cmd_list(const struct husk_global *g, int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "quiet", no_argument, NULL, 'q' },
					      { NULL, 0, NULL, 0 } };
	const char *format = "table";
	bool quiet = false;
	int o;

	optind = 1;
	while ((o = cmd_getopt(g, argc, argv, "f:q", opts)) != -1)
		if (o == 'f')
			format = optarg;
		else if (o == 'q')
			quiet = true;
		else
			return 1;
	if (strcmp(format, "table") && strcmp(format, "json")) {
		husk_report(g, "list: --format must be table or json, not \"%s\"", format);
		return 1;
	}
	if (optind != argc) {
		husk_report(g, "list: takes no arguments, not \"%s\"", argv[optind]);
		return 1;
	}
	bool as_json = !quiet && !strcmp(format, "json");
	json_t *all = json_array();
	DIR *d = opendir(g->root);
	struct dirent *de;

	if (!as_json && !quiet)
		printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
	while (d && (de = readdir(d))) {
		struct husk_state st;
		struct husk_err e = { 0 };
		if (de->d_name[0] == '.' || state_load(g, de->d_name, &st, &e) < 0)
			continue;
		json_t *j = husk_state_json(&st);
		if (quiet)
			printf("%s\n", st.id);
		else if (!as_json)
			printf("%-24s %-8lld %-10s %-40s %s\n", st.id,
			       json_integer_value(json_object_get(j, "pid")),
			       json_string_value(json_object_get(j, "status")), st.bundle,
			       st.created);
		json_array_append_new(all, j);
	}
	if (d)
		closedir(d);
	if (as_json) {
		json_dumpf(all, stdout, JSON_COMPACT);
		putchar('\n');
	}
	json_decref(all);
	return 0;
}

/*
 * runc spec --rootless: a user namespace that maps the caller to root, and
 * no network namespace of its own (an unprivileged user could not set one up).
 */
static void husk_spec_rootless(json_t *spec)
{
	json_t *lx = json_object_get(spec, "linux");
	json_t *ns = json_object_get(lx, "namespaces");
	size_t i;
	json_t *v;
	json_array_foreach(ns, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "type")), "network")) {
			json_array_remove(ns, i);
			break;
		}
	json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
	json_object_set_new(lx, "uidMappings",
			    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID",
				      (int)geteuid(), "size", 1));
	json_object_set_new(lx, "gidMappings",
			    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID",
				      (int)getegid(), "size", 1));
}

/*
 * `husk spec [--bundle|-b DIR] [--rootless]`: a starting config.json, as runc
 * spec writes one (rootfs "rootfs").
 */
int cmd_spec(const struct husk_global *g, int argc, char **argv)
{
	static const struct option opts[] = { { "bundle", required_argument, NULL, 'b' },
					      { "rootless", no_argument, NULL, 'R' },
					      { NULL, 0, NULL, 0 } };
	const char *bundle = ".";
	bool rootless = false;
	char path[PATH_MAX];
	struct husk_err e = { 0 };
	int o;

	optind = 1;
	while ((o = cmd_getopt(g, argc, argv, "b:", opts)) != -1)
		if (o == 'b')
			bundle = optarg;
		else if (o == 'R')
			rootless = true;
		else
			return 1;
	if (optind != argc) {
		husk_report(g, "spec: takes no arguments, not \"%s\"", argv[optind]);
		return 1;
	}
	if (path_fmt(&e, path, sizeof(path), "%s/config.json", bundle) < 0) {
		husk_report(g, "spec: %s", e.msg);
		return 1;
	}
	if (access(path, F_OK) == 0) {
		husk_report(g, "spec: %s exists", path);
		return 1;
	}
	json_t *caps = json_pack("[s,s,s]", "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
	json_t *j = json_pack(
		"{s:s,s:{s:b,s:{s:i,s:i},s:[s],s:[s,s],s:s,s:{s:O,s:O,s:O},s:[{s:s,s:i,s:i}],"
		"s:b},s:{s:s,s:b},s:s,s:[{s:s,s:s,s:s},{s:s,s:s,s:s,s:[s,s,s,s]}],"
		"s:{s:[{s:s},{s:s},{s:s},{s:s},{s:s}]}}",
		"ociVersion", HUSK_OCI_VERSION, "process", "terminal", 0, "user", "uid", 0, "gid",
		0, "args", "sh", "env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"TERM=xterm", "cwd", "/", "capabilities", "bounding", caps, "effective", caps,
		"permitted", caps, "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
		"noNewPrivileges", 1, "root", "path", "rootfs", "readonly", 1, "hostname", "husk",
		"mounts", "destination", "/proc", "type", "proc", "source", "proc", "destination",
		"/dev", "type", "tmpfs", "source", "tmpfs", "options", "nosuid", "strictatime",
		"mode=755", "size=65536k", "linux", "namespaces", "type", "pid", "type", "network",
		"type", "ipc", "type", "uts", "type", "mount");
	json_decref(caps);
	if (j && rootless)
		husk_spec_rootless(j);
	int r = j ? json_dump_file(j, path, JSON_INDENT(2)) : -1;
	json_decref(j);
	if (r < 0) {
		husk_report(g, "spec: cannot write %s", path);
		return 1;
	}
	return 0;
}

int cmd_features(const struct husk_global *g, int argc, char **argv)
{
	if (cmd_no_operands(g, "features", argc, argv) < 0)
		return 1;
	json_t *j = json_pack(
		"{s:s,s:s,s:[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s],"
		"s:{s:[s,s,s,s,s,s,s],s:{s:b}},s:{s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", HUSK_OCI_VERSION, "mountOptions", "ro",
		"rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "bind", "rbind",
		"private", "rprivate", "slave", "rslave", "shared", "rshared", "noatime",
		"relatime", "strictatime", "nodiratime", "sync", "remount", "linux", "namespaces",
		"pid", "network", "ipc", "uts", "mount", "cgroup", "user", "cgroup", "v2", 1,
		"annotations", "io.husk.isolation", "a KVM micro-VM with its own kernel per container");
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(j);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(const struct husk_global *, int, char **);
	const char *help;
} husk_cmds[] = {
	{ "create", cmd_create, "create a container (its VM boots; the process waits)" },
	{ "start", cmd_start, "start the process of a created container" },
	{ "run", cmd_run, "create and start a container, wait for its end" },
	{ "state", cmd_state, "print the state of a container (JSON)" },
	{ "exec", cmd_exec, "run a further process in a running container" },
	{ "kill", cmd_kill, "send a signal to the process of a container (--all: every one)" },
	{ "delete", cmd_delete, "delete a container and everything it had (--force: running too)" },
	{ "pause", cmd_pause, "pause every process of a container (its vCPUs stop)" },
	{ "resume", cmd_resume, "resume a paused container" },
	{ "update", cmd_update, "change the resources of a container where its VM can" },
	{ "ps", cmd_ps, "list the processes of a container (--format json: host PIDs)" },
	{ "list", cmd_list, "list the containers (--format|-f table|json, --quiet|-q)" },
	{ "spec", cmd_spec, "write a starting config.json (--bundle|-b DIR, --rootless)" },
	{ "features", cmd_features, "print what this runtime supports (JSON)" },
};

static void husk_usage(FILE *f)
{
	fprintf(f, "usage: husk [global options] COMMAND [options] ID\n"
		   "An OCI runtime that runs each container in a KVM micro-VM of its own.\n\n"
		   "global options: --root DIR (default %s), --log FILE, --log-format text|json,\n"
		   "                --debug (the guest kernel's whole boot log in the console log),\n"
		   "                --systemd-cgroup (accepted), --help, --version\n\ncommands:\n",
		HUSK_DEFAULT_ROOT);
	for (size_t i = 0; i < sizeof(husk_cmds) / sizeof(husk_cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", husk_cmds[i].name, husk_cmds[i].help);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "systemd-cgroup", no_argument, NULL, 's' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct husk_global g = { .root = HUSK_DEFAULT_ROOT, .argv0 = argv[0] };
	int o;

	/* global options stop at the command */
	while ((o = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
		switch (o) {
		case 'r': g.root = optarg; break;
		case 'l': g.log = optarg; break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				husk_report(&g, "--log-format must be text or json");
				exit(1);
			}
			g.log_json = !strcmp(optarg, "json");
			break;
		case 'd': g.debug = true; break;
		case 's': break;
		case 'h': husk_usage(stdout); exit(0);
		case 'v':
			printf("husk version %s\nspec: %s\n", HUSK_VERSION, HUSK_OCI_VERSION);
			exit(0);
		default: husk_usage(stderr); exit(1);
		}
	}
	if (optind >= argc) {
		husk_usage(stderr);
		exit(1);
	}
	for (size_t i = 0; i < sizeof(husk_cmds) / sizeof(husk_cmds[0]); i++)
		if (!strcmp(argv[optind], husk_cmds[i].name))
			exit(husk_cmds[i].fn(&g, argc - optind, argv + optind));
	husk_report(&g, "unknown command \"%s\" (see husk --help)", argv[optind]);
	exit(1);
}
