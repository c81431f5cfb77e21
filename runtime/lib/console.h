/*
 * Terminals on the host, as runc makes them: a pty whose master goes to the
 * engine over --console-socket (SCM_RIGHTS, with the slave's name as the
 * message) and whose slave becomes the stdio of the process that relays it
 * to the guest; raw, so that the guest's line discipline is the only one.
 */
#ifndef HUSK_RUNTIME_CONSOLE_H
#define HUSK_RUNTIME_CONSOLE_H

#include <stdint.h>
#include <termios.h>

#include "husk/error.h"

struct console_pty {
	int master, slave; /* both close-on-exec; -1 when closed */
	char name[64];	   /* the slave's path, "/dev/pts/N" */
};

/* A raw pty pair, of rows x cols when both are non-zero. */
int console_pty_open(struct console_pty *p, uint16_t rows, uint16_t cols, struct husk_err *e);
void console_pty_close(struct console_pty *p);

/* Send fd over a connected Unix socket with SCM_RIGHTS, `name` as the data. */
int console_send_fd(int sock, int fd, const char *name, struct husk_err *e);
/* Connect to the socket at path and send fd there. */
int console_send(const char *path, int fd, const char *name, struct husk_err *e);

/*
 * Make tty the caller's controlling terminal in a session of its own, so
 * that a resize of its master brings SIGWINCH (after fork, in the child).
 */
int console_make_ctty(int tty);

/* Set fd (a terminal) raw, keeping the old settings in *saved. */
int console_raw(int fd, struct termios *saved);

#endif
