/* The KVM system fd, the VM fd and guest memory slots. */
#ifndef HUSK_KVM_KVM_H
#define HUSK_KVM_KVM_H

#include <linux/kvm.h>

#include "arch/arch.h"
#include "guest_mem.h"

struct kvm {
	int fd;
	int vcpu_mmap_size;
	unsigned max_vcpus;
	struct arch_kvm arch; /* what the arch port knows of the host */
};

struct vm_setup;

struct vm {
	int fd;
	struct kvm *kvm; /* the host's KVM it was made on */
	struct guest_mem mem;
	struct vm_setup *setup; /* vm_create()'s steps still running, until vm_ready() */
};

/* Open the KVM device and check every capability husk-vmm relies on. */
int kvm_open(struct kvm *k, const char *path);
void kvm_close(struct kvm *k);

/*
 * Create a VM with ram bytes of memory and the arch's in-kernel interrupt
 * controller and timers (arch_vm_setup). The guest RAM is there on return,
 * to be filled, while the arch set-up and the memory slots run on threads
 * of their own (each can wait
 * milliseconds on the host). vm_ready() waits for them and says whether
 * they worked; nothing but guest RAM may be used before it.
 */
int vm_create(struct kvm *k, struct vm *vm, uint64_t ram);
int vm_ready(struct vm *vm);
void vm_destroy(struct vm *vm);

/* An ioctl on the VM fd; a failure is logged with what. */
int vm_ioctl(struct vm *vm, unsigned long req, void *arg, const char *what);

/* Set the level of an interrupt line of the in-kernel IO-APIC/PIC. */
int vm_irq_line(struct vm *vm, unsigned irq, int level);

#endif
