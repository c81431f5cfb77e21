/* vCPUs: creation, boot state, and the run loop that hands exits to the VMM. */
#ifndef HUSK_KVM_VCPU_H
#define HUSK_KVM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvm/flavour.h"
#include "kvm/kvm.h"
#include "kvm/vcpu_gate.h"

/* What the run loop asks of the rest of the VMM. */
struct vcpu_exit_ops {
	/* Port I/O: data holds size bytes, written by the guest or to fill on a read. */
	void (*pio)(void *ctx, uint16_t port, bool is_write, uint8_t *data, unsigned size);
	void (*mmio)(void *ctx, uint64_t addr, bool is_write, uint8_t *data, unsigned len);
	/* The first KVM_RUN of any vCPU is about to happen. */
	void (*first_run)(void *ctx);
	/* The VM must end: status 0 for a guest power-off or reboot. */
	void (*stop)(void *ctx, int status, const char *reason);
};

struct vcpu {
	unsigned id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	struct vm *vm;
	pthread_t thread;
	bool started;
	const struct vcpu_exit_ops *ops;
	void *ctx;
	volatile int *stopping; /* shared: set once the VM is ending */
	struct vcpu_gate *gate; /* shared: closed while the VM is paused (may be NULL) */
};

int vcpu_create(struct kvm *k, struct vm *vm, unsigned id, struct vcpu *v);
void vcpu_destroy(struct vcpu *v);

/*
 * The state every vCPU starts in, and the boot vCPU's (id 0) registers for
 * the kernel's entry: all of it the arch's (arch_vcpu_setup).
 */
int vcpu_setup(struct kvm *k, struct vcpu *v, unsigned nvcpus, const struct kvm_flavour *fl,
	       uint64_t entry);

/* An ioctl on the vCPU fd; a failure is logged with what. */
int vcpu_ioctl(struct vcpu *v, unsigned long req, void *arg, const char *what);

/* Start the vCPU's thread running the guest. */
int vcpu_start(struct vcpu *v);

/* Make a running vCPU leave KVM_RUN soon (it looks at `stopping` and the gate). */
void vcpu_kick(struct vcpu *v);

/* Make a running vCPU leave KVM_RUN (the VM is ending), then join it. */
void vcpu_kick_and_join(struct vcpu *v);

#endif
