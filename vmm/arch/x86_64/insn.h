/* Names the instructions a KVM may fail to emulate, for crash reports. */
#ifndef HUSK_ARCH_INSN_H
#define HUSK_ARCH_INSN_H

#include <stddef.h>
#include <stdint.h>

/* The mnemonic of the instruction at code, or NULL if not one we know. */
const char *x86_insn_name(const uint8_t *code, size_t len);

#endif
