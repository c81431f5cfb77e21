/*
 * Every command parses its options the same way: getopt_long through
 * cmd_getopt, which refuses an unknown option or a missing value with a
 * message in the log (not only getopt's on stderr) and a non-zero exit, as
 * runc does; and commands without options of their own go through it too, so
 * that "--bogus" is never read as a container id.
 */
#include "husk.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_getopt(const struct husk_global *g, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	char spec[64];
	bool in_order = shortopts[0] == '+';

	/* a leading ':' (after '+') tells a missing value from an unknown option */
	snprintf(spec, sizeof(spec), "%s:%s", in_order ? "+" : "", shortopts + in_order);
	opterr = 0;
	int o = getopt_long(argc, argv, spec, longopts, NULL);
	if (o == ':') {
		husk_report(g, "%s: option %s needs a value", argv[0], argv[optind - 1]);
		return '?';
	}
	if (o == '?') {
		if (optopt && optopt < 128)
			husk_report(g, "%s: unknown option -%c", argv[0], optopt);
		else
			husk_report(g, "%s: unknown option %s", argv[0], argv[optind - 1]);
	}
	return o;
}

static const struct option cmd_opts_none[] = { { NULL, 0, NULL, 0 } };

const char *cmd_only_id(const struct husk_global *g, const char *cmd, int argc, char **argv)
{
	optind = 1;
	if (cmd_getopt(g, argc, argv, "", cmd_opts_none) != -1)
		return NULL;
	if (optind != argc - 1) {
		husk_report(g, "%s: exactly one container id, please", cmd);
		return NULL;
	}
	return argv[optind];
}

int cmd_no_operands(const struct husk_global *g, const char *cmd, int argc, char **argv)
{
	optind = 1;
	if (cmd_getopt(g, argc, argv, "", cmd_opts_none) != -1)
		return -EINVAL;
	if (optind != argc) {
		husk_report(g, "%s: takes no arguments, not \"%s\"", cmd, argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int cmd_only_all(const struct husk_global *g, int argc, char **argv, bool *all)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
					      { NULL, 0, NULL, 0 } };
	int o;

	*all = false;
	optind = 1;
	while ((o = cmd_getopt(g, argc, argv, "a", opts)) != -1)
		if (o == 'a')
			*all = true;
		else
			return -EINVAL;
	return 0;
}
