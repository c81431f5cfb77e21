/*
 * husk: the runc command line, each container in a micro-VM of its own.
 * main() parses the global options and hands the rest to a command. Each
 * command parses its own options (state, list, spec and features here, the
 * rest in cmd_*.c) and calls one function of the library, huskruntime
 * (lib/); what state, list, spec and features print comes from lib/info.c.
 */
#include "husk.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "info.h"
#include "template.h"

#ifndef HUSK_VERSION
#define HUSK_VERSION "0.0.0"
#endif

int cmd_state(const struct husk_global *g, int argc, char **argv)
{
	json_t *j = NULL;
	const char *id = cmd_only_id(g, "state", argc, argv);
	if (!id || husk_state(g, id, &j) < 0)
		return 1;
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
	size_t i;
	json_t *j;
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
	json_t *all = husk_list(g);

	if (as_json) {
		json_dumpf(all, stdout, JSON_COMPACT);
		putchar('\n');
	} else if (!quiet) {
		printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
	}
	json_array_foreach (all, i, j)
		if (quiet)
			printf("%s\n", json_string_value(json_object_get(j, "id")));
		else if (!as_json)
			printf("%-24s %-8lld %-10s %-40s %s\n",
			       json_string_value(json_object_get(j, "id")),
			       json_integer_value(json_object_get(j, "pid")),
			       json_string_value(json_object_get(j, "status")),
			       json_string_value(json_object_get(j, "bundle")),
			       json_string_value(json_object_get(j, "created")));
	json_decref(all);
	return 0;
}

/* `husk spec [--bundle|-b DIR] [--rootless]`, as runc takes it. */
int cmd_spec(const struct husk_global *g, int argc, char **argv)
{
	static const struct option opts[] = { { "bundle", required_argument, NULL, 'b' },
					      { "rootless", no_argument, NULL, 'R' },
					      { NULL, 0, NULL, 0 } };
	const char *bundle = ".";
	bool rootless = false;
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
	return husk_spec(g, bundle, rootless) == 0 ? 0 : 1;
}

int cmd_features(const struct husk_global *g, int argc, char **argv)
{
	if (cmd_no_operands(g, "features", argc, argv) < 0)
		return 1;
	json_t *j = husk_features();
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
	{ "templates", cmd_templates,
	  "the VM templates: ls [--format|-f table|json], rm [--all|-a] [KEY...]" },
};

static void husk_usage(FILE *f)
{
	fprintf(f,
		"usage: husk [global options] COMMAND [options] ID\n"
		"An OCI runtime that runs each container in a KVM micro-VM of its own.\n\n"
		"global options: --root DIR (default %s), --log FILE, --log-format text|json,\n"
		"                --debug (the guest kernel's whole boot log in the console log),\n"
		"                --template-dir DIR (VM templates; default $HUSK_TEMPLATE_DIR,\n"
		"                else %s), --no-templates (every VM boots),\n"
		"                --no-seccomp (husk-vmm without its system call filters:\n"
		"                unsafe, for debugging),\n"
		"                --systemd-cgroup (accepted), --help, --version\n\ncommands:\n",
		HUSK_DEFAULT_ROOT, TPL_DEFAULT_DIR);
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
		{ "template-dir", required_argument, NULL, 't' },
		{ "no-templates", no_argument, NULL, 'T' },
		{ "no-seccomp", no_argument, NULL, 'S' },
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
		case 't': g.template_dir = optarg; break;
		case 'T': g.no_templates = true; break;
		case 'S': g.no_seccomp = true; break;
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
