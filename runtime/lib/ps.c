/* ps: the processes of a container, as the guest's agent lists them (see ps.h). */
#include "ps.h"

#include <errno.h>
#include <string.h>

#include "husk/proto.h"

int husk_ps(const struct husk_global *g, const char *id, bool json, FILE *out)
{
	struct husk_state st;
	struct husk_err e = { 0 };
	json_t *res = NULL;

	if (state_load(g, id, &st, &e) < 0) {
		husk_report(g, "ps %s: %s", id, e.msg);
		return -e.code;
	}
	const char *status = state_status(&st);
	if (json) {
		fprintf(out, strcmp(status, "stopped") ? "[%d]\n" : "[]\n", (int)st.pid);
		return 0;
	}
	if (!strcmp(status, "stopped")) {
		fprintf(out, "%-8s %s\n", "PID", "CMD"); /* as runc: nothing runs, no error */
		return 0;
	}
	if (strcmp(status, "running") && strcmp(status, "created")) {
		husk_report(g, "ps %s: cannot list the processes of a %s container", st.id, status);
		return -EINVAL;
	}
	if (state_agent_call(&st, PROTO_PS, json_pack("{s:s}", "id", st.id), &res, &e) < 0) {
		husk_report(g, "ps %s: %s", st.id, e.msg);
		return -e.code;
	}
	const json_t *pids = json_object_get(res, "pids"), *cmds = json_object_get(res, "commands");
	fprintf(out, "%-8s %s\n", "PID", "CMD");
	for (size_t i = 0; i < json_array_size(pids); i++)
		fprintf(out, "%-8lld %s\n", json_integer_value(json_array_get(pids, i)),
			json_string_value(json_array_get(cmds, i)) ?
				json_string_value(json_array_get(cmds, i)) :
				"?");
	json_decref(res);
	return 0;
}
