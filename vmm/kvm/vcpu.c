#include "kvm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "kvm/exit_report.h"
#include "log.h"
#include "seccomp/seccomp.h"

#define VCPU_KICK_SIGNAL SIGUSR1

int vcpu_ioctl(struct vcpu *v, unsigned long req, void *arg, const char *what)
{
	if (ioctl(v->fd, req, arg) < 0) {
		int e = -errno;
		log_err("vcpu", "vcpu%u: %s: %s", v->id, what, strerror(errno));
		return e;
	}
	return 0;
}

int vcpu_create(struct kvm *k, struct vm *vm, unsigned id, struct vcpu *v)
{
	memset(v, 0, sizeof(*v));
	v->id = id;
	v->vm = vm;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		int e = -errno;
		log_err("vcpu", "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return e;
	}
	v->run_size = (size_t)k->vcpu_mmap_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		int e = -errno;
		log_err("vcpu", "vcpu%u: mmap kvm_run: %s", id, strerror(errno));
		v->run = NULL;
		close(v->fd);
		v->fd = -1;
		return e;
	}
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

int vcpu_setup(struct kvm *k, struct vcpu *v, unsigned nvcpus, const struct kvm_flavour *fl,
	       uint64_t entry)
{
	return arch_vcpu_setup(k, v, nvcpus, fl, entry);
}

static void vcpu_fail(struct vcpu *v, const char *what)
{
	char reason[512];
	exit_report_describe(v->fd, &v->vm->mem, v->id, what, reason, sizeof(reason));
	v->ops->stop(v->ctx, 2, reason);
}

/* One exit; false when this vCPU must stop running. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char what[128];

	switch (arch_vcpu_exit(v, what, sizeof(what))) {
	case ARCH_EXIT_HANDLED: return true;
	case ARCH_EXIT_STOPPED: return false;
	case ARCH_EXIT_FAILED: vcpu_fail(v, what); return false;
	case ARCH_EXIT_UNKNOWN: break;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		v->ops->mmio(v->ctx, run->mmio.phys_addr, run->mmio.is_write, run->mmio.data,
			     run->mmio.len > 8 ? 8 : run->mmio.len);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
			v->ops->stop(v->ctx, 0, "guest power-off");
			return false;
		}
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
			v->ops->stop(v->ctx, 0, "guest reboot");
			return false;
		}
		snprintf(what, sizeof(what), "system event %u", run->system_event.type);
		vcpu_fail(v, what);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error, suberror %u%s",
			 run->internal.suberror,
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
				 " (emulation failure)" :
				 "");
		vcpu_fail(v, what);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vcpu_fail(v, what);
		return false;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit %u", run->exit_reason);
		vcpu_fail(v, what);
		return false;
	}
}

/*
 * Before the vCPU parks at the closed gate. KVM completes a port I/O or
 * MMIO exit only at the next KVM_RUN: an IN's data reaches RAX and the
 * instruction retires then, so registers read while paused would show it
 * half done, and a VM restored from them would run it again. KVM_RUN with
 * immediate_exit set completes it and returns EINTR before the guest runs
 * another instruction. Completing may exit again (the next piece of a
 * string I/O or of a split MMIO access): that exit is served and the vCPU
 * settled again, a bounded number of times. False if the vCPU must stop.
 */
static bool vcpu_settle(void *arg)
{
	enum { VCPU_SETTLE_MAX = 16 };
	struct vcpu *v = arg;
	char what[128];

	for (int i = 0; i < VCPU_SETTLE_MAX; i++) {
		v->run->immediate_exit = 1;
		int r = ioctl(v->fd, KVM_RUN, 0);
		int err = errno;
		v->run->immediate_exit = 0;
		if (r < 0 && (err == EINTR || err == EAGAIN))
			return true; /* nothing left half done */
		if (r < 0) {
			snprintf(what, sizeof(what), "KVM_RUN to complete I/O: %s", strerror(err));
			vcpu_fail(v, what);
			return false;
		}
		if (!vcpu_handle_exit(v))
			return false;
	}
	snprintf(what, sizeof(what), "I/O still pending after %d completions", VCPU_SETTLE_MAX);
	vcpu_fail(v, what);
	return false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;

	/* the VM is set up: from here a vCPU only runs the guest and its exits */
	if (sc_enter(SC_VCPU) < 0) {
		v->ops->stop(v->ctx, 1, "the vCPU's seccomp filter could not be installed");
		return NULL;
	}
	if (v->id == 0)
		v->ops->first_run(v->ctx);
	while (!*v->stopping) {
		if (v->gate && !vcpu_gate_pass(v->gate, v->stopping, vcpu_settle, v))
			break;
		if (*v->stopping)
			break;
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* kicked: `stopping` and the gate are looked at again first */
				v->run->immediate_exit = 0;
				continue;
			}
			char what[128];
			snprintf(what, sizeof(what), "KVM_RUN: %s", strerror(errno));
			vcpu_fail(v, what);
			break;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	return NULL;
}

static void vcpu_kick_handler(int sig)
{
	(void)sig;
}

int vcpu_start(struct vcpu *v)
{
	static const struct sigaction sa = { .sa_handler = vcpu_kick_handler };
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);

	int r = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (r) {
		log_err("vcpu", "vcpu%u: cannot start thread: %s", v->id, strerror(r));
		return -r;
	}
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->started)
		return;
	v->run->immediate_exit = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_kick_and_join(struct vcpu *v)
{
	if (!v->started)
		return;
	if (v->gate)
		vcpu_gate_wake(v->gate);
	vcpu_kick(v);
	pthread_join(v->thread, NULL);
	v->started = false;
	if (getenv("HUSK_VMM_DEBUG")) {
		char where[512];
		exit_report_describe(v->fd, &v->vm->mem, v->id, "stopped", where, sizeof(where));
		log_err("vcpu", "%s", where);
	}
}
