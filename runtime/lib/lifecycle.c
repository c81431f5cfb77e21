/* create, start, run, kill, delete: a container's life, one husk-vmm each (see lifecycle.h). */
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "console.h"
#include "hooks.h"
#include "host_cgroup.h"
#include "husk/line_io.h"
#include "husk/path.h"
#include "husk/spec.h"
#include "info.h"
#include "net_attach.h"
#include "netns.h"
#include "resources.h"
#include "state.h"
#include "templates.h"

#define HUSK_CREATE_TIMEOUT_MS (600 * 1000) /* boots under emulation take tens of seconds */
#define HUSK_STOP_MS	       10000

/* One of the paths below: $env if set, else dir/name. */
static int husk_path(char *out, size_t len, const char *env, const char *dir, const char *name,
		     struct husk_err *e)
{
	const char *v = getenv(env);
	if (v && v[0])
		return path_fmt(e, out, len, "%s", v) < 0 ? husk_err_wrap(e, "$%s", env) : 0;
	return path_fmt(e, out, len, "%s/%s", dir, name);
}

/* husk-vmm and the guest: beside husk (the build tree), or from the environment. */
static int husk_paths(char *vmm, char *kernel, char *initrd, size_t len, struct husk_err *e)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	const char *dir = n > 0 ? dirname(self) : ".";
	if (husk_path(vmm, len, "HUSK_VMM", dir, "husk-vmm", e) < 0 ||
	    husk_path(kernel, len, "HUSK_KERNEL", dir, "guest/vmlinux", e) < 0 ||
	    husk_path(initrd, len, "HUSK_INITRD", dir, "guest/initramfs.cpio", e) < 0)
		return -e->code;
	return 0;
}

/* What the bundle asks of the VM, read and checked before any VM exists. */
struct husk_bundle {
	char config[PATH_MAX + 16];
	bool terminal;
	uint16_t rows, cols; /* process.consoleSize, 0 when absent */
	uint64_t mem;
	unsigned cpus;
	char cgroup[PATH_MAX]; /* "" : the VM stays in the caller's cgroup */
	struct hcg_limits limits;
	int netns;		   /* the network namespace husk-vmm joins, -1: a new one */
	char netns_path[PATH_MAX]; /* its path in config.json, "" for a new one */
	json_t *hooks_json;	   /* config.json's "hooks", NULL when absent */
	struct spec_hooks hooks;
	bool cold; /* the annotation io.husk.template = cold: no template */
};

static void husk_bundle_free(struct husk_bundle *b)
{
	if (b->netns >= 0)
		close(b->netns);
	b->netns = -1;
	json_decref(b->hooks_json);
	b->hooks_json = NULL;
	spec_hooks_free(&b->hooks);
}

static int husk_check_bundle(const char *bundle, struct husk_bundle *b, struct husk_err *e)
{
	struct spec spec = { 0 };
	json_error_t jerr;

	memset(b, 0, sizeof(*b));
	b->netns = -1;
	snprintf(b->config, sizeof(b->config), "%s/config.json", bundle);
	json_t *j = json_load_file(b->config, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return husk_err_set(e, EINVAL, "%s: %s", b->config,
				    access(b->config, F_OK) ? strerror(errno) : jerr.text);
	int r = spec_parse(j, &spec, e);
	if (r == 0)
		r = husk_template_annotation(json_object_get(j, "annotations"), &b->cold, e);
	if (r == 0 && (r = spec_hooks_parse(json_object_get(j, "hooks"), &b->hooks, e)) == 0 &&
	    json_is_object(json_object_get(j, "hooks")))
		b->hooks_json = json_incref(json_object_get(j, "hooks"));
	json_decref(j);
	if (r < 0) {
		spec_free(&spec);
		return husk_err_wrap(e, "%s", b->config);
	}
	b->terminal = spec.process.terminal;
	b->rows = spec.process.rows;
	b->cols = spec.process.cols;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	res_vm_size(&spec.resources, ncpu > 0 ? (unsigned)ncpu : 1, &b->mem, &b->cpus);
	res_host_limits(&spec.resources, b->mem, &b->limits);
	b->cgroup[0] = '\0';
	if (spec.cgroups_path && spec.cgroups_path[0])
		r = hcg_path_from_spec(spec.cgroups_path, b->cgroup, sizeof(b->cgroup), e);
	if (r == 0)
		r = netns_open_spec(&spec, &b->netns, e);
	if (r == 0 && spec.net_ns_path)
		r = path_fmt(e, b->netns_path, sizeof(b->netns_path), "%s", spec.net_ns_path);
	spec_free(&spec);
	return r;
}

/* A terminal goes with a console socket, as with runc, unless husk stays attached. */
int husk_check_terminal(bool terminal, const char *console_socket, bool detach, struct husk_err *e)
{
	if (terminal && !console_socket && detach)
		return husk_err_set(e, EINVAL,
				    "cannot allocate tty if husk will detach without "
				    "setting console socket");
	if (!terminal && console_socket)
		return husk_err_set(e, EINVAL,
				    "cannot use console socket if husk will not "
				    "allocate tty");
	return 0;
}

int husk_write_pid_file(const char *path, pid_t pid, struct husk_err *e)
{
	char tmp[PATH_MAX];
	if (path_fmt(e, tmp, sizeof(tmp), "%s.tmp", path) < 0)
		return husk_err_wrap(e, "pid file");
	FILE *f = fopen(tmp, "we");
	if (!f || fprintf(f, "%d", (int)pid) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
		return husk_err_set(e, errno ? errno : EIO, "pid file %s: %s", path,
				    strerror(errno ? errno : EIO));
	return 0;
}

/* Read the VMM's "ready" or "error MSG" line (EOF: it ended without a word). */
static int husk_wait_ready(int fd, struct husk_err *e)
{
	char line[512];

	if (line_read(fd, line, sizeof(line), HUSK_CREATE_TIMEOUT_MS) < 0)
		return husk_err_set(e, ETIMEDOUT, "the container's VM did not come up");
	if (!strcmp(line, "ready"))
		return 0;
	if (!strncmp(line, "error ", 6))
		return husk_err_set(e, EIO, "%s", line + 6);
	return husk_err_set(e, EIO, "the container's VM ended while it was being created");
}

/* The container's last traces: its host cgroup and its state directory. */
static void husk_remove(const struct husk_state *st)
{
	if (st->cgroup[0])
		hcg_remove(HCG_MOUNTINFO, st->cgroup);
	state_remove(st);
}

/* The hooks of one kind, the container's state (with this status) on their stdin. */
static int husk_hooks(const struct spec_hooks *h, enum spec_hook_kind kind,
		      const struct husk_state *st, const char *status, struct husk_err *e)
{
	if (!h->n[kind])
		return 0;
	json_t *j = husk_state_json(st, status);
	char *state = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!state)
		return husk_err_set(e, ENOMEM, "the state for the %s hooks: out of memory",
				    spec_hook_name(kind));
	int r = hooks_run(h, kind, state, st->pid, e);
	free(state);
	return r;
}

/* End the VMM: SIGTERM lets it take its VM, sockets and virtiofsd down. */
static void husk_stop_vmm(const struct husk_state *st)
{
	if (!state_alive(st))
		return;
	kill(st->pid, SIGTERM);
	for (int waited = 0; waited < HUSK_STOP_MS && state_alive(st); waited += 20) {
		waitpid(st->pid, NULL, WNOHANG); /* ours when run made it */
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (state_alive(st))
		kill(st->pid, SIGKILL);
	waitpid(st->pid, NULL, WNOHANG);
}

/*
 * What delete does once it may: the network taken down, the VMM ended, every
 * trace removed; then the poststop hooks, whose failure is only reported.
 */
static void husk_destroy(const struct husk_global *g, const struct husk_state *st,
			 const struct spec_hooks *h, const char *verb)
{
	struct husk_err e = { 0 };

	husk_net_detach(st);
	husk_stop_vmm(st);
	husk_remove(st);
	if (husk_hooks(h, SPEC_HOOK_POSTSTOP, st, "stopped", &e) < 0)
		husk_report(g, "%s %s: %s", verb, st->id, e.msg);
}

/*
 * After the VMM is ready: the create hooks (prestart, createRuntime,
 * createContainer, status "creating"), then the network attach. A failure
 * fails the create.
 */
static int husk_create_hooks(const struct husk_bundle *b, struct husk_state *st, struct husk_err *e)
{
	static const enum spec_hook_kind kinds[] = { SPEC_HOOK_PRESTART, SPEC_HOOK_CREATE_RUNTIME,
						     SPEC_HOOK_CREATE_CONTAINER };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int r = husk_hooks(&b->hooks, kinds[i], st, "creating", e);
		if (r < 0)
			return r;
	}
	return husk_net_attach(st, HUSK_NET_AT_CREATE, e);
}

static int husk_create_in(const struct husk_global *g, const char *id,
			  const struct husk_create_opts *o, struct husk_bundle *b,
			  struct husk_state *st)
{
	const char *bundle_arg = o->bundle ? o->bundle : ".";
	const char *pid_file = o->pid_file, *console_socket = o->console_socket;
	bool detach = o->detach;
	struct husk_err e = { 0 };
	struct console_pty pty = { .master = -1, .slave = -1 };
	char bundle[PATH_MAX], vmm[PATH_MAX], kernel[PATH_MAX], initrd[PATH_MAX],
		control[PATH_MAX + 32], vsock[PATH_MAX + 32], console[PATH_MAX + 32], mem[32],
		cpus[16], binds[PATH_MAX + 32], templates[PATH_MAX];
	int pipefd[2], use_templates = 0;

	if (!realpath(bundle_arg, bundle)) {
		int err = errno;
		husk_report(g, "bundle %s: %s", bundle_arg, strerror(err));
		return -err;
	}
	/* everything refused (host networking too) before anything is made */
	if (husk_check_bundle(bundle, b, &e) < 0 ||
	    husk_check_terminal(b->terminal, console_socket, detach, &e) < 0 ||
	    husk_paths(vmm, kernel, initrd, sizeof(vmm), &e) < 0 ||
	    (use_templates = husk_template_dir(g, b->cold, templates, sizeof(templates), &e)) < 0 ||
	    state_create(g, id, st, &e) < 0) {
		husk_report(g, "create %s: %s", id, e.msg);
		return -e.code;
	}
	/* the hooks, for start and delete; the engine gets the master, the slave becomes husk-vmm's stdio */
	if (hooks_save(st->dir, b->hooks_json, &e) < 0 ||
	    (b->terminal && console_socket &&
	     (console_pty_open(&pty, b->rows, b->cols, &e) < 0 ||
	      console_send(console_socket, pty.master, pty.name, &e) < 0))) {
		husk_report(g, "create %s: %s", id, e.msg);
		console_pty_close(&pty);
		state_remove(st);
		return -e.code;
	}
	if (pty.master >= 0)
		close(pty.master);
	pty.master = -1;
	snprintf(st->bundle, sizeof(st->bundle), "%s", bundle);
	snprintf(st->cgroup, sizeof(st->cgroup), "%s", b->cgroup);
	snprintf(st->netns, sizeof(st->netns), "%s", b->netns_path);
	st->mem_bytes = b->mem;
	snprintf(mem, sizeof(mem), "%lluM", (unsigned long long)(b->mem >> 20));
	snprintf(cpus, sizeof(cpus), "%u", b->cpus);
	snprintf(control, sizeof(control), "%s/control.sock", st->dir);
	snprintf(vsock, sizeof(vsock), "%s/vsock.sock", st->dir);
	snprintf(console, sizeof(console), "%s/console.log", st->dir);
	/* the bind staging goes with the state, whatever ends the VMM */
	snprintf(binds, sizeof(binds), "%s/binds", st->dir);
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		int err = errno;
		husk_report(g, "create %s: pipe: %s", id, strerror(err));
		console_pty_close(&pty);
		state_remove(st);
		return -err;
	}
	pid_t pid = fork();
	if (pid == 0) {
		/* the VM, its threads and its virtiofsd: all in the engine's cgroup */
		if (b->cgroup[0] && hcg_join(HCG_MOUNTINFO, b->cgroup, 0, &b->limits, &e) < 0) {
			dprintf(pipefd[1], "error %s\n", e.msg);
			_exit(1);
		}
		/* and in the container's network namespace: /proc/<pid>/ns/net is the container's */
		if (netns_join(b->netns, &e) < 0) {
			dprintf(pipefd[1], "error %s\n", e.msg);
			_exit(1);
		}
		/* the engine's stdio stay, or the terminal: they become the workload's */
		if (dup2(pipefd[1], 3) < 0)
			_exit(127);
		if (pty.slave >= 0 && (dup2(pty.slave, 0) < 0 || dup2(pty.slave, 1) < 0 ||
				       dup2(pty.slave, 2) < 0 || console_make_ctty(0) < 0))
			_exit(127);
		const char *args[32] = {
			vmm,
			"--kernel",
			kernel,
			"--initrd",
			initrd,
			"--spec",
			b->config,
			"--id",
			id,
			"--control",
			control,
			"--vsock-uds",
			vsock,
			"--console",
			console,
			"--binds-dir",
			binds,
			"--netns-own",
			"--mem",
			mem,
			"--cpus",
			cpus,
			"--ready-fd",
			"3",
			/* the kernel's info messages cost boot time; warnings still show */
			"--cmdline",
			g->debug ? "loglevel=7" : "quiet",
		};
		size_t n = 0;
		while (args[n])
			n++;
		/* a template's VM, or a cold boot */
		if (use_templates) {
			args[n++] = "--template-dir";
			args[n++] = templates;
		} else {
			args[n++] = "--no-template";
		}
		if (g->no_seccomp)
			args[n++] = "--no-seccomp"; /* asked for by hand: unsafe */
		execv(vmm, (char *const *)args);
		fprintf(stderr, "husk: create %s: %s: %s\n", id, vmm, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	console_pty_close(&pty);
	int r = pid < 0 ? husk_err_set(&e, errno, "fork: %s", strerror(errno)) :
			  husk_wait_ready(pipefd[0], &e);
	close(pipefd[0]);
	if (r == 0) {
		st->pid = pid;
		st->starttime = state_starttime(pid); /* against a reused PID later */
		r = state_save(st, &e);
	}
	if (r == 0)
		r = husk_create_hooks(b, st, &e);
	if (r == 0 && pid_file)
		r = husk_write_pid_file(pid_file, pid, &e);
	if (r < 0) {
		husk_report(g, "create %s: %s", id, e.msg);
		if (pid > 0 && st->pid == pid) {
			husk_destroy(g, st, &b->hooks, "create");
			waitpid(pid, NULL, 0);
		} else {
			if (pid > 0) {
				kill(pid, SIGTERM);
				waitpid(pid, NULL, 0);
			}
			husk_remove(st);
		}
		return r;
	}
	return 0;
}

int husk_create(const struct husk_global *g, const char *id, const struct husk_create_opts *o,
		struct husk_state *st)
{
	struct husk_bundle b = { .netns = -1 };
	int r = husk_create_in(g, id, o, &b, st);
	husk_bundle_free(&b);
	return r;
}

/* runc's refusals of a start, word for word. */
static const char *husk_start_refusal(const char *status)
{
	if (!strcmp(status, "running"))
		return "cannot start an already running container";
	if (!strcmp(status, "stopped"))
		return "cannot start a container that has stopped";
	return !strcmp(status, "paused") ? "cannot start a container in the paused state" :
					   "cannot start a container in the creating state";
}

/*
 * Start a created container: the network attach (if create found the
 * namespace empty), the startContainer hooks (status "created"), START, then
 * the poststart hooks (status "running"), whose failure is only reported. A
 * failing attach or startContainer hook stops the container (it is then
 * "stopped", for delete), as the runtime spec asks of the hook.
 */
static int husk_start_st(const struct husk_global *g, struct husk_state *st, const char *verb)
{
	struct spec_hooks h;
	struct husk_err e = { 0 };

	int r = hooks_load(st->dir, &h, &e);
	if (r == 0) {
		if ((r = husk_net_attach(st, HUSK_NET_AT_START, &e)) < 0 ||
		    (r = husk_hooks(&h, SPEC_HOOK_START_CONTAINER, st, "created", &e)) < 0)
			husk_stop_vmm(st);
		else
			r = state_control(st, PROTO_START, NULL, NULL, &e);
	}
	if (r < 0) {
		husk_report(g, "%s %s: %s", verb, st->id, e.msg);
		spec_hooks_free(&h);
		return r;
	}
	if (husk_hooks(&h, SPEC_HOOK_POSTSTART, st, "running", &e) < 0)
		husk_report(g, "%s %s: %s", verb, st->id, e.msg);
	spec_hooks_free(&h);
	return 0;
}

int husk_start(const struct husk_global *g, const char *id)
{
	struct husk_state st;
	struct husk_err e = { 0 };

	if (state_load(g, id, &st, &e) < 0) {
		husk_report(g, "start %s: %s", id, e.msg);
		return -e.code;
	}
	const char *status = state_status(&st);
	if (strcmp(status, "created")) {
		husk_report(g, "start %s: %s", st.id, husk_start_refusal(status));
		return -EINVAL;
	}
	return husk_start_st(g, &st, "start");
}

/* Signal names as runc takes them: KILL, SIGKILL, 9. */
int husk_parse_signal(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (*s && !*end)
		return n >= 1 && n <= 64 ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int i = 1; i < 32; i++) {
		const char *name = sigabbrev_np(i);
		if (name && !strcasecmp(s, name))
			return i;
	}
	return -1;
}

int husk_kill(const struct husk_global *g, const char *id, const char *signal, bool all)
{
	struct husk_state st;
	struct husk_err e = { 0 };

	if (state_load(g, id, &st, &e) < 0) {
		husk_report(g, "kill %s: %s", id, e.msg);
		return -e.code;
	}
	int sig = husk_parse_signal(signal ? signal : "TERM");
	if (sig < 0) {
		husk_report(g, "kill: unknown signal \"%s\"", signal);
		return -EINVAL;
	}
	/*
	 * A container whose workload has ended is "not running", as runc words
	 * it (its VM may still be on its way down): containerd takes that, and
	 * only that, as "already finished". --all finds nothing left to signal
	 * and succeeds, as with runc.
	 */
	const char *status = state_status(&st);
	if (strcmp(status, "created") && strcmp(status, "running") && strcmp(status, "paused")) {
		if (all)
			return 0;
		husk_report(g, "kill %s: %s", st.id, HUSK_ERR_NOT_RUNNING);
		return -ESRCH;
	}
	if (state_control(&st, PROTO_SIGNAL, json_pack("{s:i,s:b}", "signal", sig, "all", all),
			  NULL, &e) < 0) {
		if (all && e.code == ESRCH)
			return 0;
		husk_report(g, "kill %s: %s", st.id, e.msg);
		return -e.code;
	}
	return 0;
}

/* No trace of the id under the root: not even a create in progress. */
static bool husk_gone(const struct husk_global *g, const char *id)
{
	char dir[PATH_MAX];
	if (!spec_id_valid(id) || path_fmt(NULL, dir, sizeof(dir), "%s/%s", g->root, id) < 0)
		return false; /* the delete that follows says why */
	return access(dir, F_OK) < 0 && errno == ENOENT;
}

int husk_delete(const struct husk_global *g, const char *id, bool force)
{
	struct husk_state st;
	struct husk_err e = { 0 };

	if (force && husk_gone(g, id))
		return 0; /* as runc: a forced delete of what is not there succeeds */
	if (state_load(g, id, &st, &e) < 0) {
		husk_report(g, "delete %s: %s", id, e.msg);
		return -e.code;
	}
	const char *status = state_status(&st);
	if ((!strcmp(status, "running") || !strcmp(status, "paused")) && !force) {
		husk_report(g, "delete %s: cannot delete container %s that is not stopped: %s",
			    st.id, st.id, status);
		return -EBUSY;
	}
	/* the hooks go with the state directory: read first; unreadable, none run */
	struct spec_hooks h;
	if (hooks_load(st.dir, &h, &e) < 0)
		husk_report(g, "delete %s: %s", st.id, e.msg);
	husk_destroy(g, &st, &h, "delete");
	spec_hooks_free(&h);
	return 0;
}

int husk_run(const struct husk_global *g, const char *id, const struct husk_create_opts *o)
{
	struct husk_state st;
	struct husk_err e = { 0 };
	int status;

	int r = husk_create(g, id, o, &st);
	if (r < 0)
		return r;
	struct spec_hooks h;
	if (hooks_load(st.dir, &h, &e) < 0)
		husk_report(g, "run %s: %s", st.id, e.msg);
	if ((r = husk_start_st(g, &st, "run")) < 0) {
		husk_destroy(g, &st, &h, "run");
		spec_hooks_free(&h);
		return r;
	}
	if (o->detach) {
		spec_hooks_free(&h);
		return 0;
	}
	/* husk-vmm is our child here: its exit status is the workload's */
	if (waitpid(st.pid, &status, 0) != st.pid)
		status = 1 << 8;
	husk_destroy(g, &st, &h, "run");
	spec_hooks_free(&h);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
