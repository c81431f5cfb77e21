/* The one-line reason a guest crashed: what, where (the program counter) and the code bytes there. */
#ifndef HUSK_KVM_EXIT_REPORT_H
#define HUSK_KVM_EXIT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

void exit_report_describe(int vcpu_fd, const struct guest_mem *gm, unsigned vcpu_id,
			  const char *what, char *out, size_t outlen);

/* Format "at <pc> 0x...: code xx xx ... (name)" from bytes already read. */
void exit_report_format(char *out, size_t outlen, unsigned vcpu_id, const char *what,
			unsigned long long rip, const uint8_t *code, size_t ncode);

#endif
