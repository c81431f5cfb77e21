/* ps [--format table|json] ID: its options, then the library's ps.h. */
#include "husk.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ps.h"

int cmd_ps(const struct husk_global *g, int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { NULL, 0, NULL, 0 } };
	const char *format = "table";
	int o;

	optind = 1;
	while ((o = cmd_getopt(g, argc, argv, "+f:", opts)) != -1)
		if (o == 'f')
			format = optarg;
		else
			return 1;
	if (strcmp(format, "table") && strcmp(format, "json")) {
		husk_report(g, "ps: --format must be table or json, not \"%s\"", format);
		return 1;
	}
	if (optind >= argc) {
		husk_report(g, "ps: a container id, please");
		return 1;
	}
	return husk_ps(g, argv[optind], !strcmp(format, "json"), stdout) == 0 ? 0 : 1;
}
