/* pause, resume: a container's vCPUs stop outside the guest, then run on (see pause.h). */
#include "pause.h"

#include <errno.h>
#include <string.h>

static int husk_pause_resume(const struct husk_global *g, const char *id, bool pause)
{
	const char *cmd = pause ? "pause" : "resume";
	struct husk_state st;
	struct husk_err e = { 0 };

	if (state_load(g, id, &st, &e) < 0) {
		husk_report(g, "%s %s: %s", cmd, id, e.msg);
		return -e.code;
	}
	/* runc's words: what is not running cannot pause, what is not paused cannot resume */
	const char *status = state_status(&st);
	if (pause ? strcmp(status, "running") && strcmp(status, "created") :
		    strcmp(status, "paused")) {
		husk_report(g, "%s %s: %s", cmd, st.id,
			    pause ? HUSK_ERR_NOT_RUNNING : HUSK_ERR_NOT_PAUSED);
		return pause ? -ESRCH : -EINVAL;
	}
	if (state_control(&st, pause ? PROTO_PAUSE : PROTO_RESUME, NULL, NULL, &e) < 0) {
		husk_report(g, "%s %s: %s", cmd, st.id, e.msg);
		return -e.code;
	}
	return 0;
}

int husk_pause(const struct husk_global *g, const char *id)
{
	return husk_pause_resume(g, id, true);
}

int husk_resume(const struct husk_global *g, const char *id)
{
	return husk_pause_resume(g, id, false);
}
