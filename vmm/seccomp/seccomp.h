/*
 * husk-vmm's seccomp filters: one allow-list per thread class.
 *
 * The tables are in filters.c (one entry per allowed call, with why); the
 * installation and the SIGSYS report are in seccomp.c. Filters go on per
 * thread, not with TSYNC: each class has its own list, and a thread installs
 * its class's filter itself, at its start or once its part of the set-up is
 * done (see sc_enter). A thread inherits the filter of the thread that made
 * it, so a thread that makes others installs its own only after making those
 * that need more (the main thread, last of all).
 *
 * Nothing is installed until the program calls sc_enable() (husk-vmm's
 * main, unless --no-seccomp): the VMM core as a library, in tests, stays
 * unfiltered.
 */
#ifndef HUSK_VMM_SECCOMP_H
#define HUSK_VMM_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sc_class {
	SC_MAIN,    /* husk-vmm's main thread, from the VM's start to the exit */
	SC_SETUP,   /* the VM's parallel set-up steps (vmm/kvm/kvm.c) */
	SC_VCPU,    /* a vCPU: KVM_RUN and the device registers it exits to */
	SC_EVENT,   /* the event thread: ioeventfds, host sockets, backends */
	SC_CONTROL, /* the shim's control socket (shim/spec_control.c) */
	SC_RUNNER,  /* the shim's runner and the stdio relays it starts */
	SC_CLASSES
};

/* What a rule asks of one argument, beyond the call's number. */
enum sc_arg_test {
	SC_ANY,	     /* any arguments */
	SC_ARG_EQ,   /* argument `arg` == value */
	SC_ARG_MASK, /* (argument `arg` & mask) == value */
};

struct sc_rule {
	int nr;	 /* the system call (SCMP_SYS) */
	int err; /* 0: allowed; else the call fails with this errno */
	enum sc_arg_test test;
	unsigned arg;
	uint64_t mask, value;
	const char *why; /* for the reader of filters.c */
};

struct sc_table {
	const struct sc_rule *rules;
	size_t n;
};

/* filters.c: a class's name and its rules, as up to SC_TABLES_MAX tables. */
#define SC_TABLES_MAX 4
struct sc_class_def {
	const char *name;
	struct sc_table tables[SC_TABLES_MAX];
};
extern const struct sc_class_def sc_classes[SC_CLASSES];

/* How many rules class c has, over its tables. */
size_t sc_class_rules(enum sc_class c);

/*
 * Turn filters on for this process: resolve the names of system calls for
 * the report and set the SIGSYS handler. Before any thread starts.
 */
int sc_enable(void);
bool sc_enabled(void);

/* The console log that a report goes to as well as stderr (-1: none). */
void sc_set_console_fd(int fd);

/*
 * The calling thread is of class c from now on: its name is set (husk-<class>)
 * and, if enabled, its class's filter installed. 0 or a negative errno, logged;
 * a thread that cannot be filtered must not go on.
 */
int sc_enter(enum sc_class c);

/*
 * The report line for a forbidden call, as the SIGSYS handler writes it:
 * async-signal-safe, no allocation. Returns its length (ending in '\n').
 */
size_t sc_report_line(char *buf, size_t len, const char *cls, long nr, const char *name);

/* The name of system call nr as resolved by sc_enable (or "?"). */
const char *sc_syscall_name(long nr);

#endif
