/*
 * x86 VM and vCPU state through KVM, as blobs (arch_vm_save and friends,
 * arch.h). The order of the reads and writes follows Firecracker's
 * save_state/restore_state and QEMU's kvm_arch_put_registers; each step
 * says why it stands where it does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arch.h"
#include "arch/x86_64/state.h"
#include "kvm/kvm.h"
#include "kvm/vcpu.h"
#include "log.h"

/* KVM_GET_MSRS and KVM_SET_MSRS take fewer than 256 entries a call. */
#define X86_MSR_BATCH 64

static const struct {
	uint32_t tag, chip_id;
	const char *get, *set;
} x86_chips[3] = {
	{ X86_VM_PIC_MASTER, KVM_IRQCHIP_PIC_MASTER, "KVM_GET_IRQCHIP (PIC master)",
	  "KVM_SET_IRQCHIP (PIC master)" },
	{ X86_VM_PIC_SLAVE, KVM_IRQCHIP_PIC_SLAVE, "KVM_GET_IRQCHIP (PIC slave)",
	  "KVM_SET_IRQCHIP (PIC slave)" },
	{ X86_VM_IOAPIC, KVM_IRQCHIP_IOAPIC, "KVM_GET_IRQCHIP (IO-APIC)",
	  "KVM_SET_IRQCHIP (IO-APIC)" },
};

static int x86_vm_cap(struct vm *vm, long cap)
{
	int r = ioctl(vm->fd, KVM_CHECK_EXTENSION, cap);
	return r < 0 ? 0 : r;
}

int arch_vm_save(struct vm *vm, void **blob, size_t *len)
{
	struct xsb_writer w;
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	int r;

	xsb_begin(&w, X86_STATE_VM_MAGIC);
	for (unsigned i = 0; i < 3; i++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = x86_chips[i].chip_id;
		if ((r = vm_ioctl(vm, KVM_GET_IRQCHIP, &chip, x86_chips[i].get)) < 0)
			goto fail;
		xsb_put(&w, x86_chips[i].tag, &chip, sizeof(chip));
	}
	memset(&pit, 0, sizeof(pit));
	if ((r = vm_ioctl(vm, KVM_GET_PIT2, &pit, "KVM_GET_PIT2")) < 0)
		goto fail;
	xsb_put(&w, X86_VM_PIT, &pit, sizeof(pit));
	memset(&clock, 0, sizeof(clock));
	if ((r = vm_ioctl(vm, KVM_GET_CLOCK, &clock, "KVM_GET_CLOCK")) < 0)
		goto fail;
	xsb_put(&w, X86_VM_CLOCK, &clock, sizeof(clock));
	return xsb_finish(&w, blob, len);
fail:
	xsb_discard(&w);
	return r;
}

int arch_vm_restore(struct vm *vm, const void *blob, size_t len)
{
	struct x86_vm_state st;
	int r = x86_vm_state_parse(blob, len, &st);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < 3; i++)
		if ((r = vm_ioctl(vm, KVM_SET_IRQCHIP, &st.chip[i], x86_chips[i].set)) < 0)
			return r;
	if ((r = vm_ioctl(vm, KVM_SET_PIT2, &st.pit, "KVM_SET_PIT2")) < 0)
		return r;
	/*
	 * The clock goes on from the saved value, as under Firecracker and
	 * QEMU: no flags, so not KVM_CLOCK_REALTIME (which would add the time
	 * the VM spent saved). The guest sees no time pass while it was
	 * stopped; its wall clock is set again from inside.
	 */
	struct kvm_clock_data clock = { .clock = st.clock.clock };
	return vm_ioctl(vm, KVM_SET_CLOCK, &clock, "KVM_SET_CLOCK");
}

/* --- vCPU: save ---------------------------------------------------------- */

/* The XSAVE area (as long as KVM_CAP_XSAVE2 says, where it says), else the FPU. */
static int x86_save_fpu(struct vcpu *v, struct xsb_writer *w)
{
	if (!x86_vm_cap(v->vm, KVM_CAP_XSAVE)) {
		struct kvm_fpu fpu;
		memset(&fpu, 0, sizeof(fpu));
		int r = vcpu_ioctl(v, KVM_GET_FPU, &fpu, "KVM_GET_FPU");
		if (r == 0)
			xsb_put(w, X86_VCPU_FPU, &fpu, sizeof(fpu));
		return r;
	}
	int size2 = x86_vm_cap(v->vm, KVM_CAP_XSAVE2);
	size_t size = size2 > X86_STATE_XSAVE_MIN ? (size_t)size2 : X86_STATE_XSAVE_MIN;
	if (size > X86_STATE_XSAVE_MAX || size % X86_STATE_XSAVE_UNIT) {
		log_err("state", "vcpu%u: KVM's XSAVE area is %zu bytes, a state holds %d at most",
			v->id, size, X86_STATE_XSAVE_MAX);
		return -E2BIG;
	}
	void *area = calloc(1, size);
	if (!area)
		return -ENOMEM;
	int r = size2 > 0 ? vcpu_ioctl(v, KVM_GET_XSAVE2, area, "KVM_GET_XSAVE2") :
			    vcpu_ioctl(v, KVM_GET_XSAVE, area, "KVM_GET_XSAVE");
	if (r == 0)
		xsb_put(w, X86_VCPU_XSAVE, area, size);
	free(area);
	return r;
}

/*
 * Every MSR KVM lists that it can read, in batches. KVM_GET_MSRS stops at
 * the first MSR it cannot read and returns how many it read: that one is
 * left out (as Firecracker does; KVM lists MSRs the vCPU's CPUID may not
 * have) and the batch goes on after it.
 */
static int x86_save_msrs(struct vcpu *v, struct xsb_writer *w)
{
	const struct kvm_msr_list *list = v->vm->kvm->arch.msr_list;
	if (list->nmsrs > X86_STATE_MAX_MSRS) {
		log_err("state", "vcpu%u: KVM lists %u MSRs, a state holds %d at most", v->id,
			list->nmsrs, X86_STATE_MAX_MSRS);
		return -E2BIG;
	}
	struct kvm_msr_entry *all = calloc(list->nmsrs ? list->nmsrs : 1, sizeof(*all));
	struct kvm_msrs *req = calloc(1, sizeof(*req) + X86_MSR_BATCH * sizeof(*all));
	int r = 0;
	if (!all || !req) {
		r = -ENOMEM;
		goto out;
	}
	size_t n = 0;
	for (uint32_t i = 0; i < list->nmsrs;) {
		uint32_t batch = list->nmsrs - i < X86_MSR_BATCH ? list->nmsrs - i : X86_MSR_BATCH;
		memset(req->entries, 0, batch * sizeof(*all));
		req->nmsrs = batch;
		for (uint32_t j = 0; j < batch; j++)
			req->entries[j].index = list->indices[i + j];
		int got = ioctl(v->fd, KVM_GET_MSRS, req);
		if (got < 0 || (uint32_t)got > batch) {
			r = got < 0 ? -errno : -EIO;
			log_err("state", "vcpu%u: KVM_GET_MSRS: %s", v->id,
				got < 0 ? strerror(errno) : "more MSRs than asked");
			goto out;
		}
		memcpy(&all[n], req->entries, (size_t)got * sizeof(*all));
		n += (size_t)got;
		i += (uint32_t)got;
		if ((uint32_t)got < batch)
			i++; /* req->entries[got] is unreadable: left out */
	}
	xsb_put(w, X86_VCPU_MSRS, all, n * sizeof(*all));
out:
	free(all);
	free(req);
	return r;
}

static int x86_save_cpuid(struct vcpu *v, struct xsb_writer *w)
{
	struct kvm_cpuid2 *c =
		calloc(1, sizeof(*c) + X86_STATE_MAX_CPUID * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return -ENOMEM;
	c->nent = X86_STATE_MAX_CPUID;
	int r = vcpu_ioctl(v, KVM_GET_CPUID2, c, "KVM_GET_CPUID2");
	if (r == 0 && (c->nent == 0 || c->nent > X86_STATE_MAX_CPUID)) {
		log_err("state", "vcpu%u: KVM_GET_CPUID2 gave %u entries", v->id, c->nent);
		r = -EIO;
	}
	if (r == 0)
		xsb_put(w, X86_VCPU_CPUID, c->entries, c->nent * sizeof(struct kvm_cpuid_entry2));
	free(c);
	return r;
}

/* One fixed-size structure read by ioctl req into a section. */
static int x86_save_one(struct vcpu *v, struct xsb_writer *w, uint32_t tag, unsigned long req,
			size_t size, const char *what)
{
	union {
		struct kvm_mp_state mp_state;
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_xcrs xcrs;
		struct kvm_debugregs debugregs;
		struct kvm_lapic_state lapic;
		struct kvm_vcpu_events events;
	} buf;
	if (size > sizeof(buf))
		return -EINVAL; /* not reached: buf holds each of them */
	memset(&buf, 0, sizeof(buf));
	int r = vcpu_ioctl(v, req, &buf, what);
	if (r == 0)
		xsb_put(w, tag, &buf, size);
	return r;
}

/*
 * The order, Firecracker's: MP state first (reading it makes KVM accept
 * pending INIT/SIPI, which changes the LAPIC and registers), the vCPU
 * events last (other reads can change what is pending). The vCPU must not
 * be running: its thread is parked at the closed gate (vcpu_gate.h).
 */
int arch_vcpu_save(struct vcpu *v, void **blob, size_t *len)
{
	struct xsb_writer w;
	int r;

	xsb_begin(&w, X86_STATE_VCPU_MAGIC);
	if ((r = x86_save_one(v, &w, X86_VCPU_MP_STATE, KVM_GET_MP_STATE,
			      sizeof(struct kvm_mp_state), "KVM_GET_MP_STATE")) < 0 ||
	    (r = x86_save_one(v, &w, X86_VCPU_REGS, KVM_GET_REGS, sizeof(struct kvm_regs),
			      "KVM_GET_REGS")) < 0 ||
	    (r = x86_save_one(v, &w, X86_VCPU_SREGS, KVM_GET_SREGS, sizeof(struct kvm_sregs),
			      "KVM_GET_SREGS")) < 0 ||
	    (r = x86_save_fpu(v, &w)) < 0)
		goto fail;
	if (x86_vm_cap(v->vm, KVM_CAP_XCRS) &&
	    (r = x86_save_one(v, &w, X86_VCPU_XCRS, KVM_GET_XCRS, sizeof(struct kvm_xcrs),
			      "KVM_GET_XCRS")) < 0)
		goto fail;
	if (x86_vm_cap(v->vm, KVM_CAP_DEBUGREGS) &&
	    (r = x86_save_one(v, &w, X86_VCPU_DEBUGREGS, KVM_GET_DEBUGREGS,
			      sizeof(struct kvm_debugregs), "KVM_GET_DEBUGREGS")) < 0)
		goto fail;
	if ((r = x86_save_one(v, &w, X86_VCPU_LAPIC, KVM_GET_LAPIC, sizeof(struct kvm_lapic_state),
			      "KVM_GET_LAPIC")) < 0 ||
	    (r = x86_save_cpuid(v, &w)) < 0 || (r = x86_save_msrs(v, &w)) < 0 ||
	    (r = x86_save_one(v, &w, X86_VCPU_EVENTS, KVM_GET_VCPU_EVENTS,
			      sizeof(struct kvm_vcpu_events), "KVM_GET_VCPU_EVENTS")) < 0)
		goto fail;
	return xsb_finish(&w, blob, len);
fail:
	xsb_discard(&w);
	return r;
}

/* --- vCPU: restore ------------------------------------------------------- */

/* The saved CPUID against the one vcpu_setup() gave this vCPU. */
static int x86_check_cpuid(struct vcpu *v, const struct x86_vcpu_state *st)
{
	struct kvm_cpuid2 *c =
		calloc(1, sizeof(*c) + X86_STATE_MAX_CPUID * sizeof(struct kvm_cpuid_entry2));
	struct kvm_cpuid_entry2 *saved = malloc(st->cpuid.len);
	int r = -ENOMEM;
	if (!c || !saved)
		goto out;
	c->nent = X86_STATE_MAX_CPUID;
	if ((r = vcpu_ioctl(v, KVM_GET_CPUID2, c, "KVM_GET_CPUID2")) < 0)
		goto out;
	memcpy(saved, st->cpuid.data, st->cpuid.len);
	char why[160];
	r = x86_cpuid_compare(saved, st->ncpuid, c->entries, c->nent, why, sizeof(why));
	if (r < 0)
		log_err("state",
			"vcpu%u: the state was saved on another CPU or KVM flavour, "
			"refused: %s",
			v->id, why);
out:
	free(c);
	free(saved);
	return r;
}

/* The XSAVE area, in a buffer at least as long as this KVM reads; else the FPU. */
static int x86_restore_fpu(struct vcpu *v, const struct x86_vcpu_state *st)
{
	if (st->has_fpu) {
		struct kvm_fpu fpu = st->fpu;
		return vcpu_ioctl(v, KVM_SET_FPU, &fpu, "KVM_SET_FPU");
	}
	int size2 = x86_vm_cap(v->vm, KVM_CAP_XSAVE2);
	size_t size = st->xsave.len;
	if (size2 > 0 && (size_t)size2 > size)
		size = (size_t)size2;
	void *area = calloc(1, size);
	if (!area)
		return -ENOMEM;
	memcpy(area, st->xsave.data, st->xsave.len);
	int r = vcpu_ioctl(v, KVM_SET_XSAVE, area, "KVM_SET_XSAVE");
	free(area);
	return r;
}

/* The saved MSRs, in batches; one KVM refuses is named. */
static int x86_restore_msrs(struct vcpu *v, const struct x86_vcpu_state *st)
{
	struct kvm_msrs *req =
		calloc(1, sizeof(*req) + X86_MSR_BATCH * sizeof(struct kvm_msr_entry));
	if (!req)
		return -ENOMEM;
	int r = 0;
	for (uint32_t i = 0; i < st->nmsrs;) {
		uint32_t batch = st->nmsrs - i < X86_MSR_BATCH ? st->nmsrs - i : X86_MSR_BATCH;
		req->nmsrs = batch;
		memcpy(req->entries, st->msrs.data + (size_t)i * sizeof(struct kvm_msr_entry),
		       batch * sizeof(struct kvm_msr_entry));
		int set = ioctl(v->fd, KVM_SET_MSRS, req);
		if (set < 0) {
			r = -errno;
			log_err("state", "vcpu%u: KVM_SET_MSRS: %s", v->id, strerror(errno));
			break;
		}
		if ((uint32_t)set < batch) {
			log_err("state", "vcpu%u: KVM refused the saved value %#llx of MSR %#x",
				v->id, (unsigned long long)req->entries[set].data,
				req->entries[set].index);
			r = -EINVAL;
			break;
		}
		i += batch;
	}
	free(req);
	return r;
}

/*
 * Into a vCPU vcpu_setup() made (its CPUID set, nothing run), in the order
 * QEMU's kvm_arch_put_registers keeps: general registers, XSAVE (or FPU),
 * XCRs, special registers (CR4, EFER and the APIC base, which XSAVE state
 * and MSRs are checked against); then the LAPIC, before the MSRs, because
 * the TSC-deadline MSR is taken only in the timer mode the LAPIC sets;
 * then the events (pending exceptions, interrupts, NMIs, shadows), after
 * everything that can raise or clear one; then the MP state, and last the
 * debug registers.
 */
int arch_vcpu_restore(struct vcpu *v, const void *blob, size_t len)
{
	struct x86_vcpu_state st;
	int r = x86_vcpu_state_parse(blob, len, &st);
	if (r < 0)
		return r;
	if ((r = x86_check_cpuid(v, &st)) < 0)
		return r;
	if ((r = vcpu_ioctl(v, KVM_SET_REGS, &st.regs, "KVM_SET_REGS")) < 0 ||
	    (r = x86_restore_fpu(v, &st)) < 0)
		return r;
	if (st.has_xcrs && (r = vcpu_ioctl(v, KVM_SET_XCRS, &st.xcrs, "KVM_SET_XCRS")) < 0)
		return r;
	if ((r = vcpu_ioctl(v, KVM_SET_SREGS, &st.sregs, "KVM_SET_SREGS")) < 0 ||
	    (r = vcpu_ioctl(v, KVM_SET_LAPIC, &st.lapic, "KVM_SET_LAPIC")) < 0 ||
	    (r = x86_restore_msrs(v, &st)) < 0)
		return r;
	/* as QEMU: a pending NMI and the SIPI vector are set too, not only read */
	st.events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	if ((r = vcpu_ioctl(v, KVM_SET_VCPU_EVENTS, &st.events, "KVM_SET_VCPU_EVENTS")) < 0 ||
	    (r = vcpu_ioctl(v, KVM_SET_MP_STATE, &st.mp_state, "KVM_SET_MP_STATE")) < 0)
		return r;
	if (st.has_debugregs &&
	    (r = vcpu_ioctl(v, KVM_SET_DEBUGREGS, &st.debugregs, "KVM_SET_DEBUGREGS")) < 0)
		return r;
	/*
	 * Tell the guest it was stopped (kvmclock's PVCLOCK_GUEST_STOPPED):
	 * its RCU and soft-lockup watchdogs would take the time the VM spent
	 * saved for a stall and print reports at every restore. EINVAL: the
	 * guest has no kvmclock, so nothing to tell.
	 */
	if (ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL)
		log_err("vcpu", "vcpu%u: KVM_KVMCLOCK_CTRL: %s", v->id, strerror(errno));
	return 0;
}
