/*
 * husk-agent's process bookkeeping: CREATE, START, EXEC, SIGNAL, WAIT, PS
 * and DELETE over a socketpair, with stand-ins for the guest's
 * operations. A container's "process" is a real child of the test: it
 * speaks the sync protocol of child.h as args[0] says ("sleep": waits to
 * be killed, "exit N": exits N once started, "fail": cannot be set up), so
 * that signals and reaping are real. Its "cgroup" is a directory of the
 * test whose cgroup.procs lists it. Nothing is mounted, nothing cloned
 * into namespaces.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "agent_harness.h"
#include "child.h"

static int fake_prepare(struct container *c, const json_t *payload, struct husk_err *e)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char procs[sizeof(c->cgroup) + 16];
	int n = snprintf(c->cgroup, sizeof(c->cgroup), "%s/husk-agent-test.%d.%s", tmp,
			 (int)getpid(), c->id);
	if (n < 0 || (size_t)n >= sizeof(c->cgroup))
		return husk_err_set(e, ENAMETOOLONG, "TMPDIR is too long for this test");
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", c->cgroup);
	if (mkdir(c->cgroup, 0700) < 0)
		return husk_err_set(e, errno, "%s: %s", c->cgroup, strerror(errno));
	FILE *f = fopen(procs, "w");
	if (!f)
		return husk_err_set(e, errno, "%s: %s", procs, strerror(errno));
	fclose(f);
	return 0;
}

static void fake_release(struct container *c)
{
	char procs[sizeof(c->cgroup) + 16];
	if (!c->cgroup[0])
		return;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", c->cgroup);
	unlink(procs);
	rmdir(c->cgroup);
}

static void fake_child(const struct child_args *ca) __attribute__((noreturn));
static void fake_child(const struct child_args *ca)
{
	const char *prog = ca->proc->args[0];
	sigset_t none;
	char b;

	/* signals as a new program would have them (not the test runner's handlers) */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (!strcmp(prog, "fail")) {
		static const char msg[] = "E2:exec: \"fail\": executable file not found in $PATH";
		send(ca->sync, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
		_exit(1);
	}
	if (send(ca->sync, "R", 1, MSG_NOSIGNAL) != 1 || recv(ca->sync, &b, 1, 0) != 1 || b != 'S')
		_exit(126);
	if (!strcmp(prog, "exit"))
		_exit(ca->proc->nargs > 1 ? atoi(ca->proc->args[1]) : 0);
	close(ca->sync); /* as the real one's is closed on exec */
	for (;;)
		pause();
}

static pid_t fake_clone(struct agent *a, struct container *c, const struct child_args *ca,
			struct husk_err *e)
{
	char procs[sizeof(c->cgroup) + 16];
	pid_t pid = fork();
	if (pid < 0)
		return husk_err_set(e, errno, "fork: %s", strerror(errno));
	if (pid == 0)
		fake_child(ca);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", c->cgroup);
	FILE *f = fopen(procs, "a");
	if (f) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
	return pid;
}

static const struct agent_ops fake_ops = {
	fake_prepare, fake_release, fake_clone, NULL, NULL, NULL
};

/* CREATE c1 running args (a JSON array); its PID. */
static pid_t create(struct harness *h, const char *id, const char *args)
{
	char req[512];
	snprintf(
		req, sizeof(req),
		"{\"id\": \"%s\", \"spec\": {\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/\"},"
		" \"process\": {\"args\": %s, \"cwd\": \"/\"}}}",
		id, args);
	return harness_create(h, req);
}

/* WAIT's reply must say `key` (exit_code or signal) = value. */
static void assert_status(const struct proto_msg *m, const char *key, int value)
{
	ck_assert_uint_eq(m->hdr.type, PROTO_OK);
	ck_assert_int_eq(json_integer_value(json_object_get(m->payload, key)), value);
}

START_TEST(create_start_ps_signal_wait_delete)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &fake_ops);
	pid_t pid = create(&h, "c1", "[\"sleep\"]");
	ck_assert_str_eq(ctr_state_name(h.a.containers->procs->state), "created");
	harness_call_error(&h, PROTO_EXEC, "{\"id\": \"c1\", \"exec\": \"e1\", \"process\": {}}",
			   "container not running: c1 is created");
	harness_call_ok(&h, PROTO_START, "{\"id\": \"c1\"}");
	harness_call_error(&h, PROTO_START, "{\"id\": \"c1\"}", "c1 is running, not created");

	harness_call(&h, PROTO_PS, "{\"id\": \"c1\"}", &m);
	ck_assert_uint_eq(m.hdr.type, PROTO_OK);
	json_t *pids = json_object_get(m.payload, "pids");
	ck_assert_uint_eq(json_array_size(pids), 1);
	ck_assert_int_eq(json_integer_value(json_array_get(pids, 0)), pid);
	ck_assert_uint_eq(json_array_size(json_object_get(m.payload, "commands")), 1);
	proto_msg_free(&m);

	uint32_t wait = harness_send(&h, PROTO_WAIT, "{\"id\": \"c1\"}");
	harness_call_ok(&h, PROTO_SIGNAL, "{\"id\": \"c1\", \"signal\": 15}");
	harness_recv_on(&h, h.client, &m);
	ck_assert_uint_eq(m.hdr.id, wait);
	assert_status(&m, "signal", SIGTERM);
	proto_msg_free(&m);
	ck_assert_int_eq(kill(pid, 0), -1); /* reaped */

	/* a stopped process: WAIT answers at once, SIGNAL refuses */
	harness_call(&h, PROTO_WAIT, "{\"id\": \"c1\"}", &m);
	assert_status(&m, "signal", SIGTERM);
	proto_msg_free(&m);
	harness_call_error(&h, PROTO_SIGNAL, "{\"id\": \"c1\", \"signal\": 9}",
			   "c1 is not running");
	harness_call_error(&h, PROTO_SIGNAL, "{\"id\": \"c1\", \"exec\": \"e9\", \"signal\": 9}",
			   "container c1 has no exec e9");
	harness_call_error(&h, PROTO_START, "{\"id\": \"c1\"}", "c1 is stopped, not created");

	harness_call_ok(&h, PROTO_DELETE, "{\"id\": \"c1\"}");
	ck_assert_ptr_null(h.a.containers);
	harness_call_error(&h, PROTO_WAIT, "{\"id\": \"c1\"}", "container c1 does not exist");
	harness_fini(&h);
}
END_TEST

START_TEST(wait_reports_the_exit_code)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &fake_ops);
	create(&h, "c1", "[\"exit\", \"3\"]");
	uint32_t wait = harness_send(&h, PROTO_WAIT, "{\"id\": \"c1\"}");
	uint32_t start = harness_send(&h, PROTO_START, "{\"id\": \"c1\"}");
	bool waited = false, started = false;
	for (int i = 0; i < 2; i++) {
		harness_recv_on(&h, h.client, &m);
		if (m.hdr.id == wait) {
			assert_status(&m, "exit_code", 3);
			waited = true;
		} else {
			ck_assert_uint_eq(m.hdr.id, start);
			ck_assert_uint_eq(m.hdr.type, PROTO_OK);
			started = true;
		}
		proto_msg_free(&m);
	}
	ck_assert(waited && started);
	ck_assert(!ctr_running(h.a.containers));
	harness_fini(&h);
}
END_TEST

START_TEST(delete_of_a_running_container_needs_force)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &fake_ops);
	pid_t pid = create(&h, "c1", "[\"sleep\"]");
	harness_call_ok(&h, PROTO_START, "{\"id\": \"c1\"}");
	harness_call_error(&h, PROTO_DELETE, "{\"id\": \"c1\"}",
			   "container c1 is running: stop it first");
	ck_assert_int_eq(kill(pid, 0), 0);

	uint32_t wait = harness_send(&h, PROTO_WAIT, "{\"id\": \"c1\"}");
	harness_call_ok(&h, PROTO_DELETE, "{\"id\": \"c1\", \"force\": true}");
	harness_recv_on(&h, h.client, &m);
	ck_assert_uint_eq(m.hdr.id, wait);
	assert_status(&m, "signal", SIGKILL);
	proto_msg_free(&m);
	ck_assert_ptr_null(h.a.containers); /* destroyed once reaped */
	harness_fini(&h);
}
END_TEST

START_TEST(create_twice_is_refused)
{
	struct harness h;
	harness_init(&h, &fake_ops);
	create(&h, "c1", "[\"sleep\"]");
	harness_call_error(
		&h, PROTO_CREATE,
		"{\"id\": \"c1\", \"spec\": {\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/\"},"
		" \"process\": {\"args\": [\"sleep\"], \"cwd\": \"/\"}}}",
		"container c1 already exists");
	harness_fini(&h);
}
END_TEST

START_TEST(a_process_that_cannot_be_set_up_fails_create_and_leaves_nothing)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &fake_ops);
	harness_call(
		&h, PROTO_CREATE,
		"{\"id\": \"c1\", \"spec\": {\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/\"},"
		" \"process\": {\"args\": [\"fail\"], \"cwd\": \"/\"}}}",
		&m);
	harness_assert_error(&m, "exec: \"fail\": executable file not found in $PATH");
	ck_assert_int_eq(json_integer_value(json_object_get(m.payload, "errno")), ENOENT);
	proto_msg_free(&m);
	for (int i = 0; i < HARNESS_STEPS && h.a.containers; i++)
		srv_step(&h.a, 10);
	ck_assert_ptr_null(h.a.containers);
	harness_fini(&h);
}
END_TEST

START_TEST(exec_runs_at_once_and_is_waited_for_by_name)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &fake_ops);
	create(&h, "c1", "[\"sleep\"]");
	harness_call_ok(&h, PROTO_START, "{\"id\": \"c1\"}");
	harness_call(&h, PROTO_EXEC,
		     "{\"id\": \"c1\", \"exec\": \"e1\", \"process\": {\"args\": [\"exit\", \"5\"],"
		     " \"cwd\": \"/\"}}",
		     &m);
	ck_assert_uint_eq(m.hdr.type, PROTO_OK);
	ck_assert_int_gt(json_integer_value(json_object_get(m.payload, "pid")), 0);
	proto_msg_free(&m);
	harness_call_error(
		&h, PROTO_EXEC,
		"{\"id\": \"c1\", \"exec\": \"e1\", \"process\": {\"args\": [\"sleep\"]}}",
		"exec e1 already exists in c1");
	harness_call(&h, PROTO_WAIT, "{\"id\": \"c1\", \"exec\": \"e1\"}", &m);
	assert_status(&m, "exit_code", 5);
	proto_msg_free(&m);
	/* the container's own process still runs */
	ck_assert(ctr_running(h.a.containers));
	ck_assert_int_ne(h.a.containers->procs->state, PROC_EXITED);
	harness_call_error(&h, PROTO_RESIZE, "{\"id\": \"c1\", \"rows\": 24, \"cols\": 80}",
			   "c1 has no terminal");
	harness_fini(&h);
}
END_TEST

START_TEST(signal_all_reaches_every_process_of_the_cgroup)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &fake_ops);
	create(&h, "c1", "[\"sleep\"]");
	harness_call_ok(&h, PROTO_START, "{\"id\": \"c1\"}");
	uint32_t wait = harness_send(&h, PROTO_WAIT, "{\"id\": \"c1\"}");
	harness_call_ok(&h, PROTO_SIGNAL, "{\"id\": \"c1\", \"signal\": 2, \"all\": true}");
	harness_recv_on(&h, h.client, &m);
	ck_assert_uint_eq(m.hdr.id, wait);
	assert_status(&m, "signal", SIGINT);
	proto_msg_free(&m);
	harness_fini(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent_procs");
	TCase *tc = tcase_create("procs");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, create_start_ps_signal_wait_delete);
	tcase_add_test(tc, wait_reports_the_exit_code);
	tcase_add_test(tc, delete_of_a_running_container_needs_force);
	tcase_add_test(tc, create_twice_is_refused);
	tcase_add_test(tc, a_process_that_cannot_be_set_up_fails_create_and_leaves_nothing);
	tcase_add_test(tc, exec_runs_at_once_and_is_waited_for_by_name);
	tcase_add_test(tc, signal_all_reaches_every_process_of_the_cgroup);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
