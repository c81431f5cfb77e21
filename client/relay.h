/*
 * The host's relays to a process in the guest, for husk-vmm --spec and
 * husk exec: byte pipes between a local fd and a stream connection, and a
 * thread that turns signals into the agent's RESIZE (SIGWINCH, from the
 * terminal's size) and SIGNAL (any other) requests. The signals must be
 * blocked in every thread of the process before any of them starts.
 */
#ifndef HUSK_CLIENT_RELAY_H
#define HUSK_CLIENT_RELAY_H

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "husk/error.h"

struct relay_pipe {
	int from, to;
	int cancel_efd; /* readable: stop (-1: run to the end of input) */
	bool shut_to;	/* shut `to` down for writing at the end (a stream) */
	pthread_t thread;
	bool running;
};

/*
 * Copy from -> to until the end of `from`. Once `to` fails (a reader that
 * went away) the rest is read and dropped, so the writer on the other side
 * never stalls on it.
 */
int relay_pipe_start(struct relay_pipe *p, int from, int to, int cancel_efd, bool shut_to);
/* Join, giving the relay `ms` to reach the end of its input (then it is cut). */
void relay_pipe_join(struct relay_pipe *p, int ms);

struct relay_signals {
	int sigfd, cancel_efd, tty;
	char uds[PATH_MAX + 32]; /* as long as exec's */
	char cid[65], eid[65];
	pthread_t thread;
	bool running;
};

/*
 * Serve `set` for process (cid, eid) of the guest behind uds, over a control
 * connection of its own. With tty >= 0 its size is sent at once and after
 * every SIGWINCH. Stops when cancel_efd becomes readable.
 */
int relay_signals_start(struct relay_signals *s, const sigset_t *set, int tty, const char *uds,
			const char *cid, const char *eid, int cancel_efd, struct husk_err *e);
void relay_signals_join(struct relay_signals *s);

#endif
