/* exec [options] ID [COMMAND...]: its options (exec_process.h), then the library's exec.h. */
#include "husk.h"

#include "exec.h"

int cmd_exec(const struct husk_global *g, int argc, char **argv)
{
	struct husk_err e = { 0 };
	struct exec_opts o = { 0 };

	if (exec_opts_parse(argc, argv, &o, &e) < 0) {
		husk_report(g, "exec: %s", e.msg);
		return 1;
	}
	int r = husk_exec(g, &o);
	return r < 0 ? EXEC_FAILED : r; /* as runc: 255 when the process did not run */
}
