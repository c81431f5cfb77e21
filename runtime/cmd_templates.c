/*
 * templates ls [--format|-f table|json] and templates rm [--all|-a] [KEY...]:
 * their options, then the library's templates.h.
 */
#include "husk.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "templates.h"

/* 512 B, 3.4 MiB, 1.2 GiB */
static void cmd_templates_size(char *out, size_t n, unsigned long long bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(out, n, "%llu B", bytes);
		return;
	}
	for (v /= 1024; v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0]); u++)
		v /= 1024;
	snprintf(out, n, "%.1f %s", v, units[u]);
}

/* 42s, 5m, 3h, 2d */
static void cmd_templates_age(char *out, size_t n, long long s)
{
	if (s < 60)
		snprintf(out, n, "%llds", s);
	else if (s < 3600)
		snprintf(out, n, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(out, n, "%lldh", s / 3600);
	else
		snprintf(out, n, "%lldd", s / 86400);
}

static int cmd_templates_ls(const struct husk_global *g, int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { NULL, 0, NULL, 0 } };
	const char *format = "table";
	json_t *all, *j;
	size_t i;
	int o;

	optind = 1;
	while ((o = cmd_getopt(g, argc, argv, "f:", opts)) != -1)
		if (o == 'f')
			format = optarg;
		else
			return 1;
	if (strcmp(format, "table") && strcmp(format, "json")) {
		husk_report(g, "templates ls: --format must be table or json, not \"%s\"", format);
		return 1;
	}
	if (optind != argc) {
		husk_report(g, "templates ls: takes no arguments, not \"%s\"", argv[optind]);
		return 1;
	}
	if (husk_templates_list(g, &all) < 0)
		return 1;
	if (!strcmp(format, "json")) {
		json_dumpf(all, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(all);
		return 0;
	}
	printf("%-20s %12s %s\n", "KEY", "SIZE", "AGE");
	json_array_foreach (all, i, j) {
		char size[32], age[32];
		cmd_templates_size(
			size, sizeof(size),
			(unsigned long long)json_integer_value(json_object_get(j, "bytes")));
		cmd_templates_age(age, sizeof(age), json_integer_value(json_object_get(j, "age")));
		printf("%-20s %12s %s\n", json_string_value(json_object_get(j, "key")), size, age);
	}
	json_decref(all);
	return 0;
}

static int cmd_templates_rm(const struct husk_global *g, int argc, char **argv)
{
	bool all;

	if (cmd_only_all(g, argc, argv, &all) < 0)
		return 1;
	if (all && optind != argc) {
		husk_report(g, "templates rm: --all or keys, not both");
		return 1;
	}
	if (!all && optind == argc) {
		husk_report(
			g, "templates rm: a template key (see husk templates ls) or --all, please");
		return 1;
	}
	return husk_templates_rm(g, argv + optind, (size_t)(argc - optind), all) == 0 ? 0 : 1;
}

int cmd_templates(const struct husk_global *g, int argc, char **argv)
{
	static const struct {
		const char *name, *full;
		int (*fn)(const struct husk_global *, int, char **);
	} subs[] = { { "ls", "templates ls", cmd_templates_ls },
		     { "rm", "templates rm", cmd_templates_rm } };

	for (size_t i = 0; argc >= 2 && i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name))
			continue;
		/* its own argv, whose argv[0] names it in option errors */
		char *args[argc];
		args[0] = (char *)subs[i].full;
		for (int j = 2; j <= argc; j++)
			args[j - 1] = argv[j];
		return subs[i].fn(g, argc - 1, args);
	}
	if (argc < 2)
		husk_report(g, "templates: ls or rm, please");
	else
		husk_report(g, "templates: unknown command \"%s\" (ls or rm)", argv[1]);
	return 1;
}
