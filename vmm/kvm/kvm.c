#include "kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/arch.h"
#include "log.h"
#include "seccomp/seccomp.h"

static const struct {
	int cap;
	const char *name;
} kvm_required[] = {
	{ KVM_CAP_IRQCHIP, "IRQCHIP" },
	{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
	{ KVM_CAP_IOEVENTFD, "IOEVENTFD" },
	{ KVM_CAP_IRQFD, "IRQFD" },
	{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
};

int kvm_open(struct kvm *k, const char *path)
{
	memset(k, 0, sizeof(*k));
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		int e = -errno;
		if (errno == ENOENT)
			log_err("kvm",
				"%s does not exist: this host has no KVM (load kvm_intel, "
				"kvm_amd or kvm_pvm, or enable nested virtualization)",
				path);
		else
			log_err("kvm", "cannot open %s: %s", path, strerror(errno));
		return e;
	}
	int version = ioctl(k->fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		log_err("kvm", "%s speaks KVM API %d, husk-vmm needs %d", path, version,
			KVM_API_VERSION);
		kvm_close(k);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < sizeof(kvm_required) / sizeof(kvm_required[0]); i++) {
		if (ioctl(k->fd, KVM_CHECK_EXTENSION, kvm_required[i].cap) <= 0) {
			log_err("kvm", "KVM lacks the %s capability", kvm_required[i].name);
			kvm_close(k);
			return -ENOTSUP;
		}
	}
	k->vcpu_mmap_size = ioctl(k->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	int max = ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	k->max_vcpus = max > 0 ? (unsigned)max : 1;

	int r = arch_kvm_init(k);
	if (r < 0)
		kvm_close(k);
	return r;
}

void kvm_close(struct kvm *k)
{
	arch_kvm_exit(k);
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

int vm_ioctl(struct vm *vm, unsigned long req, void *arg, const char *what)
{
	if (ioctl(vm->fd, req, arg) < 0) {
		int e = -errno;
		log_err("kvm", "%s: %s", what, strerror(errno));
		return e;
	}
	return 0;
}

/* Register every RAM region as a memory slot. */
static int vm_set_slots(struct kvm *k, struct vm *vm)
{
	(void)k;
	for (unsigned i = 0; i < vm->mem.nregions; i++) {
		struct kvm_userspace_memory_region region = {
			.slot = i,
			.guest_phys_addr = vm->mem.regions[i].gpa,
			.memory_size = vm->mem.regions[i].size,
			.userspace_addr = (uintptr_t)vm->mem.regions[i].hva,
		};
		int r = vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region,
				 "KVM_SET_USER_MEMORY_REGION");
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The set-up steps that run on threads of their own: each can wait
 * milliseconds on the host (an SRCU grace period, arch_vm_setup's timers' kernel
 * thread), and the memory slots take a lock of their own, apart from the
 * interrupt controller's.
 */
static int (*const vm_steps[])(struct kvm *, struct vm *) = {
	vm_set_slots,
	arch_vm_setup,
};
#define VM_STEPS (sizeof(vm_steps) / sizeof(vm_steps[0]))

struct vm_setup {
	struct kvm *k;
	struct vm *vm;
	struct vm_setup_step {
		struct vm_setup *s;
		int (*fn)(struct kvm *, struct vm *);
		pthread_t thread;
		bool threaded;
		int result;
	} step[VM_STEPS];
};

static void *vm_setup_run(void *arg)
{
	struct vm_setup_step *st = arg;
	st->result = st->fn(st->s->k, st->s->vm);
	return NULL;
}

/* A step on a thread of its own: a few KVM ioctls, nothing else (filters.c). */
static void *vm_setup_thread(void *arg)
{
	struct vm_setup_step *st = arg;
	st->result = sc_enter(SC_SETUP);
	return st->result < 0 ? NULL : vm_setup_run(arg);
}

int vm_create(struct kvm *k, struct vm *vm, uint64_t ram)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm = k;
	vm->mem.memfd = -1;
	vm->fd = ioctl(k->fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		int e = -errno;
		log_err("kvm", "KVM_CREATE_VM: %s", strerror(errno));
		return e;
	}
	int r = gm_init(&vm->mem, ram);
	if (r < 0)
		goto fail;
	struct vm_setup *s = calloc(1, sizeof(*s));
	if (!s) {
		r = -ENOMEM;
		goto fail;
	}
	s->k = k;
	s->vm = vm;
	vm->setup = s;
	for (unsigned i = 0; i < VM_STEPS; i++) {
		s->step[i].s = s;
		s->step[i].fn = vm_steps[i];
		s->step[i].threaded =
			pthread_create(&s->step[i].thread, NULL, vm_setup_thread, &s->step[i]) == 0;
		if (!s->step[i].threaded)
			vm_setup_run(&s->step[i]);
	}
	return 0;
fail:
	vm_destroy(vm);
	return r;
}

int vm_ready(struct vm *vm)
{
	struct vm_setup *s = vm->setup;
	int r = 0;
	if (!s)
		return 0;
	for (unsigned i = 0; i < VM_STEPS; i++) {
		if (s->step[i].threaded)
			pthread_join(s->step[i].thread, NULL);
		if (r == 0)
			r = s->step[i].result;
	}
	free(s);
	vm->setup = NULL;
	return r;
}

void vm_destroy(struct vm *vm)
{
	vm_ready(vm);
	gm_destroy(&vm->mem);
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
}

int vm_irq_line(struct vm *vm, unsigned irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };
	return vm_ioctl(vm, KVM_IRQ_LINE, &l, "KVM_IRQ_LINE");
}
