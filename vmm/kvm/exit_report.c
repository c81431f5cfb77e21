#include "kvm/exit_report.h"

#include <stdio.h>

#include "arch/arch.h"

#define REPORT_CODE_BYTES 16

void exit_report_format(char *out, size_t outlen, unsigned vcpu_id, const char *what,
			unsigned long long rip, const uint8_t *code, size_t ncode)
{
	size_t n = (size_t)snprintf(out, outlen, "vcpu%u: %s at " ARCH_PC_NAME " 0x%llx", vcpu_id,
				    what, rip);
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
	const char *name = arch_insn_name(code, ncode);
	snprintf(out + n, outlen - n, " (%s)", name ? name : "instruction not recognised");
}

void exit_report_describe(int vcpu_fd, const struct guest_mem *gm, unsigned vcpu_id,
			  const char *what, char *out, size_t outlen)
{
	uint64_t pc;
	uint8_t code[REPORT_CODE_BYTES];
	size_t ncode;

	if (arch_vcpu_code(vcpu_fd, gm, &pc, code, sizeof(code), &ncode) < 0) {
		snprintf(out, outlen, "vcpu%u: %s (registers unreadable)", vcpu_id, what);
		return;
	}
	exit_report_format(out, outlen, vcpu_id, what, pc, code, ncode);
}
