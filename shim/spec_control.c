/* husk-vmm's control socket (see spec_control.h). */
#include "spec_control.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent_client.h"
#include "husk/proto.h"
#include "husk/uds.h"
#include "log.h"
#include "seccomp/seccomp.h"

#define CTL_READ_MS  2000
#define CTL_AGENT_MS 10000

struct spec_control {
	int listen_fd;
	pthread_t thread;
	bool running;
};

static const char *const spec_state_names[] = { "booting", "created", "running", "stopped" };

void spec_ctl_set_state(struct spec_run *sr, enum spec_state state)
{
	pthread_mutex_lock(&sr->lock);
	sr->state = state;
	pthread_cond_broadcast(&sr->cond);
	pthread_mutex_unlock(&sr->lock);
}

void spec_ctl_ready(struct spec_run *sr, const struct husk_err *e)
{
	if (sr->opts.ready_fd < 0)
		return;
	char line[HUSK_ERR_MSG_MAX + 16];
	int n = e ? snprintf(line, sizeof(line), "error %s\n", e->msg) :
		    snprintf(line, sizeof(line), "ready\n");
	if (write(sr->opts.ready_fd, line, (size_t)n) < 0) {
		/* the runtime went away: it will find the state by itself */
	}
	close(sr->opts.ready_fd);
	sr->opts.ready_fd = -1;
}

int spec_ctl_wait_start(struct spec_run *sr)
{
	int r = 0;
	pthread_mutex_lock(&sr->lock);
	while (!sr->start_requested && !*sr->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1; /* look at `stopping` now and then */
		pthread_cond_timedwait(&sr->cond, &sr->lock, &ts);
	}
	if (!sr->start_requested)
		r = -ECANCELED;
	pthread_mutex_unlock(&sr->lock);
	return r;
}

void spec_ctl_started(struct spec_run *sr, const struct husk_err *e)
{
	pthread_mutex_lock(&sr->lock);
	sr->start_done = true;
	sr->start_result = e ? -e->code : 0;
	snprintf(sr->start_error, sizeof(sr->start_error), "%s", e ? e->msg : "");
	if (!e)
		sr->state = SPEC_RUNNING;
	pthread_cond_broadcast(&sr->cond);
	pthread_mutex_unlock(&sr->lock);
}

/* runc's refusal of a start in this state, word for word. */
static const char *spec_ctl_start_refusal(const struct spec_run *sr)
{
	if (sr->state == SPEC_STOPPED)
		return "cannot start a container that has stopped";
	if (sr->paused)
		return "cannot start a container in the paused state";
	if (sr->state == SPEC_RUNNING || sr->start_requested)
		return "cannot start an already running container";
	return "cannot start a container in the creating state";
}

/* START: ask the runner and wait for what the agent's START said. */
static int spec_ctl_do_start(struct spec_run *sr, struct husk_err *e)
{
	int r = 0;

	pthread_mutex_lock(&sr->lock);
	if (sr->state != SPEC_CREATED || sr->start_requested || sr->paused) {
		r = husk_err_set(e, EINVAL, "%s", spec_ctl_start_refusal(sr));
		pthread_mutex_unlock(&sr->lock);
		return r;
	}
	sr->start_requested = true;
	pthread_cond_broadcast(&sr->cond);
	while (!sr->start_done && !*sr->stopping)
		pthread_cond_wait(&sr->cond, &sr->lock);
	if (!sr->start_done)
		r = husk_err_set(e, ECANCELED, "the VM ended");
	else if (sr->start_result < 0)
		r = husk_err_set(e, -sr->start_result, "%s", sr->start_error);
	pthread_mutex_unlock(&sr->lock);
	return r;
}

/* PAUSE / RESUME: the vCPUs stop outside the guest, or run on. */
static int spec_ctl_do_pause(struct spec_run *sr, bool pause, struct husk_err *e)
{
	pthread_mutex_lock(&sr->lock);
	enum spec_state st = sr->state;
	bool paused = sr->paused;
	pthread_mutex_unlock(&sr->lock);
	/* runc's words: only what runs pauses, only what is paused resumes */
	if (pause && (paused || (st != SPEC_CREATED && st != SPEC_RUNNING)))
		return husk_err_set(e, ESRCH, HUSK_ERR_NOT_RUNNING);
	if (!pause && (!paused || (st != SPEC_CREATED && st != SPEC_RUNNING)))
		return husk_err_set(e, EINVAL, HUSK_ERR_NOT_PAUSED);
	int r = pause ? vmm_pause(sr->vm) : vmm_resume(sr->vm);
	if (r < 0)
		return husk_err_set(e, -r, "%s: %s", pause ? "pause" : "resume", strerror(-r));
	pthread_mutex_lock(&sr->lock);
	sr->paused = pause;
	pthread_mutex_unlock(&sr->lock);
	return 0;
}

/*
 * Did a signal fail because the workload had ended? The agent says ESRCH
 * when the process has exited; the runner may have marked the container
 * stopped meanwhile, or the VM be going down (the agent then unreachable).
 */
static bool spec_ctl_ended(struct spec_run *sr, const struct husk_err *e)
{
	pthread_mutex_lock(&sr->lock);
	bool stopped = sr->state == SPEC_STOPPED;
	pthread_mutex_unlock(&sr->lock);
	return stopped || e->code == ESRCH || *sr->stopping;
}

/* SIGNAL: passed on to the agent. */
static int spec_ctl_do_kill(struct spec_run *sr, const json_t *req, struct husk_err *e)
{
	long long sig = 0;
	int all = 0;
	struct husk_err ae = { 0 };
	struct ac_conn c = { .fd = -1 };

	if (proto_get_int(req, "signal", 1, 1, 64, &sig, e) < 0 ||
	    proto_get_bool(req, "all", &all, e) < 0)
		return husk_err_wrap(e, "signal");
	pthread_mutex_lock(&sr->lock);
	enum spec_state st = sr->state;
	bool paused = sr->paused;
	pthread_mutex_unlock(&sr->lock);
	if (st == SPEC_BOOTING)
		return husk_err_set(e, EBUSY, "the container is %s", spec_state_names[st]);
	/*
	 * The workload has ended, the VM may still be on its way down: runc's
	 * words, which containerd takes as "already finished" (any other
	 * failure of a kill it retries for minutes).
	 */
	if (st == SPEC_STOPPED)
		return husk_err_set(e, ESRCH, HUSK_ERR_NOT_RUNNING);
	if (paused && sig == SIGKILL) {
		/* nothing runs in a paused guest: the VM ends, as its processes would */
		vmm_stop(sr->vm, 128 + SIGKILL, "killed while paused");
		return 0;
	}
	if (paused)
		return husk_err_set(e, EBUSY, "the container is paused: resume it first");
	int r = ac_open(&c, sr->uds, CTL_AGENT_MS, sr->stopping, NULL, 0, &ae);
	if (r == 0)
		r = ac_call(&c, PROTO_SIGNAL,
			    json_pack("{s:s,s:i,s:b}", "id", sr->opts.container_id, "signal",
				      (int)sig, "all", all),
			    NULL, &ae);
	ac_close(&c);
	if (r == 0)
		return 0;
	if (spec_ctl_ended(sr, &ae))
		return husk_err_set(e, ESRCH, HUSK_ERR_NOT_RUNNING);
	/* ESRCH means "not running" to the runtime, and this is something else */
	return husk_err_set(e, ae.code == ESRCH ? EIO : ae.code, "%s", ae.msg);
}

static int spec_ctl_do_state(struct spec_run *sr, json_t **res, struct husk_err *e)
{
	pthread_mutex_lock(&sr->lock);
	const char *state = sr->paused && sr->state != SPEC_STOPPED ? "paused" :
								      spec_state_names[sr->state];
	pthread_mutex_unlock(&sr->lock);
	*res = json_pack("{s:s}", "state", state);
	return *res ? 0 : husk_err_set(e, ENOMEM, "out of memory");
}

static int spec_ctl_request(struct spec_run *sr, const struct proto_msg *m, json_t **res,
			    struct husk_err *e)
{
	const char *name = proto_type_name(m->hdr.type), *id = NULL;

	if (proto_get_string(m->payload, "id", 0, &id, e) < 0)
		return husk_err_wrap(e, "%s", name);
	if (id && sr->opts.container_id && strcmp(id, sr->opts.container_id))
		return husk_err_set(e, ENOENT, "%s: container \"%s\" is not the one here (\"%s\")",
				    name, id, sr->opts.container_id);
	switch (m->hdr.type) {
	case PROTO_START: return spec_ctl_do_start(sr, e);
	case PROTO_SIGNAL: return spec_ctl_do_kill(sr, m->payload, e);
	case PROTO_PAUSE:
	case PROTO_RESUME: return spec_ctl_do_pause(sr, m->hdr.type == PROTO_PAUSE, e);
	case PROTO_STATE: return spec_ctl_do_state(sr, res, e);
	default: return husk_err_set(e, EOPNOTSUPP, "%s: not a request husk-vmm serves", name);
	}
}

/* One request per connection, answered OK or ERROR. */
static void spec_ctl_serve(struct spec_run *sr, int fd)
{
	struct proto_msg m;
	struct husk_err e = { 0 };
	json_t *res = NULL;

	int r = proto_recv_ms(fd, CTL_READ_MS, &m, &e);
	if (r == -ECONNRESET || r == -ETIMEDOUT)
		return; /* no request */
	if (r == 0)
		r = spec_ctl_request(sr, &m, &res, &e);
	if (r < 0)
		res = proto_error_payload(&e);
	if (proto_send(fd, r < 0 ? PROTO_ERROR : PROTO_OK, m.hdr.id, res) < 0) {
		/* the client left */
	}
	json_decref(res);
	proto_msg_free(&m);
}

static void *spec_ctl_main(void *arg)
{
	struct spec_run *sr = arg;
	struct pollfd pfd[2] = { { .fd = sr->ctl->listen_fd, .events = POLLIN },
				 { .fd = sr->cancel_efd, .events = POLLIN } };
	if (sc_enter(SC_CONTROL) < 0) {
		vmm_stop(sr->vm, 1, "the control thread's seccomp filter could not be installed");
		return NULL;
	}
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		int fd = accept4(sr->ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		spec_ctl_serve(sr, fd);
		close(fd);
	}
	return NULL;
}

int spec_ctl_start(struct spec_run *sr)
{
	const char *path = sr->opts.control;
	struct spec_control *ctl = calloc(1, sizeof(*ctl));

	if (!ctl)
		return -ENOMEM;
	ctl->listen_fd = -1;
	sr->ctl = ctl;
	unlink(path); /* the runtime gives a fresh path in its own state directory */
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r = ctl->listen_fd < 0 ? -errno : uds_bind(ctl->listen_fd, path);
	if (r == 0 && listen(ctl->listen_fd, 16) < 0)
		r = -errno;
	if (r < 0) {
		log_err("control", "%s: %s", path, strerror(-r));
		return r;
	}
	if (pthread_create(&ctl->thread, NULL, spec_ctl_main, sr) != 0)
		return -EAGAIN;
	ctl->running = true;
	return 0;
}

void spec_ctl_stop(struct spec_run *sr)
{
	struct spec_control *ctl = sr->ctl;
	if (!ctl)
		return;
	if (ctl->running) {
		pthread_mutex_lock(&sr->lock);
		pthread_cond_broadcast(&sr->cond);
		pthread_mutex_unlock(&sr->lock);
		pthread_join(ctl->thread, NULL); /* cancel_efd was signalled */
	}
	if (ctl->listen_fd >= 0) {
		close(ctl->listen_fd);
		unlink(sr->opts.control);
	}
	free(ctl);
	sr->ctl = NULL;
}
