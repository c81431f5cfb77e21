#include "event_loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "seccomp/seccomp.h"

int el_init(struct event_loop *el)
{
	memset(el, 0, sizeof(*el));
	el->stop_fd = -1;
	pthread_mutex_init(&el->lock, NULL);
	el->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (el->epfd < 0) {
		int e = -errno;
		log_err("events", "epoll_create1: %s", strerror(errno));
		return e;
	}
	el->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (el->stop_fd < 0 || epoll_ctl(el->epfd, EPOLL_CTL_ADD, el->stop_fd, &ev) < 0) {
		int e = -errno;
		log_err("events", "cannot set up the stop eventfd: %s", strerror(errno));
		el_destroy(el);
		return e;
	}
	return 0;
}

int el_add(struct event_loop *el, int fd, uint32_t events, el_handler fn, void *ctx)
{
	pthread_mutex_lock(&el->lock);
	struct el_watch *w = NULL;
	for (unsigned i = 0; i < EL_MAX_WATCHES && !w; i++)
		if (!el->watches[i].used)
			w = &el->watches[i];
	if (!w) {
		pthread_mutex_unlock(&el->lock);
		log_err("events", "more than %d watched descriptors", EL_MAX_WATCHES);
		return -ENOSPC;
	}
	*w = (struct el_watch){ .fd = fd, .fn = fn, .ctx = ctx, .used = true };
	struct epoll_event ev = { .events = events, .data.ptr = w };
	int r = 0;
	if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = -errno;
		log_err("events", "cannot watch fd %d: %s", fd, strerror(errno));
		w->used = false;
	}
	pthread_mutex_unlock(&el->lock);
	return r;
}

static struct el_watch *el_find(struct event_loop *el, int fd)
{
	for (unsigned i = 0; i < EL_MAX_WATCHES; i++)
		if (el->watches[i].used && el->watches[i].fd == fd)
			return &el->watches[i];
	return NULL;
}

int el_modify(struct event_loop *el, int fd, uint32_t events)
{
	pthread_mutex_lock(&el->lock);
	struct el_watch *w = el_find(el, fd);
	int r = -ENOENT;
	if (w) {
		struct epoll_event ev = { .events = events, .data.ptr = w };
		r = epoll_ctl(el->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
	}
	pthread_mutex_unlock(&el->lock);
	return r;
}

/*
 * Only from the loop thread itself (or before it starts): a watch removed
 * there cannot be in the middle of its handler.
 */
int el_remove(struct event_loop *el, int fd)
{
	pthread_mutex_lock(&el->lock);
	struct el_watch *w = el_find(el, fd);
	if (w) {
		epoll_ctl(el->epfd, EPOLL_CTL_DEL, fd, NULL);
		w->used = false;
		w->fn = NULL;
	}
	pthread_mutex_unlock(&el->lock);
	return w ? 0 : -ENOENT;
}

static void *el_thread(void *arg)
{
	struct event_loop *el = arg;
	struct epoll_event evs[32];

	/* the devices are set up; a vCPU that fails its own filter ends the VM */
	if (sc_enter(SC_EVENT) < 0)
		return NULL;
	for (;;) {
		int n = epoll_wait(el->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("events", "epoll_wait: %s", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			struct el_watch *w = evs[i].data.ptr;
			if (!w)
				return NULL; /* the stop eventfd */
			if (w->used && w->fn)
				w->fn(w->ctx, evs[i].events);
		}
	}
}

int el_start(struct event_loop *el)
{
	int r = pthread_create(&el->thread, NULL, el_thread, el);
	if (r) {
		log_err("events", "cannot start the event thread: %s", strerror(r));
		return -r;
	}
	el->running = true;
	return 0;
}

void el_stop(struct event_loop *el)
{
	if (el->running) {
		uint64_t one = 1;
		if (write(el->stop_fd, &one, sizeof(one)) < 0)
			log_err("events", "cannot stop the event thread: %s", strerror(errno));
		pthread_join(el->thread, NULL);
		el->running = false;
	}
}

void el_destroy(struct event_loop *el)
{
	el_stop(el);
	if (el->stop_fd >= 0)
		close(el->stop_fd);
	if (el->epfd >= 0)
		close(el->epfd);
	el->stop_fd = el->epfd = -1;
	pthread_mutex_destroy(&el->lock);
}
