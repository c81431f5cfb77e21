#include "kvm/exit_report.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86_64/insn.h"

#define REPORT_CODE_BYTES 16

void exit_report_format(char *out, size_t outlen, unsigned vcpu_id, const char *what,
			unsigned long long rip, const uint8_t *code, size_t ncode)
{
	size_t n = (size_t)snprintf(out, outlen, "vcpu%u: %s at rip 0x%llx", vcpu_id, what, rip);
	if (n >= outlen)
		return;
	if (!ncode) {
		snprintf(out + n, outlen - n, ", code unreadable");
		return;
	}
	n += (size_t)snprintf(out + n, outlen - n, ", code");
	for (size_t i = 0; i < ncode && n < outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, " %02x", code[i]);
	if (n >= outlen)
		return;
	const char *name = x86_insn_name(code, ncode);
	snprintf(out + n, outlen - n, " (%s)", name ? name : "instruction not recognised");
}

void exit_report_describe(int vcpu_fd, const struct guest_mem *gm, unsigned vcpu_id,
			  const char *what, char *out, size_t outlen)
{
	struct kvm_regs regs;
	uint8_t code[REPORT_CODE_BYTES];
	size_t ncode = 0;

	if (ioctl(vcpu_fd, KVM_GET_REGS, &regs) < 0) {
		snprintf(out, outlen, "vcpu%u: %s (registers unreadable)", vcpu_id, what);
		return;
	}
	/* Read up to the end of the page holding RIP, through the guest's page tables. */
	struct kvm_translation tr = { .linear_address = regs.rip };
	if (ioctl(vcpu_fd, KVM_TRANSLATE, &tr) == 0 && tr.valid) {
		size_t room = 4096 - (tr.physical_address & 0xfff);
		ncode = room < sizeof(code) ? room : sizeof(code);
		const uint8_t *p = gm_gpa_to_hva(gm, tr.physical_address, ncode);
		if (p)
			memcpy(code, p, ncode);
		else
			ncode = 0;
	}
	exit_report_format(out, outlen, vcpu_id, what, regs.rip, code, ncode);
}
