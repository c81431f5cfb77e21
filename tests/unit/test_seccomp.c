/*
 * husk-vmm's seccomp tables and report (vmm/seccomp/): what each class may
 * never do, the report line, and, in a child process, a filter that lets
 * its class's calls through and traps the others with the report and 159.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp/seccomp.h"
#include "unit.h"

/* every rule r of class c, over its tables (t: the table's index) */
#define FOR_RULES(c, t, r)                                                    \
	for (unsigned t = 0; t < SC_TABLES_MAX; t++)                          \
		for (const struct sc_rule *r = sc_classes[c].tables[t].rules; \
		     r && r < sc_classes[c].tables[t].rules + sc_classes[c].tables[t].n; r++)

START_TEST(every_rule_is_known_and_explained)
{
	for (int c = 0; c < SC_CLASSES; c++) {
		ck_assert_ptr_nonnull(sc_classes[c].name);
		ck_assert_uint_ge(sc_class_rules(c), 10);
		FOR_RULES(c, t, r)
		{
			ck_assert_msg(r->nr >= 0, "%s: a call this arch does not have",
				      sc_classes[c].name);
			ck_assert_msg(r->why && strlen(r->why) > 3, "%s: rule for %d says not why",
				      sc_classes[c].name, r->nr);
			/* no rule twice in a class */
			FOR_RULES(c, u, q)
			if (q != r)
				ck_assert_msg(!(q->nr == r->nr && q->test == r->test &&
						q->arg == r->arg && q->mask == r->mask &&
						q->value == r->value),
					      "%s: the rule for %d twice", sc_classes[c].name,
					      r->nr);
		}
	}
}
END_TEST

/* Calls no class may make at all, whatever the arguments. */
START_TEST(no_class_may_escape)
{
	static const int never[] = {
		SCMP_SYS(execve),      SCMP_SYS(execveat),
		SCMP_SYS(fork),	       SCMP_SYS(vfork),
		SCMP_SYS(ptrace),      SCMP_SYS(personality),
		SCMP_SYS(mount),       SCMP_SYS(setns),
		SCMP_SYS(unshare),     SCMP_SYS(chroot),
		SCMP_SYS(pivot_root),  SCMP_SYS(bpf),
		SCMP_SYS(init_module), SCMP_SYS(finit_module),
		SCMP_SYS(kexec_load),  SCMP_SYS(process_vm_writev),
		SCMP_SYS(open),	       SCMP_SYS(seccomp),
	};
	for (int c = 0; c < SC_CLASSES; c++)
		FOR_RULES(c, t, r)
		{
			for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
				ck_assert_msg(r->nr != never[i] || r->err,
					      "%s allows system call %d", sc_classes[c].name,
					      r->nr);
			if (r->err)
				continue;
			/* these only with a look at their arguments */
			if (r->nr == SCMP_SYS(ioctl) || r->nr == SCMP_SYS(socket) ||
			    r->nr == SCMP_SYS(clone) || r->nr == SCMP_SYS(openat) ||
			    r->nr == SCMP_SYS(mmap) || r->nr == SCMP_SYS(mprotect))
				ck_assert_msg(r->test != SC_ANY, "%s: any %d", sc_classes[c].name,
					      r->nr);
			if (r->nr == SCMP_SYS(socket))
				ck_assert_uint_eq(r->value, AF_UNIX);
			if (r->nr == SCMP_SYS(clone))
				ck_assert(r->mask == CLONE_THREAD && r->value == CLONE_THREAD);
			if (r->nr == SCMP_SYS(mmap) || r->nr == SCMP_SYS(mprotect))
				ck_assert(r->arg == 2 && r->mask == PROT_EXEC && r->value == 0);
			if (r->nr == SCMP_SYS(openat))
				ck_assert(r->test == SC_ARG_MASK && r->value != O_RDONLY);
		}
}
END_TEST

START_TEST(report_line)
{
	char buf[160];
	size_t n = sc_report_line(buf, sizeof(buf), "vcpu", 135, "personality");
	ck_assert_str_eq(buf, "husk-vmm: seccomp: the vcpu thread made a forbidden system call: "
			      "135 (personality); the VMM ends\n");
	ck_assert_uint_eq(n, strlen(buf));
	sc_report_line(buf, sizeof(buf), "main", 0, "read");
	ck_assert_ptr_nonnull(strstr(buf, "call: 0 (read)"));
	sc_report_line(buf, sizeof(buf), "event", -7, "?");
	ck_assert_ptr_nonnull(strstr(buf, "call: -7 (?)"));
	/* cut short, still one whole line */
	char small[24];
	n = sc_report_line(small, sizeof(small), "vcpu", 135, "personality");
	ck_assert_uint_eq(n, sizeof(small) - 1);
	ck_assert_int_eq(small[n - 1], '\n');
	ck_assert_int_eq(small[n], '\0');
	ck_assert_uint_eq(sc_report_line(small, 1, "vcpu", 1, "write"), 0);
}
END_TEST

START_TEST(names_resolved)
{
	ck_assert_str_eq(sc_syscall_name(SCMP_SYS(write)), "?"); /* not yet */
	ck_assert_int_eq(sc_enable(), 0);
	ck_assert(sc_enabled());
	ck_assert_str_eq(sc_syscall_name(SCMP_SYS(write)), "write");
	ck_assert_str_eq(sc_syscall_name(SCMP_SYS(ioctl)), "ioctl");
	ck_assert_str_eq(sc_syscall_name(-1), "?");
	ck_assert_str_eq(sc_syscall_name(100000), "?");
}
END_TEST

START_TEST(disabled_means_no_filter)
{
	char name[16] = { 0 };
	ck_assert(!sc_enabled());
	ck_assert_int_eq(sc_enter(SC_EVENT), 0);
	ck_assert_int_eq(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
	prctl(PR_GET_NAME, name, 0, 0, 0);
	ck_assert_str_eq(name, "husk-event");
}
END_TEST

/* A child with class c's filter runs fn; its status and what it wrote to stderr and the console. */
static int sc_child(enum sc_class c, void (*fn)(void), char *err, size_t errlen, char *con,
		    size_t conlen)
{
	int pe[2], pc[2], st;
	ck_assert_int_eq(pipe(pe), 0);
	ck_assert_int_eq(pipe(pc), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pe[1], STDERR_FILENO);
		if (sc_enable() < 0)
			_exit(100);
		sc_set_console_fd(pc[1]);
		if (sc_enter(c) < 0)
			_exit(101);
		fn();
		_exit(0);
	}
	close(pe[1]);
	close(pc[1]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ssize_t n = read(pe[0], err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	n = read(pc[0], con, conlen - 1);
	con[n > 0 ? n : 0] = '\0';
	close(pe[0]);
	close(pc[0]);
	return st;
}

static void sc_forbidden(void)
{
	syscall(SYS_personality, 0xffffffffUL);
	_exit(3); /* not reached */
}

START_TEST(forbidden_call_reported)
{
	char err[256], con[256];
	int st = sc_child(SC_VCPU, sc_forbidden, err, sizeof(err), con, sizeof(con));
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGSYS, "status %#x: %s", st, err);
	const char *line = "husk-vmm: seccomp: the vcpu thread made a forbidden system call: "
			   "135 (personality); the VMM ends\n";
	ck_assert_str_eq(err, line);
	ck_assert_str_eq(con, line);
}
END_TEST

static void sc_event_work(void)
{
	char b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		_exit(4);
	/* glibc's overcommit check: refused, not trapped */
	if (open("/proc/sys/vm/overcommit_memory", O_RDONLY | O_CLOEXEC) != -1 || errno != EACCES)
		_exit(5);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		_exit(6);
	close(fd);
	socket(AF_INET, SOCK_STREAM, 0); /* not a Unix socket: trapped */
	_exit(7);
}

START_TEST(allowed_calls_pass)
{
	char err[256], con[256];
	int st = sc_child(SC_EVENT, sc_event_work, err, sizeof(err), con, sizeof(con));
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGSYS, "status %#x: %s", st, err);
	ck_assert_ptr_nonnull(
		strstr(err, "the event thread made a forbidden system call: 41 (socket)"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("seccomp");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, every_rule_is_known_and_explained);
	tcase_add_test(tc, no_class_may_escape);
	tcase_add_test(tc, report_line);
	tcase_add_test(tc, names_resolved);
	tcase_add_test(tc, disabled_means_no_filter);
	tcase_add_test(tc, forbidden_call_reported);
	tcase_add_test(tc, allowed_calls_pass);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
