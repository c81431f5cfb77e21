/*
 * The PC's own devices, on port I/O: the 8250 UART at COM1 (IRQ 4; the
 * early console, or the console with --console-device serial) and the
 * keyboard controller, whose reset command (reboot=k) ends the VM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "arch/x86_64/i8042.h"
#include "devices/serial.h"
#include "kvm/kvm.h"
#include "log.h"

#define PLATFORM_COM1_BASE 0x3f8
#define PLATFORM_COM1_IRQ  4

struct arch_platform {
	struct arch_platform_env env;
	struct serial serial;
	struct i8042 i8042;
};

static void platform_serial_irq(void *ctx, int level)
{
	struct arch_platform *p = ctx;
	vm_irq_line(p->env.vm, PLATFORM_COM1_IRQ, level);
}

static void platform_first_byte(void *ctx)
{
	struct arch_platform *p = ctx;
	if (p->env.console && p->env.console->first_byte)
		p->env.console->first_byte(p->env.ctx);
}

static void platform_line(void *ctx, const char *line, size_t len)
{
	struct arch_platform *p = ctx;
	if (p->env.console && p->env.console->line)
		p->env.console->line(p->env.ctx, line, len);
}

static const struct serial_hooks platform_serial_hooks = {
	.irq = platform_serial_irq,
	.first_byte = platform_first_byte,
	.line = platform_line,
};

static void platform_reset(void *ctx)
{
	struct arch_platform *p = ctx;
	if (p->env.reset)
		p->env.reset(p->env.ctx);
}

int arch_platform_create(struct arch_platform **out, const struct arch_platform_env *env)
{
	struct arch_platform *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->env = *env;
	serial_init(&p->serial, env->console_fd, &platform_serial_hooks, p);
	p->i8042 = (struct i8042){ .reset = platform_reset, .ctx = p };
	*out = p;
	int r = iobus_register(env->io, PLATFORM_COM1_BASE, SERIAL_PORTS, &serial_io_ops,
			       &p->serial);
	if (!r)
		r = iobus_register(env->io, I8042_BASE, I8042_PORTS, &i8042_io_ops, &p->i8042);
	if (r < 0)
		log_err("devices", "cannot register port I/O: %s", strerror(-r));
	return r;
}

void arch_platform_destroy(struct arch_platform *p)
{
	if (!p)
		return;
	serial_destroy(&p->serial);
	free(p);
}

int arch_platform_save(struct arch_platform *p, void **blob, size_t *len)
{
	return serial_save(&p->serial, blob, len);
}

int arch_platform_restore(struct arch_platform *p, const void *blob, size_t len)
{
	return serial_restore(&p->serial, blob, len);
}
