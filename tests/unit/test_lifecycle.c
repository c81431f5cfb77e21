/*
 * husk's lifecycle, as its commands call it (lib/lifecycle.h, pause.h, ps.h,
 * update.h, exec.h, info.h), against a fake husk-vmm (fake_vmm.c): the state
 * a container goes through, runc's refusals, the pid file, and nothing left
 * behind. No KVM, and no agent: what needs one is not tested here.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "info.h"
#include "lifecycle.h"
#include "netns_child.h"
#include "pause.h"
#include "ps.h"
#include "state.h"
#include "template.h"
#include "templates.h"
#include "update.h"
#include "unit.h"

struct lc {
	char root[64], bundle[96], log[96];
	struct husk_global g;
	struct husk_create_opts o;
};

static void lc_setup(struct lc *t)
{
	char config[160];
	snprintf(t->root, sizeof(t->root), "/tmp/husk-lc-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->root));
	snprintf(t->bundle, sizeof(t->bundle), "%s/bundle", t->root);
	ck_assert_int_eq(mkdir(t->bundle, 0700), 0);
	snprintf(config, sizeof(config), "%s/config.json", t->bundle);
	FILE *f = fopen(config, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": [\"true\"]},"
	      " \"root\": {\"path\": \"rootfs\"},"
	      " \"linux\": {\"namespaces\": [{\"type\": \"network\"}]}}\n",
	      f);
	fclose(f);
	snprintf(t->log, sizeof(t->log), "%s/log", t->root);
	t->g = (struct husk_global){ .root = t->root, .log = t->log };
	t->o = (struct husk_create_opts){ .bundle = t->bundle, .detach = true };
	setenv("HUSK_VMM", FAKE_VMM_PATH, 1);
	unsetenv("FAKE_VMM_ERROR");
	unsetenv("FAKE_VMM_ARGV");
	/* the templates of the test's own (the default is the host's /var/cache) */
	char templates[96];
	snprintf(templates, sizeof(templates), "%s/templates", t->root);
	setenv("HUSK_TEMPLATE_DIR", templates, 1);
}

static void lc_teardown(struct lc *t)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->root);
	ck_assert_int_eq(system(cmd), 0);
}

static const char *lc_status(struct lc *t, const char *id)
{
	struct husk_state st;
	struct husk_err e = { 0 };
	if (state_load(&t->g, id, &st, &e) < 0)
		return "gone";
	return state_status(&st);
}

/* The log holds this text (the last report's words, as engines read them). */
static bool lc_logged(struct lc *t, const char *text)
{
	char buf[8192] = { 0 };
	FILE *f = fopen(t->log, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

START_TEST(create_start_kill_delete)
{
	struct lc t;
	struct husk_state st;
	char pid_file[128], buf[32] = { 0 };
	int status;

	lc_setup(&t);
	snprintf(pid_file, sizeof(pid_file), "%s/pid", t.root);
	t.o.pid_file = pid_file;
	ck_assert_int_eq(husk_create(&t.g, "c1", &t.o, &st), 0);
	ck_assert_int_gt(st.pid, 0);
	FILE *f = fopen(pid_file, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_int_eq(atoi(buf), st.pid);
	ck_assert_str_eq(lc_status(&t, "c1"), "created");

	/* the id is taken */
	struct husk_state again;
	ck_assert_int_eq(husk_create(&t.g, "c1", &t.o, &again), -EEXIST);

	ck_assert_int_eq(husk_start(&t.g, "c1"), 0);
	ck_assert_str_eq(lc_status(&t, "c1"), "running");
	ck_assert_int_eq(husk_start(&t.g, "c1"), -EINVAL);
	ck_assert(lc_logged(&t, "start c1: cannot start an already running container"));
	/* a running container is not deleted without --force */
	ck_assert_int_eq(husk_delete(&t.g, "c1", false), -EBUSY);
	ck_assert(lc_logged(&t, "cannot delete container c1 that is not stopped: running"));

	ck_assert_int_eq(husk_kill(&t.g, "c1", "SIGKILL", false), 0);
	ck_assert_int_eq(waitpid(st.pid, &status, 0), st.pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 128 + SIGKILL);
	ck_assert_str_eq(lc_status(&t, "c1"), "stopped");
	/* runc's words for a finished container, which containerd relies on */
	ck_assert_int_eq(husk_kill(&t.g, "c1", "TERM", false), -ESRCH);
	ck_assert(lc_logged(&t, "kill c1: " HUSK_ERR_NOT_RUNNING));
	ck_assert_int_eq(husk_kill(&t.g, "c1", "TERM", true), 0);
	ck_assert_int_eq(husk_start(&t.g, "c1"), -EINVAL);
	ck_assert(lc_logged(&t, "cannot start a container that has stopped"));

	ck_assert_int_eq(husk_delete(&t.g, "c1", false), 0);
	ck_assert_str_eq(lc_status(&t, "c1"), "gone");
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/c1", t.root);
	ck_assert_int_eq(access(dir, F_OK), -1);
	lc_teardown(&t);
}
END_TEST

START_TEST(kill_signal_names)
{
	struct lc t;
	struct husk_state st;
	int status;

	lc_setup(&t);
	ck_assert_int_eq(husk_create(&t.g, "c2", &t.o, &st), 0);
	ck_assert_int_eq(husk_kill(&t.g, "c2", "NOSUCH", false), -EINVAL);
	ck_assert(lc_logged(&t, "kill: unknown signal \"NOSUCH\""));
	ck_assert_str_eq(lc_status(&t, "c2"), "created");
	/* a created container takes a signal too; NULL is TERM */
	ck_assert_int_eq(husk_kill(&t.g, "c2", NULL, false), 0);
	ck_assert_int_eq(waitpid(st.pid, &status, 0), st.pid);
	ck_assert_int_eq(WEXITSTATUS(status), 128 + SIGTERM);
	ck_assert_int_eq(husk_delete(&t.g, "c2", false), 0);
	ck_assert_int_eq(husk_parse_signal("9"), 9);
	ck_assert_int_eq(husk_parse_signal("hup"), SIGHUP);
	ck_assert_int_eq(husk_parse_signal("65"), -1);
	lc_teardown(&t);
}
END_TEST

START_TEST(force_delete_ends_the_vmm)
{
	struct lc t;
	struct husk_state st;

	lc_setup(&t);
	ck_assert_int_eq(husk_run(&t.g, "c3", &t.o), 0); /* detached */
	struct husk_err e = { 0 };
	ck_assert_int_eq(state_load(&t.g, "c3", &st, &e), 0);
	ck_assert_str_eq(lc_status(&t, "c3"), "running");
	ck_assert_int_eq(husk_delete(&t.g, "c3", true), 0);
	/* SIGTERM ended it; the delete reaped it, its child */
	ck_assert_int_eq(kill(st.pid, 0), -1);
	ck_assert_str_eq(lc_status(&t, "c3"), "gone");
	/* as runc: a forced delete of what is not there succeeds, a plain one does not */
	ck_assert_int_eq(husk_delete(&t.g, "c3", true), 0);
	ck_assert_int_eq(husk_delete(&t.g, "c3", false), -ENOENT);
	ck_assert(lc_logged(&t, "delete c3: " HUSK_ERR_NOT_EXIST));
	lc_teardown(&t);
}
END_TEST

START_TEST(vmm_error_leaves_nothing)
{
	struct lc t;
	struct husk_state st;
	char dir[128];

	lc_setup(&t);
	setenv("FAKE_VMM_ERROR", "no room for the guest", 1);
	ck_assert_int_eq(husk_create(&t.g, "c4", &t.o, &st), -EIO);
	ck_assert(lc_logged(&t, "create c4: no room for the guest"));
	snprintf(dir, sizeof(dir), "%s/c4", t.root);
	ck_assert_int_eq(access(dir, F_OK), -1);
	/* a bundle without config.json: refused before any VM */
	unsetenv("FAKE_VMM_ERROR");
	t.o.bundle = t.root;
	ck_assert_int_lt(husk_create(&t.g, "c4", &t.o, &st), 0);
	ck_assert(lc_logged(&t, "create c4: "));
	ck_assert_int_eq(access(dir, F_OK), -1);
	lc_teardown(&t);
}
END_TEST

START_TEST(run_attached_returns_the_status)
{
	struct lc t;
	lc_setup(&t);
	/* the fake's workload never ends by itself: a kill from outside ends it */
	pid_t killer = fork();
	ck_assert_int_ge(killer, 0);
	if (killer == 0) {
		for (int i = 0; i < 500; i++) {
			usleep(10000);
			if (!strcmp(lc_status(&t, "c5"), "running"))
				_exit(husk_kill(&t.g, "c5", "HUP", false) ? 1 : 0);
		}
		_exit(2);
	}
	t.o.detach = false;
	ck_assert_int_eq(husk_run(&t.g, "c5", &t.o), 128 + SIGHUP);
	int status;
	ck_assert_int_eq(waitpid(killer, &status, 0), killer);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_str_eq(lc_status(&t, "c5"), "gone");
	lc_teardown(&t);
}
END_TEST

/* The container's workload ends of a KILL; the VMM, the test's child, reaped. */
static void lc_stop(struct lc *t, const char *id, const struct husk_state *st)
{
	int status;
	ck_assert_int_eq(husk_kill(&t->g, id, "KILL", false), 0);
	ck_assert_int_eq(waitpid(st->pid, &status, 0), st->pid);
	ck_assert_str_eq(lc_status(t, id), "stopped");
}

START_TEST(pause_resume_and_refusals)
{
	struct lc t;
	struct husk_state st;

	lc_setup(&t);
	ck_assert_int_eq(husk_pause(&t.g, "nosuch"), -ENOENT);
	ck_assert(lc_logged(&t, "pause nosuch: " HUSK_ERR_NOT_EXIST));
	ck_assert_int_eq(husk_create(&t.g, "p1", &t.o, &st), 0);
	/* what is not paused cannot resume, in runc's words */
	ck_assert_int_eq(husk_resume(&t.g, "p1"), -EINVAL);
	ck_assert(lc_logged(&t, "resume p1: " HUSK_ERR_NOT_PAUSED));
	ck_assert_int_eq(husk_start(&t.g, "p1"), 0);
	ck_assert_int_eq(husk_pause(&t.g, "p1"), 0);
	ck_assert_str_eq(lc_status(&t, "p1"), "paused");
	/* what is paused is not running: no second pause, no start */
	ck_assert_int_eq(husk_pause(&t.g, "p1"), -ESRCH);
	ck_assert(lc_logged(&t, "pause p1: " HUSK_ERR_NOT_RUNNING));
	ck_assert_int_eq(husk_start(&t.g, "p1"), -EINVAL);
	ck_assert(lc_logged(&t, "cannot start a container in the paused state"));
	ck_assert_int_eq(husk_resume(&t.g, "p1"), 0);
	ck_assert_str_eq(lc_status(&t, "p1"), "running");
	lc_stop(&t, "p1", &st);
	ck_assert_int_eq(husk_pause(&t.g, "p1"), -ESRCH);
	ck_assert_int_eq(husk_resume(&t.g, "p1"), -EINVAL);
	ck_assert_int_eq(husk_delete(&t.g, "p1", false), 0);
	lc_teardown(&t);
}
END_TEST

/* What husk_ps wrote, as a string the caller frees. */
static char *lc_ps(struct lc *t, const char *id, bool json, int *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	*r = husk_ps(&t->g, id, json, f);
	fclose(f);
	return buf;
}

START_TEST(ps_lists_what_the_host_sees)
{
	struct lc t;
	struct husk_state st;
	char want[32];
	int r;

	lc_setup(&t);
	char *out = lc_ps(&t, "nosuch", false, &r);
	ck_assert_int_eq(r, -ENOENT);
	ck_assert_str_eq(out, "");
	free(out);
	ck_assert(lc_logged(&t, "ps nosuch: " HUSK_ERR_NOT_EXIST));
	ck_assert_int_eq(husk_create(&t.g, "s1", &t.o, &st), 0);
	/* as JSON: husk-vmm's PID, the one host process of the container */
	out = lc_ps(&t, "s1", true, &r);
	ck_assert_int_eq(r, 0);
	snprintf(want, sizeof(want), "[%d]\n", (int)st.pid);
	ck_assert_str_eq(out, want);
	free(out);
	/* a paused guest cannot list its processes */
	ck_assert_int_eq(husk_pause(&t.g, "s1"), 0);
	out = lc_ps(&t, "s1", false, &r);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_str_eq(out, "");
	free(out);
	ck_assert(lc_logged(&t, "ps s1: cannot list the processes of a paused container"));
	ck_assert_int_eq(husk_resume(&t.g, "s1"), 0);
	/* stopped, as runc: nothing runs, and that is no error */
	lc_stop(&t, "s1", &st);
	out = lc_ps(&t, "s1", false, &r);
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(out, "PID      CMD\n");
	free(out);
	out = lc_ps(&t, "s1", true, &r);
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(out, "[]\n");
	free(out);
	ck_assert_int_eq(husk_delete(&t.g, "s1", false), 0);
	lc_teardown(&t);
}
END_TEST

START_TEST(update_refusals)
{
	struct lc t;
	struct husk_state st;
	struct spec_resources none = { .memory_limit = -1, .pids_limit = -1, .cpu_quota = -1 };
	struct spec_resources res = none;
	char file[128];

	lc_setup(&t);
	ck_assert_int_eq(husk_update(&t.g, "nosuch", NULL, &res), -ENOENT);
	ck_assert(lc_logged(&t, "update nosuch: " HUSK_ERR_NOT_EXIST));
	ck_assert_int_eq(husk_create(&t.g, "u1", &t.o, &st), 0);
	/* nothing asked, nothing done */
	ck_assert_int_eq(husk_update(&t.g, "u1", NULL, &res), 0);
	/* the VM's RAM is fixed: the default VM holds 96 MiB for the container */
	res.memory_limit = 200LL << 20;
	ck_assert_int_eq(husk_update(&t.g, "u1", NULL, &res), -EOPNOTSUPP);
	ck_assert(lc_logged(&t, "update u1: a memory limit of 200 MiB is more than this "
				"container's VM holds (96 MiB)"));
	/* CPU limits need the VM's host cgroup, and this config.json has none */
	res = none;
	res.cpu_quota = 50000;
	ck_assert_int_eq(husk_update(&t.g, "u1", NULL, &res), -EOPNOTSUPP);
	ck_assert(lc_logged(&t, "update u1: CPU limits need the VM's host cgroup"));
	/* a paused guest takes no limits */
	ck_assert_int_eq(husk_pause(&t.g, "u1"), 0);
	res = none;
	res.pids_limit = 10;
	ck_assert_int_eq(husk_update(&t.g, "u1", NULL, &res), -EBUSY);
	ck_assert(lc_logged(&t, "update u1: container \"u1\" is paused: resume it first"));
	/* --resources: read over the command line's, its errors named by the file */
	snprintf(file, sizeof(file), "%s/resources.json", t.root);
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"memory\": {\"limit\": 1073741824}}", f);
	fclose(f);
	res = none;
	ck_assert_int_eq(husk_update(&t.g, "u1", file, &res), -EOPNOTSUPP);
	ck_assert(lc_logged(&t, "update u1: a memory limit of 1024 MiB"));
	ck_assert_int_eq(husk_update(&t.g, "u1", t.bundle, &res), -EINVAL);
	ck_assert(lc_logged(&t, "update u1: --resources "));
	ck_assert_int_eq(husk_resume(&t.g, "u1"), 0);
	/* a stopped container: runc's words */
	lc_stop(&t, "u1", &st);
	res = none;
	res.memory_limit = 64LL << 20;
	ck_assert_int_eq(husk_update(&t.g, "u1", NULL, &res), -ESRCH);
	ck_assert(lc_logged(&t, "update u1: " HUSK_ERR_NOT_RUNNING));
	ck_assert_int_eq(husk_delete(&t.g, "u1", false), 0);
	lc_teardown(&t);
}
END_TEST

START_TEST(exec_only_in_a_running_container)
{
	struct lc t;
	struct husk_state st;
	char *args[] = { "true", NULL };
	struct exec_opts o = { .id = "nosuch", .args = args, .nargs = 1 };

	lc_setup(&t);
	ck_assert_int_eq(husk_exec(&t.g, &o), -ENOENT);
	ck_assert(lc_logged(&t, "exec nosuch: exec failed: " HUSK_ERR_NOT_EXIST));
	ck_assert_int_eq(husk_create(&t.g, "e1", &t.o, &st), 0);
	o.id = "e1";
	ck_assert_int_eq(husk_exec(&t.g, &o), -ESRCH);
	ck_assert(lc_logged(&t, "exec e1: exec failed: cannot exec in a created container"));
	ck_assert_int_eq(husk_start(&t.g, "e1"), 0);
	ck_assert_int_eq(husk_pause(&t.g, "e1"), 0);
	ck_assert_int_eq(husk_exec(&t.g, &o), -ESRCH);
	ck_assert(lc_logged(&t, "exec e1: exec failed: cannot exec in a paused container"));
	ck_assert_int_eq(husk_resume(&t.g, "e1"), 0);
	lc_stop(&t, "e1", &st);
	ck_assert_int_eq(husk_exec(&t.g, &o), -ESRCH);
	ck_assert(lc_logged(
		&t,
		"exec e1: exec failed: cannot exec in a stopped container: " HUSK_ERR_NOT_RUNNING));
	ck_assert_int_eq(husk_delete(&t.g, "e1", false), 0);
	lc_teardown(&t);
}
END_TEST

START_TEST(state_and_list)
{
	struct lc t;
	struct husk_state st;
	json_t *j = NULL;

	lc_setup(&t);
	ck_assert_int_eq(husk_state(&t.g, "nosuch", &j), -ENOENT);
	ck_assert(lc_logged(&t, "state nosuch: " HUSK_ERR_NOT_EXIST));
	json_t *all = husk_list(&t.g);
	ck_assert_int_eq(json_array_size(all), 0);
	json_decref(all);
	ck_assert_int_eq(husk_create(&t.g, "l1", &t.o, &st), 0);
	ck_assert_int_eq(husk_state(&t.g, "l1", &j), 0);
	ck_assert_str_eq(json_string_value(json_object_get(j, "ociVersion")), HUSK_OCI_VERSION);
	ck_assert_str_eq(json_string_value(json_object_get(j, "id")), "l1");
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "created");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), st.pid);
	ck_assert_str_eq(json_string_value(json_object_get(j, "bundle")), st.bundle);
	ck_assert(json_is_object(json_object_get(j, "annotations")));
	json_decref(j);
	all = husk_list(&t.g);
	ck_assert_int_eq(json_array_size(all), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(all, 0), "id")), "l1");
	json_decref(all);
	/* stopped: pid 0, as the runtime spec has it */
	lc_stop(&t, "l1", &st);
	ck_assert_int_eq(husk_state(&t.g, "l1", &j), 0);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "stopped");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), 0);
	json_decref(j);
	ck_assert_int_eq(husk_delete(&t.g, "l1", false), 0);
	lc_teardown(&t);
}
END_TEST

/* The bundle's config.json with these "linux" and "hooks" members (JSON text). */
static void lc_config(struct lc *t, const char *linux_json, const char *hooks_json)
{
	char config[160];
	snprintf(config, sizeof(config), "%s/config.json", t->bundle);
	FILE *f = fopen(config, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": [\"true\"]},"
		" \"root\": {\"path\": \"rootfs\"}, \"annotations\": {\"a\": \"b\"},"
		" \"linux\": %s, \"hooks\": %s}\n",
		linux_json, hooks_json ? hooks_json : "{}");
	fclose(f);
}

/* A file under the test's root, as a string the caller frees ("" when absent). */
static char *lc_read(struct lc *t, const char *name)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", t->root, name);
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	ck_assert_ptr_nonnull(buf);
	if (f) {
		size_t n = fread(buf, 1, 65535, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

/* A hook entry: sh -c SCRIPT with the kind as $0, in the test's root. */
static int lc_hook(char *out, size_t len, struct lc *t, const char *kind, const char *script)
{
	return snprintf(
		out, len,
		"\"%s\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"cd %s && %s\","
		" \"%s\"], \"timeout\": 10}]",
		kind, t->root, script, kind);
}

/* Each kind of hook, at its moment, with the state as the runtime spec has it. */
START_TEST(hooks_in_order)
{
	static const char *const kinds[] = { "prestart",       "createRuntime", "createContainer",
					     "startContainer", "poststart",	"poststop" };
	static const char *const status[] = { "creating", "creating", "creating",
					      "created",  "running",  "stopped" };
	struct lc t;
	struct husk_state st;
	char hooks[4096] = "{", *p = hooks + 1;

	lc_setup(&t);
	for (size_t i = 0; i < 6; i++) {
		p += lc_hook(p, sizeof(hooks) - (size_t)(p - hooks) - 2, &t, kinds[i],
			     "(echo $0; cat; echo) >> order");
		*p++ = i < 5 ? ',' : '}';
	}
	*p = '\0';
	lc_config(&t, "{\"namespaces\": [{\"type\": \"network\"}]}", hooks);
	ck_assert_int_eq(husk_create(&t.g, "h1", &t.o, &st), 0);
	char *got = lc_read(&t, "order");
	ck_assert_int_eq(strncmp(got, "prestart\n", 9), 0);
	ck_assert_ptr_null(strstr(got, "startContainer"));
	free(got);
	ck_assert_int_eq(husk_start(&t.g, "h1"), 0);
	lc_stop(&t, "h1", &st);
	ck_assert_int_eq(husk_delete(&t.g, "h1", false), 0);
	got = lc_read(&t, "order");
	/* six entries: the kind, then its state JSON on one line */
	char *save = NULL, *line = strtok_r(got, "\n", &save);
	for (size_t i = 0; i < 6; i++) {
		ck_assert_msg(line && !strcmp(line, kinds[i]), "hook %zu: %s", i, line);
		json_t *j = json_loads(strtok_r(NULL, "\n", &save), 0, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert_str_eq(json_string_value(json_object_get(j, "status")), status[i]);
		ck_assert_str_eq(json_string_value(json_object_get(j, "id")), "h1");
		ck_assert_str_eq(json_string_value(json_object_get(j, "ociVersion")),
				 HUSK_OCI_VERSION);
		ck_assert_str_eq(json_string_value(json_object_get(j, "bundle")), t.bundle);
		ck_assert_str_eq(
			json_string_value(json_object_get(json_object_get(j, "annotations"), "a")),
			"b");
		/* husk-vmm's PID while it lives; 0 once stopped */
		ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), i < 5 ? st.pid : 0);
		json_decref(j);
		line = strtok_r(NULL, "\n", &save);
	}
	ck_assert_ptr_null(line);
	free(got);
	lc_teardown(&t);
}
END_TEST

/* A failing create hook fails the create and leaves nothing; poststop still runs. */
START_TEST(failing_create_hook_leaves_nothing)
{
	static const char *const kinds[] = { "prestart", "createRuntime", "createContainer" };
	for (size_t k = 0; k < 3; k++) {
		struct lc t;
		struct husk_state st;
		char hooks[2048], *p = hooks, dir[128];
		lc_setup(&t);
		p += sprintf(p, "{");
		p += lc_hook(p, 900, &t, kinds[k], "cat > state; echo no network >&2; exit 1");
		p += sprintf(p, ", ");
		p += lc_hook(p, 900, &t, "poststop", "touch poststop");
		sprintf(p, "}");
		lc_config(&t, "{\"namespaces\": [{\"type\": \"network\"}]}", hooks);
		ck_assert_int_eq(husk_create(&t.g, "h2", &t.o, &st), -EIO);
		char want[128];
		snprintf(want, sizeof(want),
			 "create h2: %s hook #0 (/bin/sh): exit status 1: no network", kinds[k]);
		ck_assert_msg(lc_logged(&t, want), "%s", want);
		/* the VMM the hook saw is gone, and so is every trace */
		char *state = lc_read(&t, "state");
		json_t *j = json_loads(state, 0, NULL);
		ck_assert_ptr_nonnull(j);
		pid_t pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
		ck_assert_int_gt(pid, 0);
		ck_assert_int_eq(kill(pid, 0), -1);
		json_decref(j);
		free(state);
		snprintf(dir, sizeof(dir), "%s/h2", t.root);
		ck_assert_int_eq(access(dir, F_OK), -1);
		snprintf(dir, sizeof(dir), "%s/poststop", t.root);
		ck_assert_int_eq(access(dir, F_OK), 0);
		lc_teardown(&t);
	}
}
END_TEST

/* startContainer failing fails the start and stops the container; poststart fails quietly. */
START_TEST(start_hooks_failures)
{
	struct lc t;
	struct husk_state st;
	char hooks[2048], *p = hooks;

	lc_setup(&t);
	p += sprintf(p, "{");
	p += lc_hook(p, 900, &t, "startContainer", "exit 2");
	sprintf(p, "}");
	lc_config(&t, "{\"namespaces\": [{\"type\": \"network\"}]}", hooks);
	ck_assert_int_eq(husk_create(&t.g, "h3", &t.o, &st), 0);
	ck_assert_int_eq(husk_start(&t.g, "h3"), -EIO);
	ck_assert(lc_logged(&t, "start h3: startContainer hook #0 (/bin/sh): exit status 2"));
	ck_assert_str_eq(lc_status(&t, "h3"), "stopped");
	ck_assert_int_eq(husk_delete(&t.g, "h3", false), 0);
	ck_assert_str_eq(lc_status(&t, "h3"), "gone");

	p = hooks;
	p += sprintf(p, "{");
	p += lc_hook(p, 900, &t, "poststart", "exit 3");
	sprintf(p, "}");
	lc_config(&t, "{\"namespaces\": [{\"type\": \"network\"}]}", hooks);
	ck_assert_int_eq(husk_create(&t.g, "h4", &t.o, &st), 0);
	ck_assert_int_eq(husk_start(&t.g, "h4"), 0);
	ck_assert(lc_logged(&t, "start h4: poststart hook #0 (/bin/sh): exit status 3"));
	ck_assert_str_eq(lc_status(&t, "h4"), "running");
	lc_stop(&t, "h4", &st);
	ck_assert_int_eq(husk_delete(&t.g, "h4", false), 0);
	lc_teardown(&t);
}
END_TEST

/* The inode of a namespace file, as "net:[N]". */
static void lc_ns(const char *path, char *out, size_t len)
{
	ssize_t n = readlink(path, out, len - 1);
	ck_assert_int_gt(n, 0);
	out[n] = '\0';
}

/* Host networking is refused before anything is made; husk-vmm lives in the container's netns. */
START_TEST(network_namespaces)
{
	struct lc t;
	struct husk_state st;
	char dir[128], linux_json[256], ours[64], vmm[64], path[64];

	lc_setup(&t);
	snprintf(dir, sizeof(dir), "%s/n1", t.root);
	static const char *const host[] = {
		"{}",
		"{\"namespaces\": [{\"type\": \"pid\"}]}",
		"{\"namespaces\": [{\"type\": \"network\", \"path\": \"/proc/self/ns/net\"}]}",
	};
	for (size_t i = 0; i < 3; i++) {
		lc_config(&t, host[i], NULL);
		ck_assert_int_eq(husk_create(&t.g, "n1", &t.o, &st), -EOPNOTSUPP);
		ck_assert(lc_logged(&t, "create n1: host networking is not possible: a container "
					"in a VM cannot share the host's network; use a network "
					"namespace of its own (for example --network none or the "
					"engine's default network)"));
		ck_assert_int_eq(access(dir, F_OK), -1);
	}
	lc_config(&t,
		  "{\"namespaces\": [{\"type\": \"network\", \"path\": \"/proc/self/ns/uts\"}]}",
		  NULL);
	ck_assert_int_eq(husk_create(&t.g, "n1", &t.o, &st), -EINVAL);
	ck_assert(lc_logged(&t, "create n1: /proc/self/ns/uts is not a network namespace"));
	lc_config(&t, "{\"namespaces\": [{\"type\": \"network\", \"path\": \"/nonexistent\"}]}",
		  NULL);
	ck_assert_int_eq(husk_create(&t.g, "n1", &t.o, &st), -ENOENT);
	ck_assert(lc_logged(&t, "create n1: network namespace /nonexistent: No such file"));
	ck_assert_int_eq(access(dir, F_OK), -1);

	/* no path: a new namespace of husk-vmm's own */
	lc_ns("/proc/self/ns/net", ours, sizeof(ours));
	lc_config(&t, "{\"namespaces\": [{\"type\": \"network\"}]}", NULL);
	ck_assert_int_eq(husk_create(&t.g, "n1", &t.o, &st), 0);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)st.pid);
	lc_ns(path, vmm, sizeof(vmm));
	ck_assert_str_ne(vmm, ours);
	ck_assert_int_eq(husk_delete(&t.g, "n1", true), 0);

	/* a path (Podman's): husk-vmm joins it */
	pid_t other = netns_child();
	char theirs[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)other);
	lc_ns(path, theirs, sizeof(theirs));
	snprintf(linux_json, sizeof(linux_json),
		 "{\"namespaces\": [{\"type\": \"network\", \"path\": \"%s\"}]}", path);
	lc_config(&t, linux_json, NULL);
	ck_assert_int_eq(husk_create(&t.g, "n1", &t.o, &st), 0);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)st.pid);
	lc_ns(path, vmm, sizeof(vmm));
	ck_assert_str_eq(vmm, theirs);
	ck_assert_int_eq(husk_delete(&t.g, "n1", true), 0);
	netns_child_end(other);
	lc_teardown(&t);
}
END_TEST

/* Write config.json with these annotations (a JSON object). */
static void lc_annotations(struct lc *t, const char *annotations)
{
	char config[160];
	snprintf(config, sizeof(config), "%s/config.json", t->bundle);
	FILE *f = fopen(config, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": [\"true\"]},"
		" \"root\": {\"path\": \"rootfs\"}, \"annotations\": %s,"
		" \"linux\": {\"namespaces\": [{\"type\": \"network\"}]}}\n",
		annotations);
	fclose(f);
}

/* Create c1 and delete it; husk-vmm's arguments, one a line, for the caller to free. */
static char *lc_vmm_args(struct lc *t)
{
	struct husk_state st;
	char path[128];
	snprintf(path, sizeof(path), "%s/argv", t->root);
	unlink(path);
	setenv("FAKE_VMM_ARGV", path, 1);
	ck_assert_int_eq(husk_create(&t->g, "c1", &t->o, &st), 0);
	ck_assert_int_eq(husk_delete(&t->g, "c1", true), 0);
	unsetenv("FAKE_VMM_ARGV");
	return lc_read(t, "argv");
}

/*
 * husk-vmm hears of the templates: the cache directory (--template-dir,
 * else $HUSK_TEMPLATE_DIR; made, 0700), or --no-template with
 * --no-templates or the annotation io.husk.template=cold.
 */
START_TEST(templates_passed_on)
{
	struct lc t;
	char want[160], dir[128];
	struct husk_state st;
	struct stat sb;

	lc_setup(&t);
	/* the environment's */
	char *args = lc_vmm_args(&t);
	snprintf(want, sizeof(want), "\n--template-dir\n%s/templates\n", t.root);
	ck_assert_msg(strstr(args, want), "%s", args);
	ck_assert_ptr_null(strstr(args, "--no-template\n"));
	free(args);
	snprintf(dir, sizeof(dir), "%s/templates", t.root);
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_int_eq(sb.st_mode & 07777, 0700);

	/* the option's, over the environment's */
	snprintf(dir, sizeof(dir), "%s/opt/templates", t.root);
	t.g.template_dir = dir;
	args = lc_vmm_args(&t);
	snprintf(want, sizeof(want), "\n--template-dir\n%s\n", dir);
	ck_assert_msg(strstr(args, want), "%s", args);
	free(args);
	ck_assert_int_eq(access(dir, F_OK), 0);

	/* --no-templates: none for any container */
	t.g.no_templates = true;
	args = lc_vmm_args(&t);
	ck_assert_msg(strstr(args, "\n--no-template\n"), "%s", args);
	ck_assert_ptr_null(strstr(args, "--template-dir"));
	free(args);
	t.g.no_templates = false;

	/* the annotation: none for this one */
	lc_annotations(&t, "{\"io.husk.template\": \"cold\", \"a\": \"b\"}");
	args = lc_vmm_args(&t);
	ck_assert_msg(strstr(args, "\n--no-template\n"), "%s", args);
	ck_assert_ptr_null(strstr(args, "--template-dir"));
	free(args);
	/* another value: refused before anything is made */
	lc_annotations(&t, "{\"io.husk.template\": \"warm\"}");
	ck_assert_int_eq(husk_create(&t.g, "c1", &t.o, &st), -EINVAL);
	ck_assert(lc_logged(&t, "annotation io.husk.template: \"cold\" is its one value"));
	ck_assert_str_eq(lc_status(&t, "c1"), "gone");

	/* a cache directory that cannot be: said, with the way out */
	lc_annotations(&t, "{}");
	snprintf(dir, sizeof(dir), "%s/bundle/config.json/x", t.root);
	t.g.template_dir = dir;
	ck_assert_int_eq(husk_create(&t.g, "c1", &t.o, &st), -ENOTDIR);
	ck_assert(lc_logged(&t, "create c1: templates (or --no-templates): template directory "));
	ck_assert_str_eq(lc_status(&t, "c1"), "gone");
	lc_teardown(&t);
}
END_TEST

/* husk's global --no-seccomp reaches husk-vmm; without it, no such option. */
START_TEST(no_seccomp_passed_on)
{
	struct lc t;

	lc_setup(&t);
	char *args = lc_vmm_args(&t);
	ck_assert_ptr_null(strstr(args, "--no-seccomp"));
	free(args);
	t.g.no_seccomp = true;
	args = lc_vmm_args(&t);
	ck_assert_msg(strstr(args, "\n--no-seccomp\n"), "%s", args);
	free(args);
	/* with --no-templates too: the options that end the list */
	t.g.no_templates = true;
	args = lc_vmm_args(&t);
	ck_assert_msg(strstr(args, "\n--no-template\n--no-seccomp\n"), "%s", args);
	free(args);
	lc_teardown(&t);
}
END_TEST

/* A template's two files, as a build would leave them. */
static int lc_build(void *ctx, const char *tmpdir, struct husk_err *e)
{
	char path[PATH_MAX];
	(void)ctx;
	(void)e;
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, i ? "memory" : "state");
		FILE *f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs("x", f);
		fclose(f);
	}
	return 0;
}

/* What `husk templates ls` and `rm` do, over the cache --template-dir names. */
START_TEST(templates_ls_rm)
{
	static const struct tpl_ops ops = { .build = lc_build };
	struct lc t;
	struct husk_err e = { 0 };
	char cache[128], dir[PATH_MAX];
	json_t *all;

	lc_setup(&t);
	snprintf(cache, sizeof(cache), "%s/tpl", t.root);
	t.g.template_dir = cache;
	/* none yet: the directory is made, the list empty */
	ck_assert_int_eq(husk_templates_list(&t.g, &all), 0);
	ck_assert_uint_eq(json_array_size(all), 0);
	json_decref(all);
	ck_assert_int_eq(tpl_acquire(cache, "bb", &ops, NULL, dir, sizeof(dir), NULL, &e), 0);
	ck_assert_int_eq(tpl_acquire(cache, "aa", &ops, NULL, dir, sizeof(dir), NULL, &e), 0);
	ck_assert_int_eq(tpl_acquire(cache, "cc", &ops, NULL, dir, sizeof(dir), NULL, &e), 0);
	ck_assert_int_eq(husk_templates_list(&t.g, &all), 0);
	ck_assert_uint_eq(json_array_size(all), 3);
	json_t *first = json_array_get(all, 0);
	ck_assert_str_eq(json_string_value(json_object_get(first, "key")), "aa");
	ck_assert_int_gt(json_integer_value(json_object_get(first, "bytes")), 0);
	ck_assert_int_ge(json_integer_value(json_object_get(first, "age")), 0);
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(first, "created"))), 20);
	json_decref(all);

	/* an unknown key is said, and the others go all the same */
	char *keys[] = { "aa", "zz" };
	ck_assert_int_eq(husk_templates_rm(&t.g, keys, 2, false), -ENOENT);
	ck_assert(lc_logged(&t, "templates rm: no template zz"));
	ck_assert_int_eq(husk_templates_list(&t.g, &all), 0);
	ck_assert_uint_eq(json_array_size(all), 2);
	json_decref(all);
	ck_assert_int_eq(husk_templates_rm(&t.g, NULL, 0, true), 0);
	ck_assert_int_eq(husk_templates_list(&t.g, &all), 0);
	ck_assert_uint_eq(json_array_size(all), 0);
	json_decref(all);
	lc_teardown(&t);
}
END_TEST

START_TEST(spec_writes_once)
{
	struct lc t;
	char dir[128];

	lc_setup(&t);
	snprintf(dir, sizeof(dir), "%s/new", t.root);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(husk_spec(&t.g, dir, true), 0);
	ck_assert_int_eq(husk_spec(&t.g, dir, false), -EEXIST);
	ck_assert(lc_logged(&t, "/new/config.json exists"));
	/* what it wrote is a config.json husk takes */
	t.o.bundle = dir;
	struct husk_state st;
	ck_assert_int_eq(husk_create(&t.g, "w1", &t.o, &st), 0);
	ck_assert_int_eq(husk_delete(&t.g, "w1", true), 0);
	json_t *f = husk_features();
	ck_assert_str_eq(json_string_value(json_object_get(f, "ociVersionMax")), HUSK_OCI_VERSION);
	json_decref(f);
	lc_teardown(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc = tcase_create("fake vmm");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, create_start_kill_delete);
	tcase_add_test(tc, kill_signal_names);
	tcase_add_test(tc, force_delete_ends_the_vmm);
	tcase_add_test(tc, vmm_error_leaves_nothing);
	tcase_add_test(tc, run_attached_returns_the_status);
	tcase_add_test(tc, pause_resume_and_refusals);
	tcase_add_test(tc, ps_lists_what_the_host_sees);
	tcase_add_test(tc, update_refusals);
	tcase_add_test(tc, exec_only_in_a_running_container);
	tcase_add_test(tc, state_and_list);
	tcase_add_test(tc, spec_writes_once);
	tcase_add_test(tc, hooks_in_order);
	tcase_add_test(tc, failing_create_hook_leaves_nothing);
	tcase_add_test(tc, start_hooks_failures);
	tcase_add_test(tc, network_namespaces);
	tcase_add_test(tc, templates_passed_on);
	tcase_add_test(tc, no_seccomp_passed_on);
	tcase_add_test(tc, templates_ls_rm);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
