/* The process's own setup: terminal, limits, identity, privileges, program (see setup.h). */
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <linux/capability.h>

#include "husk/fd_pass.h"
#include "husk/path.h"

#define SETUP_DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SETUP_LAST_CAP_FALLBACK 40 /* CAP_CHECKPOINT_RESTORE */

int setup_terminal(int sock, const struct spec_process *p, struct husk_err *e)
{
	char name[64];
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return husk_err_set(e, errno, "terminal: /dev/ptmx: %s", strerror(errno));
	if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0) {
		int err = errno;
		close(master);
		return husk_err_set(e, err, "terminal: %s", strerror(err));
	}
	int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		int err = errno;
		close(master);
		return husk_err_set(e, err, "terminal: %s: %s", name, strerror(err));
	}
	if (p->rows && p->cols) {
		struct winsize ws = { .ws_row = p->rows, .ws_col = p->cols };
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	int r = fd_pass_send(sock, master, "T", 1);
	close(master);
	if (r < 0) {
		close(slave);
		return husk_err_set(e, -r, "terminal: passing it to the agent: %s", strerror(-r));
	}
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) {
		int err = errno;
		close(slave);
		return husk_err_set(e, err, "terminal: making it the controlling one: %s",
				    strerror(err));
	}
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0) {
			int err = errno;
			close(slave);
			return husk_err_set(e, err, "terminal: dup2: %s", strerror(err));
		}
	if (slave > 2)
		close(slave);
	/*
	 * The container's console: setup_rootfs leaves an empty file there for
	 * a first process with a terminal. An exec finds the device bound by
	 * then (or nothing) and leaves it alone. Best effort, as in runc.
	 */
	struct stat st;
	if (lstat("/dev/console", &st) == 0 && S_ISREG(st.st_mode))
		mount(name, "/dev/console", NULL, MS_BIND, NULL);
	return 0;
}

/* --- capabilities ---------------------------------------------------------------- */

/* Read once (setup_init, in the agent), so not again in every process it makes. */
static int setup_cap_last = -1;

static int setup_last_cap(void)
{
	if (setup_cap_last >= 0)
		return setup_cap_last;
	int last = SETUP_LAST_CAP_FALLBACK;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = SETUP_LAST_CAP_FALLBACK;
		fclose(f);
	}
	return setup_cap_last = last;
}

void setup_init(void)
{
	setup_last_cap();
}

static int setup_capset(const struct spec_caps *c)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {
		{ (uint32_t)c->effective, (uint32_t)c->permitted, (uint32_t)c->inheritable },
		{ (uint32_t)(c->effective >> 32), (uint32_t)(c->permitted >> 32),
		  (uint32_t)(c->inheritable >> 32) },
	};
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

static int setup_bounding(const struct spec_caps *c, int last, struct husk_err *e)
{
	for (int cap = 0; cap <= last; cap++)
		if (!(c->bounding & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return husk_err_set(e, errno, "dropping capability %d: %s", cap,
					    strerror(errno));
	return 0;
}

static int setup_ambient(const struct spec_caps *c, int last, struct husk_err *e)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return husk_err_set(e, errno, "clearing ambient capabilities: %s", strerror(errno));
	for (int cap = 0; cap <= last; cap++)
		if ((c->ambient & (1ULL << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return husk_err_set(e, errno, "ambient capability %d: %s", cap,
					    strerror(errno));
	return 0;
}

/* --- the process ------------------------------------------------------------------- */

int setup_process(const struct spec_process *p, struct husk_err *e)
{
	static const struct spec_caps none = { 0 };
	const struct spec_caps *caps = p->has_caps ? &p->caps : &none;
	int last = setup_last_cap(), r;

	for (size_t i = 0; i < p->nrlimits; i++) {
		struct rlimit rl = { p->rlimits[i].soft, p->rlimits[i].hard };
		int res = p->rlimits[i].resource;
		if (setrlimit(res, &rl) < 0)
			return husk_err_set(e, errno, "%s: %s", spec_rlimit_name(res),
					    strerror(errno));
	}
	if (p->has_oom_score_adj) {
		char v[16];
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		int n = snprintf(v, sizeof(v), "%d", p->oom_score_adj);
		if (fd < 0 || write(fd, v, (size_t)n) != n) {
			int err = errno;
			if (fd >= 0)
				close(fd);
			return husk_err_set(e, err, "oomScoreAdj: %s", strerror(err));
		}
		close(fd);
	}
	if (p->user.has_umask)
		umask((mode_t)p->user.umask);

	/* bounding set first: dropping needs CAP_SETPCAP, which a new uid loses */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || (r = setup_bounding(caps, last, e)) < 0)
		return e->code ? -e->code : husk_err_set(e, errno, "keepcaps: %s", strerror(errno));
	if (setgroups(p->user.ngroups, p->user.groups) < 0)
		return husk_err_set(e, errno, "setgroups: %s", strerror(errno));
	if (setresgid(p->user.gid, p->user.gid, p->user.gid) < 0)
		return husk_err_set(e, errno, "setgid %u: %s", p->user.gid, strerror(errno));
	if (setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
		return husk_err_set(e, errno, "setuid %u: %s", p->user.uid, strerror(errno));
	if ((r = setup_capset(caps)) < 0)
		return husk_err_set(e, -r, "capabilities: %s", strerror(-r));
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return husk_err_set(e, errno, "keepcaps: %s", strerror(errno));
	if ((r = setup_ambient(caps, last, e)) < 0)
		return r;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return husk_err_set(e, errno, "noNewPrivileges: %s", strerror(errno));
	if (chdir(p->cwd ? p->cwd : "/") < 0)
		return husk_err_set(e, errno, "cwd %s: %s", p->cwd ? p->cwd : "/", strerror(errno));
	return 0;
}

/* 0 if path is an executable regular file, else a negative errno. */
static int setup_executable(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	return access(path, X_OK) < 0 ? -errno : 0;
}

int setup_find_program(const struct spec_process *p, char *out, size_t outlen, struct husk_err *e)
{
	const char *prog = p->args[0];
	int r;

	if (strchr(prog, '/')) {
		if ((r = setup_executable(prog)) < 0)
			return husk_err_set(e, -r, "exec: \"%s\": %s", prog,
					    r == -ENOENT ? "no such file or directory" :
					    r == -EACCES ? "permission denied" :
							   strerror(-r));
		return path_fmt(e, out, outlen, "%s", prog);
	}
	const char *path = spec_env_get(p->env, "PATH");
	if (!path)
		path = SETUP_DEFAULT_PATH;
	bool denied = false;
	for (const char *d = path;; d += strcspn(d, ":") + 1) {
		size_t n = strcspn(d, ":");
		char cand[PATH_MAX];
		if (snprintf(cand, sizeof(cand), "%.*s/%s", (int)(n ? n : 1), n ? d : ".", prog) <
		    (int)sizeof(cand)) {
			r = setup_executable(cand);
			if (r == 0) {
				return path_fmt(e, out, outlen, "%s", cand);
			}
			denied |= r == -EACCES;
		}
		if (d[n] == '\0')
			break;
	}
	if (denied)
		return husk_err_set(e, EACCES, "exec: \"%s\": permission denied", prog);
	return husk_err_set(e, ENOENT, "exec: \"%s\": executable file not found in $PATH", prog);
}
