/* Host terminals and the console socket (see console.h). */
#include "console.h"
#include "husk/fd_pass.h"
#include "husk/uds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int console_raw(int fd, struct termios *saved)
{
	struct termios t;
	if (tcgetattr(fd, &t) < 0)
		return -errno;
	if (saved)
		*saved = t;
	cfmakeraw(&t);
	return tcsetattr(fd, TCSANOW, &t) < 0 ? -errno : 0;
}

int console_pty_open(struct console_pty *p, uint16_t rows, uint16_t cols, struct husk_err *e)
{
	p->master = p->slave = -1;
	p->name[0] = '\0';
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->master < 0)
		return husk_err_set(e, errno, "terminal: /dev/ptmx: %s", strerror(errno));
	if (grantpt(p->master) < 0 || unlockpt(p->master) < 0 ||
	    ptsname_r(p->master, p->name, sizeof(p->name)) != 0) {
		int err = errno;
		console_pty_close(p);
		return husk_err_set(e, err, "terminal: %s", strerror(err));
	}
	p->slave = open(p->name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0) {
		int err = errno;
		console_pty_close(p);
		return husk_err_set(e, err, "terminal: %s: %s", p->name, strerror(err));
	}
	int r = console_raw(p->slave, NULL);
	if (r < 0) {
		console_pty_close(p);
		return husk_err_set(e, -r, "terminal: raw mode: %s", strerror(-r));
	}
	if (rows && cols) {
		struct winsize ws = { .ws_row = rows, .ws_col = cols };
		ioctl(p->master, TIOCSWINSZ, &ws);
	}
	return 0;
}

void console_pty_close(struct console_pty *p)
{
	if (p->master >= 0)
		close(p->master);
	if (p->slave >= 0)
		close(p->slave);
	p->master = p->slave = -1;
}

int console_send_fd(int sock, int fd, const char *name, struct husk_err *e)
{
	if (!name[0])
		return husk_err_set(e, EINVAL, "console socket: an empty name");
	int r = fd_pass_send(sock, fd, name, strlen(name));
	if (r < 0)
		return husk_err_set(e, -r, "console socket: sending the terminal: %s",
				    strerror(-r));
	return 0;
}

int console_send(const char *path, int fd, const char *name, struct husk_err *e)
{
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return husk_err_set(e, errno, "console socket: %s", strerror(errno));
	int r = uds_connect(sock, path);
	if (r < 0) {
		close(sock);
		return husk_err_set(e, -r, "console socket %s: %s", path, strerror(-r));
	}
	r = console_send_fd(sock, fd, name, e);
	close(sock);
	return r < 0 ? husk_err_wrap(e, "%s", path) : 0;
}

int console_make_ctty(int tty)
{
	if (setsid() < 0 || ioctl(tty, TIOCSCTTY, 0) < 0)
		return -errno;
	return 0;
}
