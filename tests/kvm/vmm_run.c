#include "vmm_run.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, len = 0, n;
	char *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	if (f) {
		while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
			len += n;
			if (len + 1 == cap) {
				buf = realloc(buf, cap *= 2);
				ck_assert_ptr_nonnull(buf);
			}
		}
		fclose(f);
	}
	buf[len] = '\0';
	return buf;
}

void vmm_start(struct vmm_run *r, const char *const *args)
{
	const char *argv[64];
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/husk-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(r->dir));
	snprintf(r->console, sizeof(r->console), "%s/console", r->dir);
	snprintf(r->errlog, sizeof(r->errlog), "%s/stderr", r->dir);
	snprintf(r->timings, sizeof(r->timings), "%s/timings.json", r->dir);

	argv[n++] = HUSK_VMM_PATH;
	for (; args[n - 1] && n < 62; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;

	r->pid = fork();
	ck_assert_int_ge(r->pid, 0);
	if (r->pid == 0) {
		int out = open(r->console, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(r->errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int in = open("/dev/null", O_RDONLY);
		if (out < 0 || err < 0 || in < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		execv(HUSK_VMM_PATH, (char *const *)argv);
		_exit(127);
	}
}

static bool vmm_reap(struct vmm_run *r, bool block)
{
	int st;
	pid_t p = waitpid(r->pid, &st, block ? 0 : WNOHANG);
	if (p != r->pid)
		return false;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->pid = 0;
	return true;
}

void vmm_wait(struct vmm_run *r, int timeout_s)
{
	time_t end = time(NULL) + timeout_s;
	while (r->pid && !vmm_reap(r, false)) {
		if (time(NULL) >= end) {
			kill(r->pid, SIGKILL);
			vmm_reap(r, true);
			r->status = -1; /* timed out */
			break;
		}
		usleep(50 * 1000);
	}
	free(r->out);
	free(r->err);
	r->out = slurp(r->console);
	r->err = slurp(r->errlog);
}

bool vmm_wait_console(struct vmm_run *r, const char *needle, int timeout_s)
{
	time_t end = time(NULL) + timeout_s;
	while (time(NULL) < end) {
		char *c = slurp(r->console);
		bool found = strstr(c, needle) != NULL;
		free(c);
		if (found)
			return true;
		if (r->pid && vmm_reap(r, false))
			return false;
		sleep(1);
	}
	return false;
}

void vmm_run_args(struct vmm_run *r, const char *const *args, int timeout_s)
{
	vmm_start(r, args);
	vmm_wait(r, timeout_s);
}

void vmm_run_free(struct vmm_run *r)
{
	if (r->pid) {
		kill(r->pid, SIGKILL);
		vmm_reap(r, true);
	}
	unlink(r->console);
	unlink(r->errlog);
	unlink(r->timings);
	rmdir(r->dir);
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

bool kvm_present(void)
{
	if (access("/dev/kvm", F_OK) == 0)
		return true;
	fprintf(stderr, "SKIP: /dev/kvm does not exist on this host\n");
	return false;
}

int kvm_run_in_order(const char *name, int timeout_s, const TTest *const *tests, size_t n)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create(name);
	tcase_set_timeout(tc, timeout_s);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_VERBOSE);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}
