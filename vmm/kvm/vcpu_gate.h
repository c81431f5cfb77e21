/*
 * Pausing the vCPUs: a gate every vCPU thread passes before each KVM_RUN.
 * Closing it kicks the vCPUs out of the guest and returns once all of them
 * are parked outside it; opening it lets them run on. The VM's devices
 * (and their host sockets) keep being served while the vCPUs are parked.
 */
#ifndef HUSK_KVM_VCPU_GATE_H
#define HUSK_KVM_VCPU_GATE_H

#include <pthread.h>
#include <stdbool.h>

struct vcpu;

struct vcpu_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool closed;
	unsigned parked; /* vCPU threads waiting at the gate */
};

void vcpu_gate_init(struct vcpu_gate *g);
void vcpu_gate_destroy(struct vcpu_gate *g);

/*
 * Close the gate and wait (at most timeout_ms) until every one of the n
 * started vCPUs is parked. 0, -EALREADY if it was closed, -ETIMEDOUT.
 */
int vcpu_gate_close(struct vcpu_gate *g, struct vcpu *vcpus, unsigned n, int timeout_ms);
/* Open it again: 0, or -EALREADY if it was open. */
int vcpu_gate_open(struct vcpu_gate *g);
bool vcpu_gate_is_closed(struct vcpu_gate *g);

/*
 * The vCPU thread's side, before each KVM_RUN. While the gate is closed and
 * the VM not ending: settle(arg) runs first, outside the lock, to finish
 * what the vCPU has half done (the I/O of its last exit, which KVM completes
 * only at the next KVM_RUN); only then does the thread count as parked, so
 * that a closer that returns sees every vCPU's state whole. The thread
 * stays parked until the gate opens. Returns false, at once, if settle did
 * (the vCPU must stop), else true.
 */
bool vcpu_gate_pass(struct vcpu_gate *g, const volatile int *stopping, bool (*settle)(void *arg),
		    void *arg);
/* The VM is ending: wake every parked vCPU so that it sees `stopping`. */
void vcpu_gate_wake(struct vcpu_gate *g);

#endif
