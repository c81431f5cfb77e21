/* Running a container's OCI hooks on the host (see hooks.h). */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "husk/cleanup.h"
#include "husk/path.h"

#define HOOKS_OUTPUT_MAX 1024 /* of a hook's stdout and stderr, kept for the message */
#define HOOKS_POLL_MS	 20   /* when pidfd_open is missing: how often to look */

extern char **environ;

static long long hooks_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The state, in a file of its own: the hook reads it at its pace, or not at all. */
static int hooks_stdin(const char *state, struct husk_err *e)
{
	int fd = memfd_create("husk-hook-state", MFD_CLOEXEC);
	size_t len = strlen(state), off = 0;

	if (fd < 0)
		return husk_err_set(e, errno, "memfd_create: %s", strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, state + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;
			close(fd);
			return husk_err_set(e, err, "the hook's stdin: %s", strerror(err));
		}
		off += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int err = errno;
		close(fd);
		return husk_err_set(e, err, "the hook's stdin: %s", strerror(err));
	}
	return fd;
}

/* The hook's process, between fork and exec: only async-signal-safe calls. */
static void hooks_child(const struct spec_hook *h, int in, int out, int report, int netns_fd)
{
	sigset_t none;
	int err;

	if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
		goto fail;
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		goto fail;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execve(h->path, h->args, h->env ? h->env : environ);
fail:
	err = errno;
	(void)!write(report, &err, sizeof(err));
	_exit(127);
}

/* Keep the start of what the hook writes, drop the rest; false at EOF or error. */
static bool hooks_drain(int fd, char *buf, size_t *len)
{
	char tmp[4096];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN;
		if (n == 0)
			return false;
		size_t take = (size_t)n;
		if (take > HOOKS_OUTPUT_MAX - *len)
			take = HOOKS_OUTPUT_MAX - *len;
		memcpy(buf + *len, tmp, take);
		*len += take;
	}
}

/*
 * Wait for the hook's end (status in *status), reading its output as it
 * comes; past the deadline (timeout_ms > 0) it is killed: -ETIMEDOUT.
 */
static int hooks_wait(pid_t pid, int out, int timeout_ms, char *buf, size_t *len, int *status)
{
	long long deadline = timeout_ms > 0 ? hooks_now_ms() + timeout_ms : 0;
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool open = true;

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		int wait_ms = -1;
		if (deadline) {
			long long left = deadline - hooks_now_ms();
			if (left <= 0) {
				kill(pid, SIGKILL);
				waitpid(pid, status, 0);
				return -ETIMEDOUT;
			}
			wait_ms = (int)left;
		}
		if (pidfd < 0 && (wait_ms < 0 || wait_ms > HOOKS_POLL_MS))
			wait_ms = HOOKS_POLL_MS;
		struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN },
				       { .fd = open ? out : -1, .events = POLLIN } };
		if (poll(p, 2, wait_ms) > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			open = hooks_drain(out, buf, len);
	}
	/* what it wrote before it ended; a child of its own may hold the pipe still */
	if (open)
		hooks_drain(out, buf, len);
	return 0;
}

/* The kept output as one line: newlines to spaces, none at the end. */
static const char *hooks_output_line(char *buf, size_t len)
{
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\0')
			buf[i] = ' ';
	return buf;
}

int hooks_run_one(const struct spec_hook *h, enum spec_hook_kind kind, size_t n, const char *state,
		  int netns_fd, struct husk_err *e)
{
	const char *name = spec_hook_name(kind);
	char buf[HOOKS_OUTPUT_MAX + 1];
	size_t len = 0;
	int out[2] = { -1, -1 }, report[2] = { -1, -1 }, status = 0, err = 0;

	cleanup_close int in = hooks_stdin(state, e);
	if (in < 0)
		return husk_err_wrap(e, "%s hook #%zu (%s)", name, n, h->path);
	if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(report, O_CLOEXEC) < 0) {
		err = errno;
		goto fail_pipes;
	}
	pid_t pid = fork();
	if (pid == 0)
		hooks_child(h, in, out[1], report[1], netns_fd);
	if (pid < 0) {
		err = errno;
		goto fail_pipes;
	}
	close(out[1]);
	close(report[1]);
	/* the report pipe closes at exec; an errno on it means there was none */
	ssize_t got;
	while ((got = read(report[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(report[0]);
	if (got == (ssize_t)sizeof(err)) {
		waitpid(pid, NULL, 0);
		close(out[0]);
		return husk_err_set(e, err, "%s hook #%zu (%s): %s", name, n, h->path,
				    strerror(err));
	}
	int r = hooks_wait(pid, out[0], h->timeout > 0 ? h->timeout * 1000 : 0, buf, &len, &status);
	close(out[0]);
	const char *output = hooks_output_line(buf, len);
	if (r == -ETIMEDOUT)
		return husk_err_set(e, ETIMEDOUT,
				    "%s hook #%zu (%s): killed after its timeout of %d s%s%s", name,
				    n, h->path, h->timeout, *output ? ": " : "", output);
	if (r < 0)
		return husk_err_set(e, -r, "%s hook #%zu (%s): waitpid: %s", name, n, h->path,
				    strerror(-r));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return husk_err_set(e, EIO, "%s hook #%zu (%s): exit status %d%s%s", name, n,
				    h->path, WEXITSTATUS(status), *output ? ": " : "", output);
	return husk_err_set(e, EIO, "%s hook #%zu (%s): killed by signal %d%s%s", name, n, h->path,
			    WTERMSIG(status), *output ? ": " : "", output);
fail_pipes:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (report[i] >= 0)
			close(report[i]);
	}
	return husk_err_set(e, err, "%s hook #%zu (%s): %s", name, n, h->path, strerror(err));
}

int hooks_run(const struct spec_hooks *h, enum spec_hook_kind kind, const char *state,
	      pid_t vmm_pid, struct husk_err *e)
{
	cleanup_close int netns = -1;

	if (!h || kind >= SPEC_HOOK_KINDS || !h->n[kind])
		return 0;
	if ((kind == SPEC_HOOK_CREATE_CONTAINER || kind == SPEC_HOOK_START_CONTAINER) &&
	    vmm_pid > 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)vmm_pid);
		if ((netns = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return husk_err_set(e, errno,
					    "%s hooks: the container's network namespace %s: %s",
					    spec_hook_name(kind), path, strerror(errno));
	}
	for (size_t i = 0; i < h->n[kind]; i++) {
		int r = hooks_run_one(&h->list[kind][i], kind, i, state, netns, e);
		if (r < 0)
			return r;
	}
	return 0;
}

int hooks_save(const char *dir, const json_t *hooks, struct husk_err *e)
{
	char path[PATH_MAX];

	if (!hooks || !json_object_size(hooks))
		return 0;
	if (path_fmt(e, path, sizeof(path), "%s/hooks.json", dir) < 0)
		return husk_err_wrap(e, "hooks");
	if (json_dump_file(hooks, path, JSON_COMPACT) < 0)
		return husk_err_set(e, EIO, "cannot write %s", path);
	return 0;
}

int hooks_load(const char *dir, struct spec_hooks *out, struct husk_err *e)
{
	char path[PATH_MAX];
	json_error_t jerr;

	memset(out, 0, sizeof(*out));
	if (path_fmt(e, path, sizeof(path), "%s/hooks.json", dir) < 0)
		return husk_err_wrap(e, "hooks");
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return access(path, F_OK) < 0 && errno == ENOENT ?
			       0 :
			       husk_err_set(e, EIO, "%s: %s", path, jerr.text);
	int r = spec_hooks_parse(j, out, e);
	json_decref(j);
	return r < 0 ? husk_err_wrap(e, "%s", path) : 0;
}
