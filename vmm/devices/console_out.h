/*
 * Console output as the host sees it: bytes from a guest console device,
 * written to a host fd a line at a time, with hooks for the first byte and
 * every complete line (where the VMM finds its timing points).
 */
#ifndef HUSK_DEVICES_CONSOLE_OUT_H
#define HUSK_DEVICES_CONSOLE_OUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define CONSOLE_LINE_MAX 512

struct console_hooks {
	void (*first_byte)(void *ctx);
	/* A complete line (or a full buffer), before it is written out. */
	void (*line)(void *ctx, const char *line, size_t len);
};

struct console_out {
	pthread_mutex_t lock;
	int fd;
	const struct console_hooks *hooks;
	void *ctx;
	bool any_byte;
	size_t len;
	char line[CONSOLE_LINE_MAX];
};

void console_out_init(struct console_out *co, int fd, const struct console_hooks *hooks, void *ctx);
void console_out_put(struct console_out *co, const void *data, size_t n);
/* Write out a partial line (at VM exit). */
void console_out_flush(struct console_out *co);
void console_out_destroy(struct console_out *co);

#endif
