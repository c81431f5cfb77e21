/*
 * A 16550A UART, transmit side: what the guest writes goes to a host fd a
 * line at a time. Its port range and interrupt line are the platform's
 * (vmm/arch/<arch>/platform.c). Registers the guest writes are masked to their width; no
 * value it writes can make the device misbehave.
 */
#ifndef HUSK_DEVICES_SERIAL_H
#define HUSK_DEVICES_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/console_out.h"
#include "devices/iobus.h"

#define SERIAL_PORTS	8
#define SERIAL_LINE_MAX CONSOLE_LINE_MAX

struct serial_hooks {
	void (*irq)(void *ctx, int level);
	void (*first_byte)(void *ctx);
	/* A complete output line (or a full buffer), before it is written out. */
	void (*line)(void *ctx, const char *line, size_t len);
};

struct serial {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;
	int irq_level;
	const struct serial_hooks *hooks;
	void *ctx;
	struct console_hooks out_hooks;
	struct console_out out;
};

extern const struct io_device_ops serial_io_ops;

void serial_init(struct serial *s, int out_fd, const struct serial_hooks *hooks, void *ctx);
/* Write out what is buffered (at VM exit). */
void serial_flush(struct serial *s);
void serial_destroy(struct serial *s);

/*
 * Snapshots: the registers and the interrupt line as a malloc'd blob.
 * restore: into a UART just set up, before any vCPU runs; the blob is
 * checked (magic, version, length, register widths: -EINVAL, logged, s
 * untouched) and the interrupt line is set again through the irq hook.
 * Output not yet written out is not part of it.
 */
int serial_save(struct serial *s, void **blob, size_t *len);
int serial_restore(struct serial *s, const void *blob, size_t len);

#endif
