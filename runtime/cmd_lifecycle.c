/* create, start, run, kill, delete: their options, then the library's lifecycle.h. */
#include "husk.h"

#include <getopt.h>
#include <string.h>

#include "lifecycle.h"

int cmd_create(const struct husk_global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "no-pivot", no_argument, NULL, 'n' },
		{ "no-new-keyring", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct husk_create_opts co = { .bundle = ".", .detach = true };
	struct husk_state st;
	int o;

	optind = 1;
	while ((o = cmd_getopt(g, argc, argv, "b:", opts)) != -1) {
		if (o == 'b')
			co.bundle = optarg;
		else if (o == 'p')
			co.pid_file = optarg;
		else if (o == 'c')
			co.console_socket = optarg;
		else if (o == 'f' && strcmp(optarg, "0")) {
			husk_report(g,
				    "create: --preserve-fds %s: host file descriptors cannot "
				    "cross into a VM; only stdio reaches the workload",
				    optarg);
			return 1;
		} else if (o == '?')
			return 1;
	}
	if (optind != argc - 1) {
		husk_report(g, "create: exactly one container id, please");
		return 1;
	}
	return husk_create(g, argv[optind], &co, &st) < 0 ? 1 : 0;
}

/* The one container id after the options. */
static const char *husk_one_id(const struct husk_global *g, const char *cmd, int argc, char **argv)
{
	if (optind >= argc) {
		husk_report(g, "%s: a container id, please", cmd);
		return NULL;
	}
	return argv[optind];
}

int cmd_start(const struct husk_global *g, int argc, char **argv)
{
	const char *id = cmd_only_id(g, "start", argc, argv);
	return id && husk_start(g, id) == 0 ? 0 : 1;
}

int cmd_kill(const struct husk_global *g, int argc, char **argv)
{
	bool all;

	if (cmd_only_all(g, argc, argv, &all) < 0)
		return 1;
	const char *id = husk_one_id(g, "kill", argc, argv);
	const char *sig = optind + 1 < argc ? argv[optind + 1] : NULL;
	return id && husk_kill(g, id, sig, all) == 0 ? 0 : 1;
}

int cmd_delete(const struct husk_global *g, int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { NULL, 0, NULL, 0 } };
	bool force = false;
	int o;

	optind = 1;
	while ((o = cmd_getopt(g, argc, argv, "f", opts)) != -1)
		if (o == 'f')
			force = true;
		else
			return 1;
	const char *id = husk_one_id(g, "delete", argc, argv);
	return id && husk_delete(g, id, force) == 0 ? 0 : 1;
}

int cmd_run(const struct husk_global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "detach", no_argument, NULL, 'd' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct husk_create_opts co = { .bundle = "." };
	int o;

	optind = 1;
	while ((o = cmd_getopt(g, argc, argv, "b:d", opts)) != -1) {
		if (o == 'b')
			co.bundle = optarg;
		else if (o == 'p')
			co.pid_file = optarg;
		else if (o == 'd')
			co.detach = true;
		else if (o == 'c')
			co.console_socket = optarg;
		else
			return 1;
	}
	if (optind != argc - 1) {
		husk_report(g, "run: exactly one container id, please");
		return 1;
	}
	int r = husk_run(g, argv[optind], &co);
	return r < 0 ? 1 : r;
}
