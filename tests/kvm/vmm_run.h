/* Runs husk-vmm as a child for the tests, with its console and stderr in files. */
#ifndef HUSK_TESTS_VMM_RUN_H
#define HUSK_TESTS_VMM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vmm_run {
	pid_t pid;
	char dir[64]; /* temporary directory holding the files below */
	char console[128];
	char errlog[128];
	char timings[128];
	int status; /* exit status, or 128+signal */
	char *out;  /* console contents after the run */
	char *err;  /* stderr contents after the run */
};

/* Start husk-vmm with argv (NULL-terminated, without argv[0]); console to a file. */
void vmm_start(struct vmm_run *r, const char *const *args);
/* Wait up to timeout_s for it to end (then SIGKILL it); read the files. */
void vmm_wait(struct vmm_run *r, int timeout_s);
/* Wait until the console contains needle (true) or timeout_s passes (false). */
bool vmm_wait_console(struct vmm_run *r, const char *needle, int timeout_s);
/* Start, wait, read: the common case. */
void vmm_run_args(struct vmm_run *r, const char *const *args, int timeout_s);
void vmm_run_free(struct vmm_run *r);

/* false (after saying so) where /dev/kvm does not exist: the test exits 77 then. */
bool kvm_present(void);

/*
 * Run long tests that share one guest in this process (no fork, so they can
 * share its state), in order; returns the number of failures.
 */
struct TTest;
int kvm_run_in_order(const char *name, int timeout_s, const struct TTest *const *tests, size_t n);

/* Whole file as a NUL-terminated string (empty string if unreadable). */
char *slurp(const char *path);

#endif
