/*
 * One VM, from configuration to exit status: the VMM core's whole API.
 * The caller (husk-vmm's main, or the container side) writes the order:
 *
 *   vmm_create -> vmm_start -> [vmm_pause/vmm_resume/vmm_stop from any
 *   thread] -> vmm_wait -> vmm_destroy
 *
 * From vmm_create to vmm_destroy, SIGINT, SIGTERM and SIGHUP end the VM
 * (status 128+N) and SIGWINCH is blocked, in the calling thread and every
 * thread it starts afterwards.
 */
#ifndef HUSK_VMM_VMM_H
#define HUSK_VMM_VMM_H

#include "config.h"
#include "timing.h"

#define VMM_EXIT_GUEST_CRASH 2

/* How long a guest booting to be saved may take to reach its agent. */
#define VMM_SNAPSHOT_READY_MS (300 * 1000)

struct vmm;

/*
 * Build the VM cfg describes (KVM, guest RAM, kernel, devices, vCPUs);
 * nothing runs yet. cfg must outlive the VM. 0, or a negative errno
 * (already logged) with *out NULL.
 */
int vmm_create(struct vmm **out, const struct vmm_config *cfg, struct timing *t);

/* Start the device thread and the vCPUs. */
int vmm_start(struct vmm *m);

/*
 * Wait until the guest agent is ready for a host connection (its line on
 * the console; a restored VM is ready from the start): 0, -ETIMEDOUT, or
 * -ECANCELED if the VM is ending.
 */
int vmm_wait_ready(struct vmm *m, int timeout_ms);

/*
 * Stop the VM for good and write it to dir (include/husk/snapshot.h),
 * made if missing: 0 or a negative errno, logged. vmm_stop() is what may
 * follow. A VM made with cfg->restore_dir set starts from such a dir.
 */
int vmm_save(struct vmm *m, const char *dir);

/*
 * husk-vmm --snapshot: create and start the VM cfg describes, wait for its
 * agent (up to ready_timeout_ms), save it to cfg->snapshot_dir, end it.
 * 0 or a negative errno, logged.
 */
int vmm_snapshot(const struct vmm_config *cfg, int ready_timeout_ms, struct timing *t);

/*
 * The calling (main) thread takes its seccomp filter (vmm/seccomp/), if
 * husk-vmm enabled them: after vmm_start and after every other thread the
 * caller makes, since those would inherit it. From then on it may only wait
 * (vmm_wait), pause, resume, stop and take the VM down. A filter that cannot
 * be installed stops the VM with status 1.
 */
void vmm_seccomp_main(struct vmm *m);

/* Stop every vCPU outside the guest, or let them run on: 0 or negative errno. */
int vmm_pause(struct vmm *m);
int vmm_resume(struct vmm *m);

/* Ask the VM to end with status (the first request wins); any thread. */
void vmm_stop(struct vmm *m, int status, const char *reason);

/* Non-zero once the VM is ending; for loops that must give up then. */
const volatile int *vmm_stopping(const struct vmm *m);

/*
 * Wait until the guest powers off, reboots or crashes, vmm_stop is called
 * or a signal ends the VM; then take the VM down (threads joined, devices
 * and their sockets closed). Returns the status (0, VMM_EXIT_GUEST_CRASH,
 * 128+signal, or vmm_stop's) and, in *reason, why it ended (not logged).
 */
int vmm_wait(struct vmm *m, const char **reason);

/* Release the VM (taking it down first if need be); restores the signal mask. */
void vmm_destroy(struct vmm *m);

/* create, start, wait, destroy: returns the status, or a negative errno. */
int vmm_run(const struct vmm_config *cfg, struct timing *t);

#endif
