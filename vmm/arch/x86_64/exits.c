/*
 * The exits only x86 has (port I/O, HLT, triple fault), and where a
 * stopped vCPU is, for crash reports.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arch.h"
#include "arch/x86_64/insn.h"
#include "kvm/vcpu.h"

static void x86_exit_pio(struct vcpu *v)
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

enum arch_exit arch_vcpu_exit(struct vcpu *v, char *what, size_t whatlen)
{
	switch (v->run->exit_reason) {
	case KVM_EXIT_IO: x86_exit_pio(v); return ARCH_EXIT_HANDLED;
	case KVM_EXIT_HLT: v->ops->stop(v->ctx, 0, "guest halted"); return ARCH_EXIT_STOPPED;
	case KVM_EXIT_SHUTDOWN:
		snprintf(what, whatlen, "triple fault (KVM_EXIT_SHUTDOWN)");
		return ARCH_EXIT_FAILED;
	default: return ARCH_EXIT_UNKNOWN;
	}
}

int arch_vcpu_code(int vcpu_fd, const struct guest_mem *gm, uint64_t *pc, uint8_t *code, size_t max,
		   size_t *ncode)
{
	struct kvm_regs regs;

	*ncode = 0;
	if (ioctl(vcpu_fd, KVM_GET_REGS, &regs) < 0)
		return -errno;
	*pc = regs.rip;
	/* Read up to the end of the page holding RIP, through the guest's page tables. */
	struct kvm_translation tr = { .linear_address = regs.rip };
	if (ioctl(vcpu_fd, KVM_TRANSLATE, &tr) == 0 && tr.valid) {
		size_t room = 4096 - (tr.physical_address & 0xfff);
		size_t n = room < max ? room : max;
		const uint8_t *p = gm_gpa_to_hva(gm, tr.physical_address, n);
		if (p) {
			memcpy(code, p, n);
			*ncode = n;
		}
	}
	return 0;
}

const char *arch_insn_name(const uint8_t *code, size_t len)
{
	return x86_insn_name(code, len);
}
