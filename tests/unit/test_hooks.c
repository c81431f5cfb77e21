/*
 * The OCI hook runner (runtime/lib/hooks.c) and the "hooks" parser
 * (common/spec_hooks.c), with /bin/sh scripts as hooks: what a hook gets on
 * stdin, its args and env, a timeout that kills it, a failing or missing
 * hook named in the error, the network namespace the container-namespace
 * kinds join, and hooks.json kept in a state directory. No KVM.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "netns_child.h"
#include "unit.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/husk-hooks-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The hooks of config.json's "hooks" object, written as JSON text. */
static void parse(const char *text, struct spec_hooks *h)
{
	json_error_t jerr;
	struct husk_err e = { 0 };
	json_t *j = json_loads(text, 0, &jerr);
	ck_assert_msg(j != NULL, "bad test JSON: %s", jerr.text);
	ck_assert_msg(spec_hooks_parse(j, h, &e) == 0, "%s", e.msg);
	json_decref(j);
}

/* A file's content (at most 4 KiB), "" when it does not exist. */
static const char *slurp(const char *name)
{
	static char buf[4096];
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return buf;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* One hook: /bin/sh -c SCRIPT in the test's directory, with more JSON members. */
static int run_sh(const char *script, const char *more, const char *state, struct husk_err *e)
{
	char text[2048];
	struct spec_hooks h;
	snprintf(
		text, sizeof(text),
		"{\"prestart\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"cd %s && %s\"]%s}]}",
		dir, script, more ? more : "");
	parse(text, &h);
	int r = hooks_run(&h, SPEC_HOOK_PRESTART, state, 0, e);
	spec_hooks_free(&h);
	return r;
}

START_TEST(state_on_stdin)
{
	struct husk_err e = { 0 };
	const char *state = "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\","
			    "\"pid\":42,\"bundle\":\"/b\"}";
	setup();
	ck_assert_int_eq(run_sh("cat > got", NULL, state, &e), 0);
	ck_assert_str_eq(slurp("got"), state);
	/* a state larger than a pipe holds, and a hook that never reads it */
	size_t big = 1 << 20;
	char *s = malloc(big + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, 'x', big);
	s[big] = '\0';
	ck_assert_int_eq(run_sh("echo ignored > got", NULL, s, &e), 0);
	ck_assert_str_eq(slurp("got"), "ignored\n");
	ck_assert_int_eq(run_sh("wc -c > got", NULL, s, &e), 0);
	ck_assert_int_eq(atol(slurp("got")), (long)big);
	free(s);
	teardown();
}
END_TEST

START_TEST(args_and_env)
{
	struct husk_err e = { 0 };
	setup();
	/* env given: exactly that (the shell's environ, not its variables: dash sets a PATH) */
	ck_assert_int_eq(
		run_sh("echo $0 $1 $FOO > got; tr \\\"\\\\\\\\0\\\" , < /proc/$$/environ > env\", \"zero\", \"one",
		       ", \"env\": [\"FOO=bar\", \"X=y\"]", "{}", &e),
		0);
	ck_assert_str_eq(slurp("got"), "zero one bar\n");
	ck_assert_str_eq(slurp("env"), "FOO=bar,X=y,");
	/* env absent: husk's own */
	setenv("HUSK_HOOK_TEST", "inherited", 1);
	ck_assert_int_eq(run_sh("echo $HUSK_HOOK_TEST > got", NULL, "{}", &e), 0);
	ck_assert_str_eq(slurp("got"), "inherited\n");
	unsetenv("HUSK_HOOK_TEST");
	/* args absent: argv is the path alone */
	char script[128], text[256];
	snprintf(script, sizeof(script), "%s/hook.sh", dir);
	FILE *f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\necho \"$0 $#\" > %s/got\n", dir);
	fclose(f);
	ck_assert_int_eq(chmod(script, 0755), 0);
	snprintf(text, sizeof(text), "{\"poststop\": [{\"path\": \"%s\"}]}", script);
	struct spec_hooks h;
	parse(text, &h);
	ck_assert_str_eq(h.list[SPEC_HOOK_POSTSTOP][0].args[0], script);
	ck_assert_ptr_null(h.list[SPEC_HOOK_POSTSTOP][0].args[1]);
	ck_assert_int_eq(hooks_run(&h, SPEC_HOOK_POSTSTOP, "{}", 0, &e), 0);
	char want[160];
	snprintf(want, sizeof(want), "%s 0\n", script);
	ck_assert_str_eq(slurp("got"), want);
	/* a kind with no hooks runs nothing */
	ck_assert_int_eq(hooks_run(&h, SPEC_HOOK_PRESTART, "{}", 0, &e), 0);
	spec_hooks_free(&h);
	teardown();
}
END_TEST

START_TEST(timeout_kills)
{
	struct husk_err e = { 0 };
	struct timespec t0, t1;
	setup();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(run_sh("echo $$ > pid; exec sleep 30", ", \"timeout\": 1", "{}", &e),
			 -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(took >= 0.9 && took < 5, "took %.2f s", took);
	ck_assert_msg(strstr(e.msg, "prestart hook #0 (/bin/sh): killed after its timeout of 1 s"),
		      "%s", e.msg);
	pid_t pid = atoi(slurp("pid"));
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill(pid, 0), -1); /* killed and reaped */
	/* within its timeout: no error */
	struct husk_err e2 = { 0 };
	ck_assert_int_eq(run_sh("true", ", \"timeout\": 5", "{}", &e2), 0);
	teardown();
}
END_TEST

START_TEST(failures_are_named)
{
	struct husk_err e = { 0 };
	setup();
	ck_assert_int_eq(run_sh("echo oops >&2; echo more; exit 3", NULL, "{}", &e), -EIO);
	ck_assert_str_eq(e.msg, "prestart hook #0 (/bin/sh): exit status 3: oops more");
	struct husk_err e2 = { 0 };
	ck_assert_int_eq(run_sh("kill -9 $$", NULL, "{}", &e2), -EIO);
	ck_assert_str_eq(e2.msg, "prestart hook #0 (/bin/sh): killed by signal 9");
	/* a missing program */
	struct spec_hooks h;
	struct husk_err e3 = { 0 };
	parse("{\"createRuntime\": [{\"path\": \"/nonexistent/hook\", \"args\": [\"h\"]}]}", &h);
	ck_assert_int_eq(hooks_run(&h, SPEC_HOOK_CREATE_RUNTIME, "{}", 0, &e3), -ENOENT);
	ck_assert_str_eq(e3.msg,
			 "createRuntime hook #0 (/nonexistent/hook): No such file or directory");
	spec_hooks_free(&h);
	/* the first failure stops the kind: the second hook never runs */
	char text[512];
	struct husk_err e4 = { 0 };
	snprintf(text, sizeof(text),
		 "{\"prestart\": [{\"path\": \"/bin/false\"},"
		 " {\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"touch %s/second\"]}]}",
		 dir);
	parse(text, &h);
	ck_assert_int_eq(hooks_run(&h, SPEC_HOOK_PRESTART, "{}", 0, &e4), -EIO);
	ck_assert_str_eq(e4.msg, "prestart hook #0 (/bin/false): exit status 1");
	snprintf(text, sizeof(text), "%s/second", dir);
	ck_assert_int_eq(access(text, F_OK), -1);
	spec_hooks_free(&h);
	teardown();
}
END_TEST

/* createContainer and startContainer run in the VMM's network namespace; the others in husk's. */
START_TEST(container_kinds_join_the_netns)
{
	pid_t other = netns_child();
	setup();
	char text[512], theirs[64], ours[64], link[64];
	snprintf(link, sizeof(link), "/proc/%d/ns/net", (int)other);
	ssize_t n = readlink(link, theirs, sizeof(theirs) - 1);
	ck_assert_int_gt(n, 0);
	theirs[n] = '\0';
	n = readlink("/proc/self/ns/net", ours, sizeof(ours) - 1);
	ck_assert_int_gt(n, 0);
	ours[n] = '\0';
	ck_assert_str_ne(theirs, ours);
	static const enum spec_hook_kind kinds[] = { SPEC_HOOK_PRESTART, SPEC_HOOK_CREATE_CONTAINER,
						     SPEC_HOOK_START_CONTAINER,
						     SPEC_HOOK_POSTSTOP };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct spec_hooks h;
		struct husk_err e = { 0 };
		snprintf(text, sizeof(text),
			 "{\"%s\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\","
			 " \"readlink /proc/self/ns/net > %s/ns\"]}]}",
			 spec_hook_name(kinds[i]), dir);
		parse(text, &h);
		ck_assert_int_eq(hooks_run(&h, kinds[i], "{}", other, &e), 0);
		char want[80];
		bool joins = kinds[i] == SPEC_HOOK_CREATE_CONTAINER ||
			     kinds[i] == SPEC_HOOK_START_CONTAINER;
		snprintf(want, sizeof(want), "%s\n", joins ? theirs : ours);
		ck_assert_str_eq(slurp("ns"), want);
		spec_hooks_free(&h);
	}
	netns_child_end(other);
	/* the VMM gone: the container-namespace hooks cannot run */
	struct spec_hooks h;
	struct husk_err e = { 0 };
	parse("{\"startContainer\": [{\"path\": \"/bin/true\"}]}", &h);
	ck_assert_int_eq(hooks_run(&h, SPEC_HOOK_START_CONTAINER, "{}", other, &e), -ENOENT);
	ck_assert_msg(strstr(e.msg, "startContainer hooks: the container's network namespace"),
		      "%s", e.msg);
	spec_hooks_free(&h);
	teardown();
}
END_TEST

START_TEST(saved_with_the_state)
{
	struct spec_hooks h;
	struct husk_err e = { 0 };
	setup();
	/* none saved: none loaded */
	ck_assert_int_eq(hooks_save(dir, NULL, &e), 0);
	ck_assert_int_eq(hooks_load(dir, &h, &e), 0);
	for (int k = 0; k < SPEC_HOOK_KINDS; k++)
		ck_assert_uint_eq(h.n[k], 0);
	json_t *j = json_pack("{s:[{s:s,s:[s,s],s:[s],s:i}],s:[{s:s}]}", "poststop", "path",
			      "/bin/echo", "args", "echo", "hi", "env", "A=b", "timeout", 7,
			      "prestart", "path", "/bin/true");
	ck_assert_int_eq(hooks_save(dir, j, &e), 0);
	json_decref(j);
	ck_assert_int_eq(hooks_load(dir, &h, &e), 0);
	ck_assert_uint_eq(h.n[SPEC_HOOK_PRESTART], 1);
	ck_assert_uint_eq(h.n[SPEC_HOOK_POSTSTOP], 1);
	const struct spec_hook *p = &h.list[SPEC_HOOK_POSTSTOP][0];
	ck_assert_str_eq(p->path, "/bin/echo");
	ck_assert_str_eq(p->args[1], "hi");
	ck_assert_str_eq(p->env[0], "A=b");
	ck_assert_ptr_null(p->env[1]);
	ck_assert_int_eq(p->timeout, 7);
	spec_hooks_free(&h);
	/* a damaged file is an error, not an empty list */
	char path[128];
	snprintf(path, sizeof(path), "%s/hooks.json", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"prestart\": [{\"path\": 5}]}", f);
	fclose(f);
	ck_assert_int_eq(hooks_load(dir, &h, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "hooks.prestart[0].path: not a string"), "%s", e.msg);
	teardown();
}
END_TEST

/* config.json's "hooks": what is refused, by its JSON path. */
START_TEST(malformed_hooks)
{
	static const char *const bad[][2] = {
		{ "[]", "hooks: not an object" },
		{ "{\"prestart\": {}}", "hooks.prestart: not an array" },
		{ "{\"poststop\": [5]}", "hooks.poststop[0]: not an object" },
		{ "{\"prestart\": [{}]}", "hooks.prestart[0].path: missing" },
		{ "{\"prestart\": [{\"path\": \"bin/x\"}]}",
		  "hooks.prestart[0].path: \"bin/x\" is not an absolute path" },
		{ "{\"createRuntime\": [{\"path\": \"/x\", \"args\": [1]}]}",
		  "hooks.createRuntime[0].args[0]: not a string" },
		{ "{\"startContainer\": [{\"path\": \"/x\", \"env\": [\"A\"]}]}",
		  "hooks.startContainer[0].env[0]: \"A\" is not KEY=VALUE" },
		{ "{\"poststart\": [{\"path\": \"/x\", \"timeout\": 0}]}",
		  "hooks.poststart[0].timeout: 0 is out of range (1..86400)" },
		{ "{\"createContainer\": [{\"path\": \"/x\"}, {\"path\": \"/y\", \"timeout\": -1}]}",
		  "hooks.createContainer[1].timeout: -1 is out of range (1..86400)" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spec_hooks h;
		struct husk_err e = { 0 };
		json_t *j = json_loads(bad[i][0], JSON_DECODE_ANY, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_lt(spec_hooks_parse(j, &h, &e), 0);
		ck_assert_str_eq(e.msg, bad[i][1]);
		for (int k = 0; k < SPEC_HOOK_KINDS; k++)
			ck_assert_ptr_null(h.list[k]);
		json_decref(j);
	}
	/* unknown kinds are ignored, empty lists are none */
	struct spec_hooks h;
	parse("{\"prestart\": [], \"later\": 5}", &h);
	ck_assert_uint_eq(h.n[SPEC_HOOK_PRESTART], 0);
	spec_hooks_free(&h);
	ck_assert_str_eq(spec_hook_name(SPEC_HOOK_CREATE_CONTAINER), "createContainer");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hooks");
	TCase *tc = tcase_create("hooks");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, state_on_stdin);
	tcase_add_test(tc, args_and_env);
	tcase_add_test(tc, timeout_kills);
	tcase_add_test(tc, failures_are_named);
	tcase_add_test(tc, container_kinds_join_the_netns);
	tcase_add_test(tc, saved_with_the_state);
	tcase_add_test(tc, malformed_hooks);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
