/*
 * A stand-in for husk-vmm, for the runtime's unit tests: it takes husk
 * create's command line, says "ready" on --ready-fd and serves the control
 * socket (--control) as vmm/spec_control.c does, with no VM behind it:
 *   start -> running; kill SIG ALL -> ok, then it ends as a workload killed
 *   by SIG would (exit 128 + SIG); pause, resume; state.
 * FAKE_VMM_ERROR=MSG in the environment: "error MSG" on --ready-fd, exit 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "husk/line_io.h"
#include "husk/uds.h"

static const char *fake_start_refusal(const char *state, bool paused)
{
	if (!strcmp(state, "stopped"))
		return "cannot start a container that has stopped";
	if (paused)
		return "cannot start a container in the paused state";
	return "cannot start an already running container";
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "kernel", required_argument, NULL, 'x' },
		{ "initrd", required_argument, NULL, 'x' },
		{ "spec", required_argument, NULL, 'x' },
		{ "id", required_argument, NULL, 'x' },
		{ "vsock-uds", required_argument, NULL, 'x' },
		{ "console", required_argument, NULL, 'x' },
		{ "binds-dir", required_argument, NULL, 'x' },
		{ "mem", required_argument, NULL, 'x' },
		{ "cpus", required_argument, NULL, 'x' },
		{ "cmdline", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *control = NULL, *state = "created";
	bool paused = false;
	int ready = -1, o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'c')
			control = optarg;
		else if (o == 'r')
			ready = atoi(optarg);
		else if (o != 'x')
			return 2;
	}
	if (!control || ready < 0) {
		fprintf(stderr, "fake-husk-vmm: --control and --ready-fd, please\n");
		return 2;
	}
	const char *fail = getenv("FAKE_VMM_ERROR");
	if (fail) {
		dprintf(ready, "error %s\n", fail);
		return 1;
	}
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || uds_bind(lfd, control) < 0 || listen(lfd, 16) < 0) {
		dprintf(ready, "error control socket %s: %s\n", control, strerror(errno));
		return 1;
	}
	dprintf(ready, "ready\n");
	close(ready);

	for (;;) {
		char line[128], reply[256];
		int sig = 0, all = 0;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		line[0] = '\0';
		line_read(fd, line, sizeof(line), 2000);
		if (!strcmp(line, "state")) {
			snprintf(reply, sizeof(reply), "%s\n", paused ? "paused" : state);
		} else if (!strcmp(line, "start")) {
			if (strcmp(state, "created") || paused) {
				snprintf(reply, sizeof(reply), "error %s\n",
					 fake_start_refusal(state, paused));
			} else {
				state = "running";
				snprintf(reply, sizeof(reply), "ok\n");
			}
		} else if (!strcmp(line, "pause") || !strcmp(line, "resume")) {
			paused = !strcmp(line, "pause");
			snprintf(reply, sizeof(reply), "ok\n");
		} else if (sscanf(line, "kill %d %d", &sig, &all) == 2 && sig >= 1 && sig <= 64) {
			snprintf(reply, sizeof(reply), "ok\n");
		} else {
			snprintf(reply, sizeof(reply), "error unknown request \"%.40s\"\n", line);
		}
		if (send(fd, reply, strlen(reply), MSG_NOSIGNAL) < 0) {
			/* the client left */
		}
		close(fd);
		if (sig) {
			/* the workload ends of its signal, and the VM with it */
			close(lfd);
			unlink(control);
			return 128 + sig;
		}
	}
}
