/*
 * One thread that waits on file descriptors (queue-notify ioeventfds, host
 * sockets) and runs their handlers, so that device work happens outside
 * the vCPU threads.
 */
#ifndef HUSK_VMM_EVENT_LOOP_H
#define HUSK_VMM_EVENT_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef void (*el_handler)(void *ctx, uint32_t events);

#define EL_MAX_WATCHES 256

struct el_watch {
	int fd;
	el_handler fn;
	void *ctx;
	bool used;
};

struct event_loop {
	int epfd;
	int stop_fd;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	struct el_watch watches[EL_MAX_WATCHES];
};

int el_init(struct event_loop *el);
/* Watch fd for events (EPOLLIN, EPOLLOUT...); fn runs on the loop thread. */
int el_add(struct event_loop *el, int fd, uint32_t events, el_handler fn, void *ctx);
int el_modify(struct event_loop *el, int fd, uint32_t events);
int el_remove(struct event_loop *el, int fd);
int el_start(struct event_loop *el);
/* Stop and join the thread (if started); watches can still be removed. */
void el_stop(struct event_loop *el);
/* Stop, then free everything. */
void el_destroy(struct event_loop *el);

#endif
