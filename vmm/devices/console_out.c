#include "devices/console_out.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void console_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the reader went away: the guest's output is dropped */
		p += w;
		n -= (size_t)w;
	}
}

static void console_flush_locked(struct console_out *co)
{
	if (!co->len)
		return;
	if (co->hooks && co->hooks->line)
		co->hooks->line(co->ctx, co->line, co->len);
	console_write_all(co->fd, co->line, co->len);
	co->len = 0;
}

void console_out_init(struct console_out *co, int fd, const struct console_hooks *hooks, void *ctx)
{
	memset(co, 0, sizeof(*co));
	pthread_mutex_init(&co->lock, NULL);
	co->fd = fd;
	co->hooks = hooks;
	co->ctx = ctx;
}

void console_out_put(struct console_out *co, const void *data, size_t n)
{
	const char *p = data;

	if (!n)
		return;
	pthread_mutex_lock(&co->lock);
	if (!co->any_byte) {
		co->any_byte = true;
		if (co->hooks && co->hooks->first_byte)
			co->hooks->first_byte(co->ctx);
	}
	for (size_t i = 0; i < n; i++) {
		co->line[co->len++] = p[i];
		if (p[i] == '\n' || co->len == sizeof(co->line))
			console_flush_locked(co);
	}
	pthread_mutex_unlock(&co->lock);
}

void console_out_flush(struct console_out *co)
{
	pthread_mutex_lock(&co->lock);
	console_flush_locked(co);
	pthread_mutex_unlock(&co->lock);
}

void console_out_destroy(struct console_out *co)
{
	console_out_flush(co);
	pthread_mutex_destroy(&co->lock);
}
