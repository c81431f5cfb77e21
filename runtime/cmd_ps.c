/*
 * ps: the processes of a container. A container's processes live in its
 * guest, where the host cannot see them: the table lists them as the guest
 * numbers them (with their command lines); --format json gives the host
 * PIDs that stand for them, which is husk-vmm's (the one host process that
 * holds the whole container), so that engines that look the PIDs up on the
 * host (docker top) find the VM.
 */
#include "husk.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "husk/proto.h"

int cmd_ps(const struct husk_global *g, int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { NULL, 0, NULL, 0 } };
	const char *format = "table";
	struct husk_state st;
	struct husk_err e = { 0 };
	json_t *res = NULL;
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
	if (state_load(g, argv[optind], &st, &e) < 0) {
		husk_report(g, "ps %s: %s", argv[optind], e.msg);
		return 1;
	}
	const char *status = state_status(&st);
	if (!strcmp(format, "json")) {
		printf(strcmp(status, "stopped") ? "[%d]\n" : "[]\n", (int)st.pid);
		return 0;
	}
	if (!strcmp(status, "stopped")) {
		printf("%-8s %s\n", "PID", "CMD"); /* as runc: nothing runs, no error */
		return 0;
	}
	if (strcmp(status, "running") && strcmp(status, "created")) {
		husk_report(g, "ps %s: cannot list the processes of a %s container", st.id,
			    status);
		return 1;
	}
	if (state_agent_call(&st, PROTO_PS, json_pack("{s:s}", "id", st.id), &res, &e) < 0) {
		husk_report(g, "ps %s: %s", st.id, e.msg);
		return 1;
	}
	const json_t *pids = json_object_get(res, "pids"), *cmds = json_object_get(res, "commands");
	printf("%-8s %s\n", "PID", "CMD");
	for (size_t i = 0; i < json_array_size(pids); i++)
		printf("%-8lld %s\n", json_integer_value(json_array_get(pids, i)),
		       json_string_value(json_array_get(cmds, i)) ?
			       json_string_value(json_array_get(cmds, i)) : "?");
	json_decref(res);
	return 0;
}
