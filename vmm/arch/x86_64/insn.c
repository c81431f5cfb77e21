/*
 * A table of the instructions that have been seen to stop a guest (kvm_pvm
 * cannot emulate them in kernel mode) plus a few common exits. Prefixes are
 * skipped; 0f-escaped opcodes may need the ModRM reg field.
 */
#include "arch/x86_64/insn.h"

#include <stdbool.h>

struct insn_pattern {
	uint8_t prefix; /* mandatory prefix (66, f2, f3), or 0 for none */
	uint8_t op[3];	/* opcode bytes */
	uint8_t oplen;
	int8_t modrm_reg; /* -1: any */
	int8_t rex_w;	  /* -1: any, 0/1: REX.W must be so */
	const char *name;
};

static const struct insn_pattern insn_patterns[] = {
	{ 0, { 0x0f, 0x01, 0xcb }, 3, -1, -1, "stac" },
	{ 0, { 0x0f, 0x01, 0xca }, 3, -1, -1, "clac" },
	{ 0, { 0x0f, 0x01, 0xd0 }, 3, -1, -1, "xgetbv" },
	{ 0, { 0x0f, 0x01, 0xd1 }, 3, -1, -1, "xsetbv" },
	{ 0, { 0x0f, 0xae }, 2, 4, -1, "xsave" },
	{ 0, { 0x0f, 0xae }, 2, 5, -1, "xrstor" },
	{ 0, { 0x0f, 0xae }, 2, 6, -1, "xsaveopt" },
	{ 0, { 0x0f, 0xc7 }, 2, 4, -1, "xsavec" },
	{ 0, { 0x0f, 0xc7 }, 2, 3, -1, "xrstors" },
	{ 0, { 0x0f, 0xc7 }, 2, 5, -1, "xsaves" },
	{ 0, { 0x0f, 0xc7 }, 2, 1, 1, "cmpxchg16b" },
	{ 0, { 0x0f, 0xc7 }, 2, 1, 0, "cmpxchg8b" },
	{ 0xf3, { 0x0f, 0xb8 }, 2, -1, -1, "popcnt" },
	{ 0xf3, { 0x0f, 0xbc }, 2, -1, -1, "tzcnt" },
	{ 0xf3, { 0x0f, 0xbd }, 2, -1, -1, "lzcnt" },
	{ 0, { 0x0f, 0xa2 }, 2, -1, -1, "cpuid" },
	{ 0, { 0x0f, 0x0b }, 2, -1, -1, "ud2" },
	{ 0, { 0x0f, 0x30 }, 2, -1, -1, "wrmsr" },
	{ 0, { 0x0f, 0x32 }, 2, -1, -1, "rdmsr" },
	{ 0, { 0x0f, 0x31 }, 2, -1, -1, "rdtsc" },
	{ 0, { 0x0f, 0x05 }, 2, -1, -1, "syscall" },
	{ 0, { 0xcc }, 1, -1, -1, "int3" },
	{ 0, { 0xcd }, 1, -1, -1, "int" },
	{ 0, { 0x9b }, 1, -1, -1, "fwait" },
	{ 0, { 0xf4 }, 1, -1, -1, "hlt" },
};

static bool insn_is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x26:
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0x64:
	case 0x65:
	case 0x66:
	case 0x67:
	case 0xf0:
	case 0xf2:
	case 0xf3: return true;
	default: return false;
	}
}

const char *x86_insn_name(const uint8_t *code, size_t len)
{
	size_t i = 0;
	uint8_t mandatory = 0;
	int rex_w = 0;

	while (i < len && i < 14 && insn_is_legacy_prefix(code[i])) {
		if (code[i] == 0x66 || code[i] == 0xf2 || code[i] == 0xf3)
			mandatory = code[i];
		i++;
	}
	if (i < len && (code[i] & 0xf0) == 0x40) {
		rex_w = (code[i] >> 3) & 1;
		i++;
	}
	for (size_t p = 0; p < sizeof(insn_patterns) / sizeof(insn_patterns[0]); p++) {
		const struct insn_pattern *ip = &insn_patterns[p];
		/* 0f-escaped opcodes mean another instruction under another prefix */
		if (ip->op[0] == 0x0f ? ip->prefix != mandatory :
					(ip->prefix && ip->prefix != mandatory))
			continue;
		if (i + ip->oplen > len)
			continue;
		bool match = true;
		for (uint8_t b = 0; b < ip->oplen && match; b++)
			match = code[i + b] == ip->op[b];
		if (!match)
			continue;
		if (ip->modrm_reg >= 0) {
			if (i + ip->oplen >= len)
				continue;
			uint8_t modrm = code[i + ip->oplen];
			/* register forms (mod 3) of 0f ae / 0f c7 are other instructions */
			if ((modrm >> 6) == 3 || ((modrm >> 3) & 7) != ip->modrm_reg)
				continue;
		}
		if (ip->rex_w >= 0 && ip->rex_w != rex_w)
			continue;
		return ip->name;
	}
	return NULL;
}
