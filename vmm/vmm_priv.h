/*
 * The VMM core's own view of one VM, shared by vmm.c (start-up, run,
 * tear-down) and vmm_snapshot.c (save and restore). Nothing else includes it.
 */
#ifndef HUSK_VMM_VMM_PRIV_H
#define HUSK_VMM_VMM_PRIV_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "devices/device_module.h"
#include "devices/devmgr.h"
#include "arch/arch.h"
#include "devices/iobus.h"
#include "devices/virtio_console.h"
#include "event_loop.h"
#include "kvm/kvm.h"
#include "kvm/vcpu.h"
#include "vmm.h"

#define VMM_PAUSE_MS 5000 /* for every vCPU to leave the guest */

struct snap_reader;

struct vmm {
	const struct vmm_config *cfg;
	const struct kvm_flavour *flavour;
	struct timing *timing;
	struct kvm kvm;
	struct vm vm;
	struct vcpu *vcpus;
	unsigned nvcpus;
	struct vcpu_gate gate; /* closed while the VM is paused */
	struct iobus iobus;
	struct arch_platform *platform; /* the port's own devices (arch_platform_create) */
	struct event_loop el;
	bool el_ready;
	struct devmgr dm;
	struct console_out vconsole_out;
	bool vconsole_ready;
	struct virtio_mmio vconsole_transport;
	struct virtio_console vconsole;
	void *module_state[DEVICE_MODULES_MAX]; /* per device module, in device_modules order */
	int console_fd;
	int stop_efd;
	int sigfd;	   /* the signals that end the VM */
	sigset_t old_sigs; /* the caller's mask, restored by vmm_destroy */
	bool sigs_blocked, started, torn_down;
	volatile int stopping;
	pthread_mutex_t stop_lock;
	bool stop_requested;
	int status;
	char reason[512];
	pthread_cond_t ready_cond; /* under stop_lock: agent_ready or stopping changed */
	bool agent_ready;
	struct snap_reader *restore; /* while a VM is being restored (vmm_create) */
};

/* vmm_snapshot.c: the steps of vmm_create() that differ for a restored VM. */
int vmm_restore_open(struct vmm *m);		     /* before anything exists */
int vmm_restore_memory(struct vmm *m);		     /* guest RAM, while the VM is set up */
int vmm_restore_devices(struct vmm *m);		     /* last: re-raised interrupts stay */
int vmm_restore_vcpu(struct vmm *m, struct vcpu *v); /* after vcpu_setup() */
int vmm_restore_vm(struct vmm *m);		     /* the VM's own state */
void vmm_restore_close(struct vmm *m);
/* The console output the saved VM had (SNAP_CONSOLE_FILE, if any) into m's console file. */
void vmm_restore_console(struct vmm *m);

#endif
