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
#include "husk/line_io.h"
#include "husk/uds.h"
#include "log.h"

#define CTL_LINE_MAX 128
#define CTL_READ_MS 2000
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
	if (sr->cfg.ready_fd < 0)
		return;
	char line[HUSK_ERR_MSG_MAX + 16];
	int n = e ? snprintf(line, sizeof(line), "error %s\n", e->msg) :
		    snprintf(line, sizeof(line), "ready\n");
	if (write(sr->cfg.ready_fd, line, (size_t)n) < 0) {
		/* the runtime went away: it will find the state by itself */
	}
	close(sr->cfg.ready_fd);
	sr->cfg.ready_fd = -1;
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

/* "start": ask the runner and wait for what START said. */
static void spec_ctl_do_start(struct spec_run *sr, char *reply, size_t len)
{
	pthread_mutex_lock(&sr->lock);
	if (sr->state != SPEC_CREATED || sr->start_requested || sr->paused) {
		snprintf(reply, len, "error %s\n", spec_ctl_start_refusal(sr));
		pthread_mutex_unlock(&sr->lock);
		return;
	}
	sr->start_requested = true;
	pthread_cond_broadcast(&sr->cond);
	while (!sr->start_done && !*sr->stopping)
		pthread_cond_wait(&sr->cond, &sr->lock);
	if (sr->start_done && sr->start_result == 0)
		snprintf(reply, len, "ok\n");
	else
		snprintf(reply, len, "error %s\n",
			 sr->start_done ? sr->start_error : "the VM ended");
	pthread_mutex_unlock(&sr->lock);
}

/* "pause" / "resume": the vCPUs stop outside the guest, or run on. */
static void spec_ctl_do_pause(struct spec_run *sr, bool pause, char *reply, size_t len)
{
	pthread_mutex_lock(&sr->lock);
	enum spec_state st = sr->state;
	bool paused = sr->paused;
	pthread_mutex_unlock(&sr->lock);
	/* runc's words: only what runs pauses, only what is paused resumes */
	if (pause && (paused || (st != SPEC_CREATED && st != SPEC_RUNNING))) {
		snprintf(reply, len, "error " HUSK_ERR_NOT_RUNNING "\n");
		return;
	}
	if (!pause && (!paused || (st != SPEC_CREATED && st != SPEC_RUNNING))) {
		snprintf(reply, len, "error " HUSK_ERR_NOT_PAUSED "\n");
		return;
	}
	int r = pause ? vmm_pause(sr->vm) : vmm_resume(sr->vm);
	if (r < 0) {
		snprintf(reply, len, "error %s: %s\n", pause ? "pause" : "resume", strerror(-r));
		return;
	}
	pthread_mutex_lock(&sr->lock);
	sr->paused = pause;
	pthread_mutex_unlock(&sr->lock);
	snprintf(reply, len, "ok\n");
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

static void spec_ctl_do_kill(struct spec_run *sr, const char *args, char *reply, size_t len)
{
	int sig = 0, all = 0;
	struct husk_err e = { 0 };
	struct ac_conn c = { .fd = -1 };

	if (sscanf(args, "%d %d", &sig, &all) != 2 || sig < 1 || sig > 64) {
		snprintf(reply, len, "error kill: a signal number and 0 or 1\n");
		return;
	}
	pthread_mutex_lock(&sr->lock);
	enum spec_state st = sr->state;
	bool paused = sr->paused;
	pthread_mutex_unlock(&sr->lock);
	if (st == SPEC_BOOTING) {
		snprintf(reply, len, "error the container is %s\n", spec_state_names[st]);
		return;
	}
	/*
	 * The workload has ended, the VM may still be on its way down: runc's
	 * words, which containerd takes as "already finished" (any other
	 * failure of a kill it retries for minutes).
	 */
	if (st == SPEC_STOPPED) {
		snprintf(reply, len, "error " HUSK_ERR_NOT_RUNNING "\n");
		return;
	}
	if (paused && sig == SIGKILL) {
		/* nothing runs in a paused guest: the VM ends, as its processes would */
		vmm_stop(sr->vm, 128 + SIGKILL, "killed while paused");
		snprintf(reply, len, "ok\n");
		return;
	}
	if (paused) {
		snprintf(reply, len, "error the container is paused: resume it first\n");
		return;
	}
	if (ac_open(&c, sr->uds, CTL_AGENT_MS, sr->stopping, NULL, 0, &e) == 0 &&
	    ac_call(&c, PROTO_SIGNAL,
		    json_pack("{s:s,s:i,s:b}", "id", sr->cfg.container_id, "signal", sig, "all", all),
		    NULL, &e) == 0)
		snprintf(reply, len, "ok\n");
	else if (spec_ctl_ended(sr, &e))
		snprintf(reply, len, "error " HUSK_ERR_NOT_RUNNING "\n");
	else
		snprintf(reply, len, "error %s\n", e.msg);
	ac_close(&c);
}

static void spec_ctl_serve(struct spec_run *sr, int fd)
{
	char line[CTL_LINE_MAX], reply[HUSK_ERR_MSG_MAX + 16];

	line_read(fd, line, sizeof(line), CTL_READ_MS);
	if (!strcmp(line, "start")) {
		spec_ctl_do_start(sr, reply, sizeof(reply));
	} else if (!strncmp(line, "kill ", 5)) {
		spec_ctl_do_kill(sr, line + 5, reply, sizeof(reply));
	} else if (!strcmp(line, "pause") || !strcmp(line, "resume")) {
		spec_ctl_do_pause(sr, !strcmp(line, "pause"), reply, sizeof(reply));
	} else if (!strcmp(line, "state")) {
		pthread_mutex_lock(&sr->lock);
		snprintf(reply, sizeof(reply), "%s\n",
			 sr->paused && sr->state != SPEC_STOPPED ? "paused" :
								   spec_state_names[sr->state]);
		pthread_mutex_unlock(&sr->lock);
	} else {
		snprintf(reply, sizeof(reply), "error unknown request \"%.40s\"\n", line);
	}
	if (send(fd, reply, strlen(reply), MSG_NOSIGNAL) < 0) {
		/* the client left */
	}
}

static void *spec_ctl_main(void *arg)
{
	struct spec_run *sr = arg;
	struct pollfd pfd[2] = { { .fd = sr->ctl->listen_fd, .events = POLLIN },
				 { .fd = sr->cancel_efd, .events = POLLIN } };
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
	const char *path = sr->cfg.control;
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
		unlink(sr->cfg.control);
	}
	free(ctl);
	sr->ctl = NULL;
}
