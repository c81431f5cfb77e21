/* The kernel command line, built in one place and bounded by the protocol's limit. */
#ifndef HUSK_BOOT_CMDLINE_H
#define HUSK_BOOT_CMDLINE_H

#include <stddef.h>

#include "arch/arch.h"

struct cmdline {
	char buf[ARCH_CMDLINE_MAX];
	size_t len;
};

void cmdline_init(struct cmdline *c);
/* Append one or more space-separated words; -E2BIG if the line would overflow. */
int cmdline_append(struct cmdline *c, const char *words);
int cmdline_appendf(struct cmdline *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
