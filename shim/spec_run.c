/* husk-vmm --spec: one container run in the guest (see spec_run.h). */
#include "spec_run.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agent_client.h"
#include "relay.h"
#include "husk/path.h"
#include "husk/spec.h"
#include "log.h"
#include "seccomp/seccomp.h"
#include "spec_control.h"
#include "spec_net.h"
#include "spec_template.h"

#define SR_AGENT_TIMEOUT_MS (300 * 1000) /* boots under emulation take tens of seconds */
#define SR_DRAIN_MS	    (10 * 1000)	 /* output still in flight after the exit */
#define SR_ROOT_TAG	    "rootfs"

/* ext4's magic at 1080, erofs's at 1024. */
static const char *spec_run_fs_type(const char *path)
{
	uint8_t b[1082];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? pread(fd, b, sizeof(b), 0) : -1;
	if (fd >= 0)
		close(fd);
	if (n == (ssize_t)sizeof(b) && b[1024] == 0xe2 && b[1025] == 0xe1 && b[1026] == 0xf5 &&
	    b[1027] == 0xe0)
		return "erofs";
	if (n == (ssize_t)sizeof(b) && b[1080] == 0x53 && b[1081] == 0xef)
		return "ext4";
	return NULL;
}

int spec_run_prepare(struct spec_run *sr, const struct vmm_config *cfg,
		     const struct shim_options *opts)
{
	struct husk_err e = { 0 };
	struct spec spec = { 0 };
	json_error_t jerr;
	char dir[PATH_MAX];
	char *root = sr->root;
	struct stat st;

	memset(sr, 0, sizeof(*sr));
	sr->status = -1;
	sr->cancel_efd = -1;
	sr->cfg = *cfg;
	sr->opts = *opts;
	sr->state = SPEC_BOOTING;
	pthread_mutex_init(&sr->lock, NULL);
	pthread_cond_init(&sr->cond, NULL);
	if (!spec_id_valid(opts->container_id)) {
		log_err("spec", "--id '%s' is not a valid container id", opts->container_id);
		return -EINVAL;
	}
	sr->config = json_load_file(opts->spec, JSON_REJECT_DUPLICATES, &jerr);
	if (!sr->config) {
		log_err("spec", "%s: line %d: %s", opts->spec, jerr.line, jerr.text);
		return -EINVAL;
	}
	if (spec_parse(sr->config, &spec, &e) < 0) {
		log_err("spec", "%s: %s", opts->spec, e.msg);
		goto fail;
	}
	sr->terminal = spec.process.terminal;
	if (spec_net_add(&sr->cfg, (spec.namespaces & CLONE_NEWNET) && opts->netns_own) < 0)
		goto fail;
	if (spec_binds_prepare(&sr->binds, sr->config, opts->container_id, opts->binds_dir,
			       &sr->has_binds) < 0)
		goto fail;
	if (sr->has_binds) {
		if (sr->cfg.nfs == CONFIG_MAX_FS) {
			log_err("spec", "the host's bind mounts need one of the %d shares",
				CONFIG_MAX_FS);
			goto fail;
		}
		struct fs_config *fs = &sr->cfg.fs[sr->cfg.nfs++];
		snprintf(fs->tag, sizeof(fs->tag), "%s", SPEC_BINDS_TAG);
		fs->dir = sr->binds.dir;
	}
	if (path_fmt(&e, dir, sizeof(dir), "%s", opts->spec) < 0 ||
	    (spec.root_path[0] == '/' ? path_fmt(&e, root, sizeof(sr->root), "%s", spec.root_path) :
					path_fmt(&e, root, sizeof(sr->root), "%s/%s", dirname(dir),
						 spec.root_path)) < 0) {
		log_err("spec", "root.path: %s", e.msg);
		goto fail;
	}
	if (stat(root, &st) < 0) {
		log_err("spec", "root.path %s: %s", root, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		/* a directory is shared with virtio-fs; root.readonly is the agent's */
		if (sr->cfg.nfs == CONFIG_MAX_FS) {
			log_err("spec", "the root directory needs one of the %d shares",
				CONFIG_MAX_FS);
			goto fail;
		}
		sr->root_type = "virtiofs";
		struct fs_config *fs = &sr->cfg.fs[sr->cfg.nfs++];
		snprintf(fs->tag, sizeof(fs->tag), "%s", SR_ROOT_TAG);
		fs->dir = sr->root;
	} else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		log_err("spec", "root.path %s: neither a directory nor an image", root);
		goto fail;
	} else if (!(sr->root_type = spec_run_fs_type(root))) {
		log_err("spec", "root.path %s: neither an ext4 nor an erofs image", root);
		goto fail;
	} else {
		/* The root disk comes first, so that the guest names it /dev/vda. */
		if (cfg->ndisks == CONFIG_MAX_DISKS) {
			log_err("spec", "the root image needs one of the %d disks",
				CONFIG_MAX_DISKS);
			goto fail;
		}
		memmove(&sr->cfg.disks[1], &cfg->disks[0], cfg->ndisks * sizeof(cfg->disks[0]));
		struct disk_config *d = &sr->cfg.disks[0];
		snprintf(d->path, sizeof(d->path), "%s", root);
		d->read_only = spec.root_readonly || !strcmp(sr->root_type, "erofs");
		sr->cfg.ndisks = cfg->ndisks + 1;
	}
	spec_free(&spec);

	if (!cfg->vsock.uds_path) {
		snprintf(sr->tmpdir, sizeof(sr->tmpdir), "/tmp/husk-vmm-XXXXXX");
		if (!mkdtemp(sr->tmpdir)) {
			log_err("spec", "mkdtemp: %s", strerror(errno));
			sr->tmpdir[0] = '\0';
			goto fail;
		}
		snprintf(sr->uds, sizeof(sr->uds), "%s/vsock", sr->tmpdir);
	} else if (path_fmt(&e, sr->uds, sizeof(sr->uds), "%s", cfg->vsock.uds_path) < 0) {
		log_err("spec", "--vsock-uds: %s", e.msg);
		goto fail;
	}
	sr->cfg.vsock.uds_path = sr->uds;
	if (!cfg->console)
		sr->cfg.console = "/dev/null"; /* stdout is the workload's */
	return 0;
fail:
	spec_free(&spec);
	spec_binds_remove(&sr->binds);
	json_decref(sr->config);
	sr->config = NULL;
	return -EINVAL;
}

/* --- the runner -------------------------------------------------------------- */

static int spec_run_status_of(const struct husk_err *e)
{
	return e->code == ENOENT ? 127 : e->code == EACCES ? 126 : 1;
}

/*
 * A guest restored from a template shares its clock's past and its random
 * state with every other clone: the agent sets the clock and reseeds.
 */
static int spec_run_refresh(struct ac_conn *c, struct husk_err *e)
{
	uint8_t seed[64];
	char hex[2 * sizeof(seed) + 1];
	struct timespec now;

	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return husk_err_set(e, EIO, "no entropy for the guest: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(seed); i++)
		snprintf(hex + 2 * i, 3, "%02x", seed[i]);
	explicit_bzero(seed, sizeof(seed));
	clock_gettime(CLOCK_REALTIME, &now);
	json_t *req = json_pack("{s:I,s:s}", "time_ns",
				(json_int_t)now.tv_sec * 1000000000 + now.tv_nsec, "seed", hex);
	explicit_bzero(hex, sizeof(hex));
	return ac_call(c, PROTO_REFRESH, req, NULL, e);
}

/* Everything from "agent up" to "status known"; returns the status. */
static int spec_run_container(struct spec_run *sr, struct ac_conn *c)
{
	const char *id = sr->opts.container_id;
	struct husk_err e = { 0 };
	struct relay_pipe in = { 0 }, out = { 0 }, err = { 0 };
	struct relay_signals winch = { 0 };
	int fds[3] = { -1, -1, -1 }, status = 1;
	json_t *res = NULL;
	struct termios saved;
	bool raw = false;

	if (sr->terminal) {
		struct winsize ws;
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
			json_object_set_new(
				json_object_get(sr->config, "process"), "consoleSize",
				json_pack("{s:i,s:i}", "height", ws.ws_row, "width", ws.ws_col));
		if ((fds[0] = ac_stream(sr->uds, id, "", "tty", &e)) < 0)
			goto out;
	} else {
		static const char *const names[3] = { "stdin", "stdout", "stderr" };
		if (ac_streams(sr->uds, id, "", names, 3, fds, &e) < 0)
			goto out;
	}
	spec_steps_mark(&sr->steps, "streams");
	if (sr->cfg.restore_dir) {
		if (spec_run_refresh(c, &e) < 0) {
			spec_ctl_ready(sr, &e);
			goto out;
		}
		spec_steps_mark(&sr->steps, "refresh");
	}
	const char *source = !strcmp(sr->root_type, "virtiofs") ? SR_ROOT_TAG : "/dev/vda";
	json_t *req = json_pack("{s:s,s:O,s:{s:s,s:s},s:b}", "id", id, "spec", sr->config, "rootfs",
				"source", source, "type", sr->root_type, "run_once", 1);
	if (sr->has_binds)
		json_object_set_new(req, "binds", json_string(SPEC_BINDS_TAG));
	if (ac_call(c, PROTO_CREATE, req, NULL, &e) < 0) {
		spec_ctl_ready(sr, &e);
		status = spec_run_status_of(&e);
		goto out;
	}
	spec_steps_mark(&sr->steps, "create");
	if (sr->terminal) {
		/* the terminal's size reaches the guest now and at each SIGWINCH */
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGWINCH);
		if (relay_signals_start(&winch, &set, STDIN_FILENO, sr->uds, id, "", sr->cancel_efd,
					&e) < 0) {
			spec_ctl_ready(sr, &e);
			goto out;
		}
	}
	spec_ctl_set_state(sr, SPEC_CREATED);
	spec_ctl_ready(sr, NULL);
	if (sr->opts.control && spec_ctl_wait_start(sr) < 0)
		goto out; /* the VM ended before anyone started the workload */
	if (ac_call(c, PROTO_START, json_pack("{s:s}", "id", id), NULL, &e) < 0) {
		spec_ctl_started(sr, &e);
		status = spec_run_status_of(&e);
		goto out;
	}
	spec_ctl_started(sr, NULL);
	spec_steps_mark(&sr->steps, "start");
	if (sr->terminal && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios t = saved;
		cfmakeraw(&t);
		raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
	}
	relay_pipe_start(&in, STDIN_FILENO, fds[0], sr->cancel_efd, true);
	relay_pipe_start(&out, sr->terminal ? fds[0] : fds[1], STDOUT_FILENO, -1, false);
	if (!sr->terminal)
		relay_pipe_start(&err, fds[2], STDERR_FILENO, -1, false);
	if (ac_call(c, PROTO_WAIT, json_pack("{s:s}", "id", id), &res, &e) == 0)
		status = ac_exit_status(res);
	json_decref(res);
	spec_steps_mark(&sr->steps, "wait");
	/* nothing is lost: the output streams end after the last byte */
	relay_pipe_join(&out, SR_DRAIN_MS);
	relay_pipe_join(&err, SR_DRAIN_MS);
	spec_steps_mark(&sr->steps, "drained");
out:
	if (e.code)
		log_err("spec", "%s", e.msg);
	if (in.running) {
		uint64_t one = 1;
		if (write(sr->cancel_efd, &one, sizeof(one)) < 0) {
			/* the eventfd cannot be full */
		}
		pthread_join(in.thread, NULL);
	}
	if (winch.running) {
		uint64_t one = 1;
		if (write(sr->cancel_efd, &one, sizeof(one)) < 0) {
			/* the eventfd cannot be full */
		}
		relay_signals_join(&winch);
	}
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return status < 0 ? 1 : status;
}

static void *spec_run_main(void *arg)
{
	struct spec_run *sr = arg;
	struct husk_err e = { 0 };
	struct ac_conn c = { .fd = -1 };

	/* its stdio relay threads inherit this filter (filters.c) */
	if (sc_enter(SC_RUNNER) < 0) {
		spec_ctl_ready(sr, &(struct husk_err){ EPERM, "no seccomp filter for the runner" });
		spec_ctl_set_state(sr, SPEC_STOPPED);
		sr->status = 1;
		vmm_stop(sr->vm, 1, "the runner's seccomp filter could not be installed");
		return NULL;
	}
	if (ac_open(&c, sr->uds, SR_AGENT_TIMEOUT_MS, sr->stopping, NULL, 0, &e) < 0) {
		spec_ctl_ready(sr, &e);
		spec_ctl_set_state(sr, SPEC_STOPPED);
		if (!*sr->stopping) {
			log_err("spec", "%s", e.msg);
			sr->status = 1;
			vmm_stop(sr->vm, 1, "the guest agent could not be reached");
		}
		return NULL;
	}
	spec_steps_mark(&sr->steps, "hello");
	sr->status = spec_run_container(sr, &c);
	spec_ctl_set_state(sr, SPEC_STOPPED);
	/*
	 * The VM holds this one container: once its status is known and its
	 * output relayed, and the agent has written out what the guest's file
	 * systems hold (SHUTDOWN's reply), the VM ends here, with the status,
	 * without waiting for the guest to tear down and power off.
	 */
	struct husk_err ignored = { 0 };
	if (ac_call(&c, PROTO_SHUTDOWN, NULL, NULL, &ignored) < 0)
		vmm_stop(sr->vm, sr->status, "the guest agent did not shut down");
	else
		vmm_stop(sr->vm, sr->status, "the container has ended");
	spec_steps_mark(&sr->steps, "shutdown");
	ac_close(&c);
	return NULL;
}

int spec_run_start(struct spec_run *sr)
{
	sr->cancel_efd = eventfd(0, EFD_CLOEXEC);
	if (sr->cancel_efd < 0)
		return -errno;
	if (sr->opts.control) {
		int r = spec_ctl_start(sr);
		if (r < 0)
			return r;
	}
	if (pthread_create(&sr->thread, NULL, spec_run_main, sr) != 0)
		return -EAGAIN;
	sr->started = true;
	return 0;
}

void spec_run_finish(struct spec_run *sr)
{
	if (sr->started) {
		uint64_t one = 1;
		if (write(sr->cancel_efd, &one, sizeof(one)) < 0) {
			/* cannot be full */
		}
		pthread_join(sr->thread, NULL);
		sr->started = false;
	}
	spec_ctl_stop(sr);
	spec_ctl_ready(sr, &(struct husk_err){ ECANCELED, "the VM ended" });
	pthread_mutex_destroy(&sr->lock);
	pthread_cond_destroy(&sr->cond);
	if (sr->cancel_efd >= 0)
		close(sr->cancel_efd);
	sr->cancel_efd = -1;
	if (sr->tmpdir[0]) {
		unlink(sr->uds);
		rmdir(sr->tmpdir);
		sr->tmpdir[0] = '\0';
	}
	spec_binds_remove(&sr->binds);
	json_decref(sr->config);
	sr->config = NULL;
}

int spec_run_vm(const struct vmm_config *cfg, const struct shim_options *opts, struct timing *t)
{
	struct spec_run *sr = malloc(sizeof(*sr));
	sigset_t stop_sigs, old_sigs;
	const char *reason;
	bool ran = false;
	int r;

	/*
	 * The signals that end the VM wait from here on, while the binds are
	 * staged, for the VM's signalfd (vmm.h): the teardown always runs.
	 */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGHUP);
	sigaddset(&stop_sigs, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, &old_sigs);
	if (!sr || spec_run_prepare(sr, cfg, opts) < 0) {
		free(sr);
		pthread_sigmask(SIG_SETMASK, &old_sigs, NULL);
		return -EINVAL;
	}
	/* the container's root disk and the vsock device join the VM */
	spec_steps_init(&sr->steps, atomic_load(&t->ns[TIMING_PROCESS_START]));
	spec_steps_mark(&sr->steps, "prepared");
	r = spec_template_create(sr, t);
	if (r == 0) {
		spec_steps_mark(&sr->steps, "vm_made");
		sr->stopping = vmm_stopping(sr->vm);
		r = vmm_start(sr->vm);
	}
	if (r == 0) {
		if (spec_run_start(sr) < 0)
			vmm_stop(sr->vm, 1, "the container runner failed to start");
		vmm_seccomp_main(sr->vm); /* last: the runner and control threads are made */
		r = vmm_wait(sr->vm, &reason);
		spec_steps_mark(&sr->steps, "vm_ended");
		ran = true;
		if (r != 0 && !(sr->status >= 0 && r == sr->status))
			log_err("vmm", "%s", reason);
	}
	spec_run_finish(sr); /* after the teardown closed its connections */
	if (ran && r == 0)
		r = sr->status >= 0 ? sr->status : 1;
	vmm_destroy(sr->vm);
	spec_steps_mark(&sr->steps, "vm_destroyed");
	if (opts->steps)
		spec_steps_write(&sr->steps, opts->steps);
	free(sr);
	pthread_sigmask(SIG_SETMASK, &old_sigs, NULL);
	return r;
}
