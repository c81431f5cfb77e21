/*
 * husk ps: the processes of a container. They live in its guest, where the
 * host cannot see them: the table lists them as the guest numbers them
 * (with their command lines, from the agent); as JSON, the host PIDs that
 * stand for them, which is husk-vmm's (the one host process that holds the
 * whole container), so that engines that look the PIDs up on the host
 * (docker top) find the VM. A stopped container lists nothing, as with
 * runc. Failures are reported through g and returned as a negative errno.
 */
#ifndef HUSK_RUNTIME_PS_H
#define HUSK_RUNTIME_PS_H

#include <stdbool.h>
#include <stdio.h>

#include "state.h"

/* The list, written to out: a table, or a JSON array when json. */
int husk_ps(const struct husk_global *g, const char *id, bool json, FILE *out);

#endif
