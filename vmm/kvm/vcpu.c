#include "kvm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86_64/cpu_boot.h"
#include "arch/x86_64/cpuid.h"
#include "kvm/exit_report.h"
#include "log.h"

#define VCPU_KICK_SIGNAL SIGUSR1

static int vcpu_ioctl(struct vcpu *v, unsigned long req, void *arg, const char *what)
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
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
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

static int vcpu_setup_cpuid(struct kvm *k, struct vcpu *v, unsigned nvcpus,
			    const struct kvm_flavour *fl)
{
	size_t sz = sizeof(struct kvm_cpuid2) +
		    k->supported_cpuid->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = malloc(sz);
	if (!c)
		return -ENOMEM;
	memcpy(c, k->supported_cpuid, sz);
	cpuid_fixup(c, v->id, nvcpus, fl->masks, fl->nmasks);
	int r = vcpu_ioctl(v, KVM_SET_CPUID2, c, "KVM_SET_CPUID2");
	free(c);
	return r;
}

static int vcpu_setup_msrs(struct vcpu *v)
{
	enum { MAX_MSRS = 16 };
	struct kvm_msrs *msrs = calloc(1, sizeof(*msrs) + MAX_MSRS * sizeof(struct kvm_msr_entry));
	if (!msrs)
		return -ENOMEM;
	msrs->nmsrs = (uint32_t)x86_boot_msrs(msrs->entries, MAX_MSRS);
	int n = ioctl(v->fd, KVM_SET_MSRS, msrs);
	int r = 0;
	if (n < 0 || (uint32_t)n != msrs->nmsrs) {
		log_err("vcpu", "vcpu%u: KVM_SET_MSRS set %d of %u MSRs", v->id, n, msrs->nmsrs);
		r = -EIO;
	}
	free(msrs);
	return r;
}

int vcpu_setup(struct kvm *k, struct vcpu *v, unsigned nvcpus,
	       const struct kvm_flavour *fl, uint64_t entry, uint64_t boot_params)
{
	int r = vcpu_setup_cpuid(k, v, nvcpus, fl);
	if (r < 0)
		return r;
	if ((r = vcpu_setup_msrs(v)) < 0)
		return r;

	struct kvm_lapic_state lapic;
	if ((r = vcpu_ioctl(v, KVM_GET_LAPIC, &lapic, "KVM_GET_LAPIC")) < 0)
		return r;
	x86_lapic_set_lints(&lapic);
	if ((r = vcpu_ioctl(v, KVM_SET_LAPIC, &lapic, "KVM_SET_LAPIC")) < 0)
		return r;

	if (v->id != 0)
		return 0; /* application processors wait for INIT/SIPI */

	struct kvm_fpu fpu;
	x86_boot_fpu(&fpu);
	if ((r = vcpu_ioctl(v, KVM_SET_FPU, &fpu, "KVM_SET_FPU")) < 0)
		return r;
	struct kvm_sregs sregs;
	if ((r = vcpu_ioctl(v, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS")) < 0)
		return r;
	x86_boot_sregs(&sregs);
	if ((r = vcpu_ioctl(v, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS")) < 0)
		return r;
	struct kvm_regs regs;
	x86_boot_regs(&regs, entry, boot_params);
	return vcpu_ioctl(v, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

static void vcpu_handle_pio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned size = run->io.size;
	uint32_t count = run->io.count;
	uint64_t off = run->io.data_offset;
	/* size, count and offset come from KVM, but check before trusting them */
	if ((size != 1 && size != 2 && size != 4) || off >= v->run_size ||
	    (uint64_t)size * count > v->run_size - off)
		return;
	uint8_t *data = (uint8_t *)run + off;
	for (uint32_t i = 0; i < count; i++, data += size)
		v->ops->pio(v->ctx, run->io.port, run->io.direction == KVM_EXIT_IO_OUT, data, size);
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

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_pio(v);
		return true;
	case KVM_EXIT_MMIO:
		v->ops->mmio(v->ctx, run->mmio.phys_addr, run->mmio.is_write, run->mmio.data,
			     run->mmio.len > 8 ? 8 : run->mmio.len);
		return true;
	case KVM_EXIT_HLT:
		v->ops->stop(v->ctx, 0, "guest halted");
		return false;
	case KVM_EXIT_SHUTDOWN:
		vcpu_fail(v, "triple fault (KVM_EXIT_SHUTDOWN)");
		return false;
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
				 " (emulation failure)" : "");
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

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;

	if (v->id == 0)
		v->ops->first_run(v->ctx);
	while (!*v->stopping) {
		if (v->gate)
			vcpu_gate_pass(v->gate, v->stopping);
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
