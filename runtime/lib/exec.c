/*
 * husk exec: a further process in a running container, through the agent
 * behind the container's vsock socket. Attached, husk relays its own stdio
 * (or its terminal) and exits with the process's status; with --detach a
 * child of husk stays behind to do that (its PID goes to --pid-file, for the
 * engine to wait on), and husk returns once the process runs in the guest.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agent_client.h"
#include "console.h"
#include "lifecycle.h"
#include "relay.h"

#define EXEC_AGENT_MS 10000
#define EXEC_DRAIN_MS 10000

struct exec_run {
	const struct exec_opts o;
	struct husk_state st;
	char uds[PATH_MAX + 32];
	char eid[65];
	json_t *process;
	bool terminal;
	struct console_pty pty; /* with --console-socket */
	int tty_in, tty_out;	/* the host side of a terminal: the pty slave, or 0 and 1 */
	struct ac_conn ctl;
	int streams[3]; /* "tty" in [0], or stdin, stdout, stderr */
};

static void exec_run_close(struct exec_run *x)
{
	ac_close(&x->ctl);
	for (int i = 0; i < 3; i++)
		if (x->streams[i] >= 0)
			close(x->streams[i]);
	x->streams[0] = x->streams[1] = x->streams[2] = -1;
	console_pty_close(&x->pty);
	json_decref(x->process);
	x->process = NULL;
}

/* The terminal's size, as the process's consoleSize. */
static void exec_console_size(struct exec_run *x)
{
	struct winsize ws;
	if (ioctl(x->tty_in, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		json_object_set_new(
			x->process, "consoleSize",
			json_pack("{s:i,s:i}", "height", ws.ws_row, "width", ws.ws_col));
}

/* Everything up to the process running in the guest. */
static int exec_start(const struct husk_global *g, struct exec_run *x, struct husk_err *e)
{
	static const char *const names[3] = { "stdin", "stdout", "stderr" };
	struct timespec now;
	const char *status;

	/*
	 * runc's words: "exec failed: container does not exist", "... cannot
	 * exec in a stopped container", with libcontainer's "container not
	 * running" beside them (the agent says that when the workload ended
	 * while the VM was still on its way down).
	 */
	if (state_load(g, x->o.id, &x->st, e) < 0)
		return husk_err_wrap(e, "exec failed");
	if (strcmp(status = state_status(&x->st), "running"))
		return husk_err_set(e, ESRCH, "exec failed: cannot exec in a %s container%s",
				    status,
				    strcmp(status, "stopped") ? "" : ": " HUSK_ERR_NOT_RUNNING);
	if (exec_process_load(&x->o, x->st.bundle, &x->process, e) < 0)
		return -e->code;
	x->terminal = json_is_true(json_object_get(x->process, "terminal"));
	if (husk_check_terminal(x->terminal, x->o.console_socket, x->o.detach, e) < 0)
		return -e->code;
	if (x->terminal && x->o.console_socket) {
		const json_t *cs = json_object_get(x->process, "consoleSize");
		json_int_t rows = json_integer_value(json_object_get(cs, "height"));
		json_int_t cols = json_integer_value(json_object_get(cs, "width"));
		if (console_pty_open(&x->pty, (uint16_t)rows, (uint16_t)cols, e) < 0 ||
		    console_send(x->o.console_socket, x->pty.master, x->pty.name, e) < 0)
			return -e->code;
		close(x->pty.master);
		x->pty.master = -1;
		x->tty_in = x->tty_out = x->pty.slave;
	} else {
		x->tty_in = STDIN_FILENO;
		x->tty_out = STDOUT_FILENO;
	}
	if (x->terminal)
		exec_console_size(x);

	snprintf(x->uds, sizeof(x->uds), "%s/vsock.sock", x->st.dir);
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(x->eid, sizeof(x->eid), "exec-%d-%lx", (int)getpid(),
		 (unsigned long)now.tv_sec * 1000000000UL + (unsigned long)now.tv_nsec);
	if (ac_open(&x->ctl, x->uds, EXEC_AGENT_MS, NULL, NULL, 0, e) < 0)
		return husk_err_wrap(e, "container \"%s\"", x->st.id);
	for (int i = 0; i < (x->terminal ? 1 : 3); i++)
		if ((x->streams[i] = ac_stream(x->uds, x->st.id, x->eid,
					       x->terminal ? "tty" : names[i], e)) < 0)
			return -e->code;
	json_t *req =
		json_pack("{s:s,s:s,s:O}", "id", x->st.id, "exec", x->eid, "process", x->process);
	if (ac_call(&x->ctl, PROTO_EXEC, req, NULL, e) < 0)
		return husk_err_wrap(e, "exec failed: unable to start container process");
	return 0;
}

/* Relay until the process ends; its status as a shell reports it. */
static int exec_relay(const struct husk_global *g, struct exec_run *x, const sigset_t *sigs)
{
	struct relay_pipe in = { 0 }, out = { 0 }, err = { 0 };
	struct relay_signals sr = { 0 };
	struct husk_err e = { 0 };
	struct termios saved;
	json_t *res = NULL;
	bool raw = false;
	int status = EXEC_FAILED;

	int cancel = eventfd(0, EFD_CLOEXEC);
	if (cancel < 0) {
		husk_report(g, "exec %s: eventfd: %s", x->st.id, strerror(errno));
		return EXEC_FAILED;
	}
	bool own_tty = x->terminal && x->pty.slave < 0 && isatty(STDIN_FILENO);
	if (own_tty)
		raw = console_raw(STDIN_FILENO, &saved) == 0;
	relay_signals_start(&sr, sigs,
			    x->terminal && (own_tty || x->pty.slave >= 0) ? x->tty_in : -1, x->uds,
			    x->st.id, x->eid, cancel, &e);
	if (x->terminal) {
		relay_pipe_start(&in, x->tty_in, x->streams[0], cancel, true);
		relay_pipe_start(&out, x->streams[0], x->tty_out, -1, false);
	} else {
		relay_pipe_start(&in, STDIN_FILENO, x->streams[0], cancel, true);
		relay_pipe_start(&out, x->streams[1], STDOUT_FILENO, -1, false);
		relay_pipe_start(&err, x->streams[2], STDERR_FILENO, -1, false);
	}
	if (ac_call(&x->ctl, PROTO_WAIT, json_pack("{s:s,s:s}", "id", x->st.id, "exec", x->eid),
		    &res, &e) == 0)
		status = ac_exit_status(res);
	else
		husk_report(g, "exec %s: %s", x->st.id, e.msg);
	json_decref(res);
	relay_pipe_join(&out, EXEC_DRAIN_MS);
	relay_pipe_join(&err, EXEC_DRAIN_MS);
	uint64_t one = 1;
	if (write(cancel, &one, sizeof(one)) < 0) {
		/* the eventfd cannot be full */
	}
	relay_pipe_join(&in, 0);
	relay_signals_join(&sr);
	close(cancel);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return status < 0 ? EXEC_FAILED : status;
}

/*
 * The detached relay: a child in a session of its own, the terminal its
 * controlling one (so that a resize of the master brings SIGWINCH). In the
 * parent *child is its PID; in the child 0, and it returns the status.
 */
static int exec_detach(const struct husk_global *g, struct exec_run *x, const sigset_t *sigs,
		       pid_t *child, struct husk_err *e)
{
	pid_t pid = fork();
	if (pid < 0)
		return husk_err_set(e, errno, "fork: %s", strerror(errno));
	*child = pid;
	if (pid > 0)
		return 0;
	if (x->pty.slave >= 0) {
		/* the pty is all the process has: the engine's stdio are not kept open */
		console_make_ctty(x->pty.slave);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		for (int fd = 0; null >= 0 && fd < 3; fd++)
			dup2(null, fd);
		if (null > 2)
			close(null);
	} else {
		setsid();
	}
	return exec_relay(g, x, sigs);
}

int husk_exec(const struct husk_global *g, const struct exec_opts *o)
{
	struct exec_run x = { .o = *o,
			      .pty = { .master = -1, .slave = -1 },
			      .ctl = { .fd = -1 },
			      .streams = { -1, -1, -1 } };
	struct husk_err e = { 0 };
	sigset_t sigs;
	int status;

	if (exec_start(g, &x, &e) < 0) {
		husk_report(g, "exec %s: %s", x.o.id, e.msg);
		exec_run_close(&x);
		return e.code ? -e.code : -EIO; /* husk exec's 255, as runc's */
	}
	/* the relay's signals, blocked before any of its threads exists */
	sigemptyset(&sigs);
	for (int s = SIGHUP; s < SIGRTMIN; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGPIPE && s != SIGCHLD && s != SIGSEGV &&
		    s != SIGBUS && s != SIGFPE && s != SIGILL && s != SIGTRAP && s != SIGABRT &&
		    s != SIGTSTP && s != SIGTTIN && s != SIGTTOU && s != SIGCONT && s != SIGURG)
			sigaddset(&sigs, s);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!x.o.detach) {
		if (x.o.pid_file && husk_write_pid_file(x.o.pid_file, getpid(), &e) < 0) {
			husk_report(g, "exec %s: %s", x.st.id, e.msg);
			status = EXEC_FAILED;
		} else {
			status = exec_relay(g, &x, &sigs);
		}
		exec_run_close(&x);
		return status;
	}
	pid_t child = -1;
	status = exec_detach(g, &x, &sigs, &child, &e);
	if (child == 0) { /* the relay, at the process's end */
		exec_run_close(&x);
		return status;
	}
	if (status < 0 || (x.o.pid_file && husk_write_pid_file(x.o.pid_file, child, &e) < 0)) {
		husk_report(g, "exec %s: %s", x.st.id, e.msg);
		json_t *kill =
			json_pack("{s:s,s:s,s:i}", "id", x.st.id, "exec", x.eid, "signal", SIGKILL);
		struct husk_err ignored = { 0 };
		ac_call(&x.ctl, PROTO_SIGNAL, kill, NULL, &ignored);
		exec_run_close(&x);
		return EXEC_FAILED;
	}
	exec_run_close(&x);
	return 0;
}
