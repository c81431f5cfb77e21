/* One VM, from configuration to exit status. */
#ifndef HUSK_VMM_VMM_H
#define HUSK_VMM_VMM_H

#include "config.h"
#include "timing.h"

#define VMM_EXIT_GUEST_CRASH 2

/*
 * Build the VM described by cfg, run it until the guest powers off, reboots
 * or crashes, or husk-vmm is asked to stop by a signal. Returns the exit
 * status (0, VMM_EXIT_GUEST_CRASH, 128+signal) or a negative errno if the VM
 * could not be built (already logged).
 */
int vmm_run(const struct vmm_config *cfg, struct timing *t);

#endif
