/*
 * A stand-in for husk-vmm, for the runtime's unit tests: it takes husk
 * create's command line, says "ready" on --ready-fd and serves the control
 * socket (--control) as shim/spec_control.c does, in the protocol of
 * include/husk/proto.h, with no VM behind it: START -> running; SIGNAL ->
 * OK, then it ends as a workload killed by the signal would (exit 128 +
 * the signal); PAUSE, RESUME; STATE.
 * FAKE_VMM_ERROR=MSG in the environment: "error MSG" on --ready-fd, exit 1.
 * FAKE_VMM_ARGV=FILE: its arguments written to FILE, one a line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "husk/proto.h"
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
		{ "netns-own", no_argument, NULL, 'n' },
		{ "mem", required_argument, NULL, 'x' },
		{ "cpus", required_argument, NULL, 'x' },
		{ "cmdline", required_argument, NULL, 'x' },
		{ "template-dir", required_argument, NULL, 'x' },
		{ "no-template", no_argument, NULL, 'x' },
		{ "no-seccomp", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *control = NULL, *state = "created";
	bool paused = false, netns_own = false;
	int ready = -1, o;

	const char *argv_file = getenv("FAKE_VMM_ARGV");
	FILE *af = argv_file ? fopen(argv_file, "we") : NULL;
	for (int i = 1; af && i < argc; i++)
		fprintf(af, "%s\n", argv[i]);
	if (af)
		fclose(af);
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'c')
			control = optarg;
		else if (o == 'r')
			ready = atoi(optarg);
		else if (o == 'n')
			netns_own = true;
		else if (o != 'x')
			return 2;
	}
	if (!control || ready < 0 || !netns_own) {
		fprintf(stderr, "fake-husk-vmm: --control, --ready-fd and --netns-own, please\n");
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
		struct proto_msg m;
		struct husk_err e = { 0 };
		json_t *res = NULL;
		long long sig = 0;
		int all = 0, fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (proto_recv_ms(fd, 2000, &m, &e) < 0) {
			/* answered below */
		} else if (m.hdr.type == PROTO_STATE) {
			res = json_pack("{s:s}", "state", paused ? "paused" : state);
		} else if (m.hdr.type == PROTO_START) {
			if (strcmp(state, "created") || paused)
				husk_err_set(&e, EINVAL, "%s", fake_start_refusal(state, paused));
			else
				state = "running";
		} else if (m.hdr.type == PROTO_PAUSE || m.hdr.type == PROTO_RESUME) {
			paused = m.hdr.type == PROTO_PAUSE;
		} else if (m.hdr.type == PROTO_SIGNAL) {
			if (proto_get_int(m.payload, "signal", 1, 1, 64, &sig, &e) == 0)
				proto_get_bool(m.payload, "all", &all, &e);
		} else {
			husk_err_set(&e, EOPNOTSUPP, "%s: not a request husk-vmm serves",
				     proto_type_name(m.hdr.type));
		}
		if (e.code) {
			sig = 0;
			res = proto_error_payload(&e);
		}
		if (proto_send(fd, e.code ? PROTO_ERROR : PROTO_OK, m.hdr.id, res) < 0) {
			/* the client left */
		}
		json_decref(res);
		proto_msg_free(&m);
		close(fd);
		if (sig) {
			/* the workload ends of its signal, and the VM with it */
			close(lfd);
			unlink(control);
			return 128 + (int)sig;
		}
	}
}
