/*
 * A device module: one device kind's command-line options, their --help
 * lines and the creation of its devices, all in the device's own file (as
 * a Solo5 tender module). Adding a kind is that file, its typed settings in
 * struct vmm_config, and one line in device_modules.c.
 *
 * config_parse() offers every module's options in the same getopt pass as
 * the VM's and prints their usage in table order; vmm_create() calls each
 * module's add() in table order, which is also the order of the devices'
 * MMIO windows and IRQs.
 */
#ifndef HUSK_DEVICES_DEVICE_MODULE_H
#define HUSK_DEVICES_DEVICE_MODULE_H

#include <stdio.h>

#include "config.h"

struct option; /* <getopt.h> */
struct devmgr;
struct event_loop;
struct guest_mem;

/* Option values a module may use: 0 .. DEVICE_MODULE_MAX_OPTS - 1. */
#define DEVICE_MODULE_MAX_OPTS 16

/* What a module's devices are created with. */
struct device_env {
	struct devmgr *dm;
	struct event_loop *el;
	const struct guest_mem *mem;
};

struct device_module {
	const char *name;
	const struct option *opts; /* ends with a zeroed entry; val < DEVICE_MODULE_MAX_OPTS */
	const char *usage;	   /* its lines of husk-vmm --help */
	/* Before argv is read: the settings' defaults in c. NULL: all zero. */
	void (*defaults)(struct vmm_config *c);
	/* One of opts with its value (NULL if none); -EINVAL (logged) on bad input. */
	int (*parse)(struct vmm_config *c, int val, const char *arg);
	/*
	 * Create the devices c asks for and add them to env->dm; *state is the
	 * module's own (NULL at first), kept even when add() fails, so that
	 * stop and destroy undo what was done. Negative errno, logged.
	 */
	int (*add)(const struct vmm_config *c, const struct device_env *env, void **state);
	/* Once the event loop has stopped, before the transports go. May be NULL. */
	void (*stop)(void *state);
	/* After the transports went: release everything. May be NULL. */
	void (*destroy)(void *state);
};

/* The registered modules (device_modules.c), NULL-terminated. */
#define DEVICE_MODULES_MAX 8
extern const struct device_module *const device_modules[DEVICE_MODULES_MAX + 1];

#endif
