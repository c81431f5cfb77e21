/* Installing the filters of filters.c, and the report of a forbidden call (seccomp.h). */
#include "seccomp/seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

#define SC_MAX_NR   512 /* above every x86_64 system call number */
#define SC_NAME_MAX 32
#define SC_EXIT	    (128 + SIGSYS)

static bool sc_on;
static volatile int sc_console_fd = -1;
static char sc_names[SC_MAX_NR][SC_NAME_MAX];
static __thread int sc_thread_class = -1;

size_t sc_class_rules(enum sc_class c)
{
	size_t n = 0;
	for (unsigned t = 0; t < SC_TABLES_MAX; t++)
		n += sc_classes[c].tables[t].n;
	return n;
}

const char *sc_syscall_name(long nr)
{
	return nr >= 0 && nr < SC_MAX_NR && sc_names[nr][0] ? sc_names[nr] : "?";
}

/* Append s to buf at *at, leaving room for the line's end and the NUL. */
static void sc_put(char *buf, size_t len, size_t *at, const char *s)
{
	while (*s && *at + 2 < len)
		buf[(*at)++] = *s++;
}

size_t sc_report_line(char *buf, size_t len, const char *cls, long nr, const char *name)
{
	char num[24], *p = num + sizeof(num);
	unsigned long v = nr < 0 ? (unsigned long)-nr : (unsigned long)nr;
	size_t at = 0;

	if (len < 2)
		return 0;
	*--p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) && p > num + 1);
	if (nr < 0)
		*--p = '-';
	sc_put(buf, len, &at, "husk-vmm: seccomp: the ");
	sc_put(buf, len, &at, cls);
	sc_put(buf, len, &at, " thread made a forbidden system call: ");
	sc_put(buf, len, &at, p);
	sc_put(buf, len, &at, " (");
	sc_put(buf, len, &at, name);
	sc_put(buf, len, &at, "); the VMM ends");
	buf[at++] = '\n';
	buf[at] = '\0';
	return at;
}

/* SECCOMP_RET_TRAP: one line to stderr and the console log, then the end. Only write(2). */
static void sc_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	char line[160];
	int c = sc_thread_class;
	const char *cls = c >= 0 && c < SC_CLASSES ? sc_classes[c].name : "unknown";
	size_t n = sc_report_line(line, sizeof(line), cls, si->si_syscall,
				  sc_syscall_name(si->si_syscall));
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere else to say it */
	}
	int fd = sc_console_fd;
	if (fd >= 0 && fd != STDERR_FILENO && write(fd, line, n) < 0) {
		/* stderr has it */
	}
	/* _exit(2) itself, not through a sanitizer's interceptor that runs its own checks */
	syscall(SYS_exit_group, SC_EXIT);
	_exit(SC_EXIT);
}

int sc_enable(void)
{
	for (int nr = 0; nr < SC_MAX_NR; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (name) {
			strncpy(sc_names[nr], name, SC_NAME_MAX - 1);
			free(name);
		}
	}
	struct sigaction sa = { .sa_sigaction = sc_sigsys, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		int e = -errno;
		log_err("seccomp", "cannot set the SIGSYS handler: %s", strerror(errno));
		return e;
	}
	sc_on = true;
	return 0;
}

bool sc_enabled(void)
{
	return sc_on;
}

void sc_set_console_fd(int fd)
{
	sc_console_fd = fd;
}

static int sc_add(scmp_filter_ctx ctx, const struct sc_rule *r)
{
	uint32_t action = r->err ? SCMP_ACT_ERRNO((uint32_t)r->err) : SCMP_ACT_ALLOW;
	/* every field set: libseccomp's SCMP_CMP leaves datum_b to the compiler */
	struct scmp_arg_cmp cmp = { .arg = r->arg, .op = SCMP_CMP_EQ, .datum_a = r->value };
	switch (r->test) {
	case SC_ANY: return seccomp_rule_add(ctx, action, r->nr, 0);
	case SC_ARG_EQ: break;
	case SC_ARG_MASK:
		cmp = (struct scmp_arg_cmp){ .arg = r->arg,
					     .op = SCMP_CMP_MASKED_EQ,
					     .datum_a = r->mask,
					     .datum_b = r->value };
		break;
	default: return -EINVAL;
	}
	return seccomp_rule_add_array(ctx, action, r->nr, 1, &cmp);
}

#ifdef HUSK_TEST_HOOKS
/*
 * Tests only: HUSK_TEST_FORBIDDEN_SYSCALL=CLASS makes a thread of that class
 * call personality(2), which no class allows, right after its filter is on.
 */
static void sc_test_forbidden(enum sc_class c)
{
	const char *want = getenv("HUSK_TEST_FORBIDDEN_SYSCALL");
	if (want && !strcmp(want, sc_classes[c].name))
		syscall(SYS_personality, 0xffffffffUL); /* a query: harmless if let through */
}
#endif

int sc_enter(enum sc_class c)
{
	char name[16];
	int r = 0;

	sc_thread_class = (int)c;
	if (c != SC_MAIN) {
		/* seen in top -H and /proc/PID/task/TID/comm; the process keeps its name */
		snprintf(name, sizeof(name), "husk-%s", sc_classes[c].name);
		prctl(PR_SET_NAME, name, 0, 0, 0);
	}
	if (!sc_on)
		return 0;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx) {
		log_err("seccomp", "%s: seccomp_init failed", sc_classes[c].name);
		return -ENOMEM;
	}
	for (unsigned t = 0; t < SC_TABLES_MAX && r == 0; t++)
		for (size_t i = 0; i < sc_classes[c].tables[t].n && r == 0; i++) {
			const struct sc_rule *rule = &sc_classes[c].tables[t].rules[i];
			if ((r = sc_add(ctx, rule)) < 0)
				log_err("seccomp", "%s: rule for %s: %s", sc_classes[c].name,
					sc_syscall_name(rule->nr), strerror(-r));
		}
	/* this thread only (no SCMP_FLTATR_CTL_TSYNC): every class has its own list */
	if (r == 0 && (r = seccomp_load(ctx)) < 0)
		log_err("seccomp", "%s: cannot install the filter: %s", sc_classes[c].name,
			strerror(-r));
	seccomp_release(ctx);
#ifdef HUSK_TEST_HOOKS
	if (r == 0)
		sc_test_forbidden(c);
#endif
	return r;
}
