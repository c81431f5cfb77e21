/* One line per failure, logged once where it happens, with a subsystem prefix. */
#ifndef HUSK_VMM_LOG_H
#define HUSK_VMM_LOG_H

#include <stdio.h>

#define log_err(sub, fmt, ...) fprintf(stderr, "husk-vmm: " sub ": " fmt "\n", ##__VA_ARGS__)

#endif
