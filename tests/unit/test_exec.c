/* husk exec's command line and the process object it builds, as runc does. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "exec_process.h"
#include "unit.h"

#define ARGV(...) ((char *[]){ "exec", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "exec", __VA_ARGS__ }) / sizeof(char *)))
/* The options point into argv: keep it in the test's own array `av`, not a scoped literal. */
#define PARSE(o, e, ...) \
	exec_opts_parse(ARGC(__VA_ARGS__), keep(av, ARGV(__VA_ARGS__), ARGC(__VA_ARGS__)), o, e)

static char **keep(char **dst, char **src, int n)
{
	memcpy(dst, src, (size_t)(n + 1) * sizeof(char *));
	return dst;
}

static json_t *base_process(void)
{
	return json_pack("{s:b,s:{s:i,s:i,s:s},s:[s],s:[s,s],s:s,s:{s:i,s:i}}", "terminal", 1,
			 "user", "uid", 0, "gid", 0, "username", "root", "args", "init", "env",
			 "PATH=/bin", "HOME=/root", "cwd", "/", "consoleSize", "height", 10,
			 "width", 20);
}

START_TEST(engine_argv_parses)
{
	struct exec_opts o;
	struct husk_err e = { 0 };
	char *av[32];
	/* conmon's */
	ck_assert_int_eq(PARSE(&o, &e, "--pid-file", "/x/exec_pid", "--process", "/x/p.json",
			       "--detach", "--tty", "--console-socket", "/tmp/conmon-term.X",
			       "cid"),
			 0);
	ck_assert_str_eq(o.id, "cid");
	ck_assert_str_eq(o.pid_file, "/x/exec_pid");
	ck_assert_str_eq(o.process_file, "/x/p.json");
	ck_assert_str_eq(o.console_socket, "/tmp/conmon-term.X");
	ck_assert(o.detach && o.tty);
	ck_assert_int_eq(o.nargs, 0);
	/* containerd's shim's */
	ck_assert_int_eq(PARSE(&o, &e, "--process", "/tmp/runc-process1", "--detach", "--pid-file",
			       "/t/e1.pid", "a3"),
			 0);
	ck_assert(o.detach && !o.tty && !o.console_socket);
	/* options stop at the id: the command's own options are its own */
	ck_assert_int_eq(PARSE(&o, &e, "-t", "-e", "A=1", "--env=B=2", "-u", "5:6", "--cwd", "/tmp",
			       "c1", "sh", "-c", "echo -e hi"),
			 0);
	ck_assert_str_eq(o.id, "c1");
	ck_assert_int_eq(o.nargs, 3);
	ck_assert_str_eq(o.args[1], "-c");
	ck_assert_int_eq((int)o.nenv, 2);
	ck_assert_str_eq(o.env[1], "B=2");
	ck_assert_str_eq(o.user, "5:6");
	ck_assert_str_eq(o.cwd, "/tmp");
}
END_TEST

START_TEST(bad_argv_is_refused)
{
	struct exec_opts o;
	struct husk_err e = { 0 };
	char *av[32];
	ck_assert_int_eq(PARSE(&o, &e, "--bogus", "c1", "true"), -EINVAL);
	ck_assert_msg(strstr(e.msg, "--bogus"), "%s", e.msg);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(PARSE(&o, &e, "c1"), -EINVAL); /* no command, no --process */
	ck_assert_msg(strstr(e.msg, "command"), "%s", e.msg);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(PARSE(&o, &e, "-t"), -EINVAL); /* no id */
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(PARSE(&o, &e, "-e", "NOEQUALS", "c1", "true"), -EINVAL);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(PARSE(&o, &e, "-e", "=x", "c1", "true"), -EINVAL);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(PARSE(&o, &e, "c1", "--process"), 0); /* after the id: the command */
	ck_assert_int_eq(PARSE(&o, &e, "--process"), -EINVAL); /* missing value */
}
END_TEST

START_TEST(args_build_on_the_container_process)
{
	struct exec_opts o;
	struct husk_err e = { 0 };
	char *av[32];
	json_t *base = base_process(), *p = NULL;
	ck_assert_int_eq(PARSE(&o, &e, "-e", "HOME=/tmp", "-e", "X=y", "-u", "1000:100", "--cwd",
			       "/var", "c1", "sh", "-c", "exit 5"),
			 0);
	ck_assert_int_eq(exec_process_build(base, &o, &p, &e), 0);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(p, "args"), 2)),
			 "exit 5");
	ck_assert(json_is_false(json_object_get(p, "terminal"))); /* no --tty */
	ck_assert_ptr_null(json_object_get(p, "consoleSize"));
	ck_assert_str_eq(json_string_value(json_object_get(p, "cwd")), "/var");
	json_t *env = json_object_get(p, "env");
	ck_assert_int_eq(json_array_size(env), 3);
	ck_assert_str_eq(json_string_value(json_array_get(env, 1)), "HOME=/tmp");
	ck_assert_str_eq(json_string_value(json_array_get(env, 2)), "X=y");
	json_t *user = json_object_get(p, "user");
	ck_assert_int_eq(json_integer_value(json_object_get(user, "uid")), 1000);
	ck_assert_int_eq(json_integer_value(json_object_get(user, "gid")), 100);
	ck_assert_ptr_null(json_object_get(user, "username"));
	/* the config itself is untouched */
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(base, "args"), 0)),
			 "init");
	json_decref(p);

	ck_assert_int_eq(PARSE(&o, &e, "-t", "-u", "7", "c1", "top"), 0);
	ck_assert_int_eq(exec_process_build(base, &o, &p, &e), 0);
	ck_assert(json_is_true(json_object_get(p, "terminal")));
	user = json_object_get(p, "user");
	ck_assert_int_eq(json_integer_value(json_object_get(user, "uid")), 7);
	ck_assert_int_eq(json_integer_value(json_object_get(user, "gid")), 0);
	json_decref(p);
	json_decref(base);
}
END_TEST

START_TEST(bad_overrides_and_processes_are_refused)
{
	struct exec_opts o;
	struct husk_err e = { 0 };
	char *av[32];
	json_t *base = base_process(), *p = NULL;
	static const char *const users[] = { "x", "1:", ":1", "-1", "1:2:3", "99999999999", "1 " };
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		memset(&e, 0, sizeof(e));
		ck_assert_int_eq(PARSE(&o, &e, "-u", (char *)users[i], "c1", "true"), 0);
		ck_assert_int_eq(exec_process_build(base, &o, &p, &e), -EINVAL);
		ck_assert_ptr_null(p);
		ck_assert_msg(strstr(e.msg, "--user"), "%s: %s", users[i], e.msg);
	}
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(PARSE(&o, &e, "--cwd", "relative", "c1", "true"), 0);
	ck_assert_int_eq(exec_process_build(base, &o, &p, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "cwd"), "%s", e.msg);

	/* a --process file is taken as it is, and checked */
	ck_assert_int_eq(PARSE(&o, &e, "--process", "p.json", "c1"), 0);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(exec_process_build(base, &o, &p, &e), 0);
	ck_assert(json_is_true(json_object_get(p, "terminal")));
	ck_assert_int_eq(
		json_integer_value(json_object_get(json_object_get(p, "consoleSize"), "width")),
		20);
	json_decref(p);
	json_t *bad = json_pack("{s:[]}", "args");
	memset(&e, 0, sizeof(e));
	ck_assert_int_lt(exec_process_build(bad, &o, &p, &e), 0);
	ck_assert_msg(strstr(e.msg, "p.json"), "%s", e.msg);
	json_decref(bad);
	bad = json_string("not an object");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(exec_process_build(bad, &o, &p, &e), -EINVAL);
	json_decref(bad);
	json_decref(base);
}
END_TEST

START_TEST(process_files_are_read)
{
	char dir[] = "/tmp/husk-exec-XXXXXX", path[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.json", dir);
	struct exec_opts o;
	struct husk_err e = { 0 };
	json_t *p = NULL;
	char *argv[] = { "exec", "--process", path, "c1", NULL };
	ck_assert_int_eq(exec_opts_parse(4, argv, &o, &e), 0);
	ck_assert_int_eq(exec_process_load(&o, dir, &p, &e), -EINVAL); /* not there */
	FILE *f = fopen(path, "w");
	fputs("{\"args\": [\"true\"], \"cwd\": \"/\"", f); /* cut short */
	fclose(f);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(exec_process_load(&o, dir, &p, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, path), "%s", e.msg);
	f = fopen(path, "w");
	fputs("{\"args\": [\"true\"], \"cwd\": \"/\"}", f);
	fclose(f);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(exec_process_load(&o, dir, &p, &e), 0);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(p, "args"), 0)), "true");
	json_decref(p);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("exec");
	tcase_add_test(tc, engine_argv_parses);
	tcase_add_test(tc, bad_argv_is_refused);
	tcase_add_test(tc, args_build_on_the_container_process);
	tcase_add_test(tc, bad_overrides_and_processes_are_refused);
	tcase_add_test(tc, process_files_are_read);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
