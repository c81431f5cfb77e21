/* Starting and stopping virtiofsd (see fs_backend.h). */
#include "devices/fs_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define FSB_DEFAULT   "/usr/lib/qemu/virtiofsd"
#define FSB_LISTEN_FD 3
#define FSB_STOP_MS   2000

static void __attribute__((noreturn)) fsb_child(int lfd, const char *bin, const char *dir)
{
	char source[4200];
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* the VMM blocks some for its signalfd */
	if (dup2(lfd, FSB_LISTEN_FD) < 0)
		_exit(127);
	close_range(FSB_LISTEN_FD + 1, ~0U, 0);
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0 && null != STDIN_FILENO) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	snprintf(source, sizeof(source), "source=%s", dir);
	execl(bin, bin, "--fd=3", "-o", source, "-o", "cache=auto", "-o", "log_level=err",
	      "--rlimit-nofile=0", (char *)NULL);
	fprintf(stderr, "husk-vmm: virtio-fs: cannot run %s: %s\n", bin, strerror(errno));
	_exit(127);
}

int fsb_start(struct fs_backend *b, const char *dir)
{
	const char *bin = getenv("HUSK_VIRTIOFSD") ? getenv("HUSK_VIRTIOFSD") : FSB_DEFAULT;
	struct sockaddr_un sa;
	socklen_t salen = sizeof(sa);
	char abs[PATH_MAX];
	struct stat st;
	int r;

	b->pid = -1;
	if (!realpath(dir, abs) || stat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_err("virtio-fs", "%s: not a directory", dir);
		return -ENOTDIR;
	}
	dir = abs; /* virtiofsd changes its directory before it opens the source */
	if (access(bin, X_OK) < 0) {
		log_err("virtio-fs", "%s: %s (install qemu-system-common, or set HUSK_VIRTIOFSD)",
			bin, strerror(errno));
		return -ENOENT;
	}
	/* Bound with only the family, a socket gets an abstract address of its own. */
	sa_family_t family = AF_UNIX;
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&family, sizeof(family)) < 0 ||
	    listen(lfd, 1) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
		r = -errno;
		log_err("virtio-fs", "listening socket: %s", strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return r;
	}
	pid_t pid = fork();
	if (pid == 0)
		fsb_child(lfd, bin, dir);
	if (pid < 0) {
		r = -errno;
		close(lfd);
		log_err("virtio-fs", "fork: %s", strerror(-r));
		return r;
	}
	b->pid = pid;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	r = fd < 0 || connect(fd, (struct sockaddr *)&sa, salen) < 0 ? -errno : 0;
	close(lfd);
	if (r < 0) {
		log_err("virtio-fs", "connecting to virtiofsd: %s", strerror(-r));
		if (fd >= 0)
			close(fd);
		fsb_stop(b);
		return r;
	}
	return fd;
}

void fsb_stop(struct fs_backend *b)
{
	if (b->pid <= 0)
		return;
	kill(b->pid, SIGTERM); /* the VM is gone: nothing to finish */
	for (int waited = 0; waited < FSB_STOP_MS; waited += 10) {
		if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
			b->pid = -1;
			return;
		}
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	kill(b->pid, SIGKILL);
	waitpid(b->pid, NULL, 0);
	b->pid = -1;
}
