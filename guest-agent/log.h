/* The agent logs to its console (the guest's hvc0 or ttyS0), one line each. */
#ifndef HUSK_AGENT_LOG_H
#define HUSK_AGENT_LOG_H

#include <stdio.h>

#define agent_log(...)                                       \
	do {                                                 \
		fprintf(stderr, "husk-agent: " __VA_ARGS__); \
		fputc('\n', stderr);                         \
	} while (0)

#endif
