/* An x86 vCPU's start: CPUID, MSRs, LAPIC LINTs; the boot vCPU's 64-bit entry state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arch.h"
#include "arch/x86_64/cpu_boot.h"
#include "arch/x86_64/cpuid.h"
#include "kvm/flavour.h"
#include "kvm/vcpu.h"
#include "log.h"

static int x86_vcpu_cpuid(struct kvm *k, struct vcpu *v, unsigned nvcpus,
			  const struct kvm_flavour *fl)
{
	const struct kvm_cpuid2 *supported = k->arch.supported_cpuid;
	size_t sz = sizeof(struct kvm_cpuid2) + supported->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = malloc(sz);
	if (!c)
		return -ENOMEM;
	memcpy(c, supported, sz);
	cpuid_fixup(c, v->id, nvcpus, fl->arch.masks, fl->arch.nmasks);
	int r = vcpu_ioctl(v, KVM_SET_CPUID2, c, "KVM_SET_CPUID2");
	free(c);
	return r;
}

static int x86_vcpu_msrs(struct vcpu *v)
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

int arch_vcpu_setup(struct kvm *k, struct vcpu *v, unsigned nvcpus, const struct kvm_flavour *fl,
		    uint64_t entry)
{
	int r = x86_vcpu_cpuid(k, v, nvcpus, fl);
	if (r < 0)
		return r;
	if ((r = x86_vcpu_msrs(v)) < 0)
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
	x86_boot_regs(&regs, entry, MM_ZERO_PAGE);
	return vcpu_ioctl(v, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}
