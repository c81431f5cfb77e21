/* pause, resume: the one container id, then the library's pause.h. */
#include "husk.h"

#include "pause.h"

int cmd_pause(const struct husk_global *g, int argc, char **argv)
{
	const char *id = cmd_only_id(g, "pause", argc, argv);
	return id && husk_pause(g, id) == 0 ? 0 : 1;
}

int cmd_resume(const struct husk_global *g, int argc, char **argv)
{
	const char *id = cmd_only_id(g, "resume", argc, argv);
	return id && husk_resume(g, id) == 0 ? 0 : 1;
}
