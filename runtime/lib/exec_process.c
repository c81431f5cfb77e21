/* husk exec's options and process object (see exec_process.h). */
#include "exec_process.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "husk/path.h"
#include "husk/spec.h"

int exec_opts_parse(int argc, char **argv, struct exec_opts *o, struct husk_err *e)
{
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 's' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },
		{ "no-new-privs", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:e:u:td", opts, NULL)) != -1) {
		switch (c) {
		case 'p': o->process_file = optarg; break;
		case 's': o->console_socket = optarg; break;
		case 'P': o->pid_file = optarg; break;
		case 'w': o->cwd = optarg; break;
		case 'u': o->user = optarg; break;
		case 't': o->tty = true; break;
		case 'd': o->detach = true; break;
		case 'n': o->no_new_privs = true; break;
		case 'e':
			if (o->nenv == EXEC_MAX_ENV)
				return husk_err_set(e, E2BIG, "more than %d --env", EXEC_MAX_ENV);
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return husk_err_set(e, EINVAL, "--env \"%s\": not KEY=VALUE",
						    optarg);
			o->env[o->nenv++] = optarg;
			break;
		default:
			if (optopt)
				return husk_err_set(e, EINVAL,
						    "-%c: unknown option or missing value", optopt);
			return husk_err_set(e, EINVAL, "%s: unknown option or missing value",
					    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return husk_err_set(e, EINVAL, "a container id, please");
	o->id = argv[optind];
	o->args = argv + optind + 1;
	o->nargs = argc - optind - 1;
	if (!o->process_file && o->nargs == 0)
		return husk_err_set(e, EINVAL, "a command to run, or --process FILE, please");
	return 0;
}

/* "UID" or "UID:GID", decimal. */
static int exec_parse_user(const char *s, json_t *user, struct husk_err *e)
{
	char *end;
	errno = 0;
	unsigned long long uid = strtoull(s, &end, 10), gid = 0;
	bool has_gid = false;
	if (end == s || errno || uid > UINT32_MAX || s[0] == '-')
		goto bad;
	if (*end == ':') {
		const char *g = end + 1;
		gid = strtoull(g, &end, 10);
		if (end == g || errno || gid > UINT32_MAX || g[0] == '-')
			goto bad;
		has_gid = true;
	}
	if (*end)
		goto bad;
	json_object_set_new(user, "uid", json_integer((json_int_t)uid));
	if (has_gid)
		json_object_set_new(user, "gid", json_integer((json_int_t)gid));
	return 0;
bad:
	return husk_err_set(e, EINVAL, "--user \"%s\": UID[:GID] in numbers, please", s);
}

/* KEY=VALUE replaces KEY's entry in env, or is appended. */
static int exec_set_env(json_t *env, const char *kv)
{
	size_t klen = (size_t)(strchr(kv, '=') - kv) + 1, i;
	json_t *v;
	json_array_foreach (env, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, kv, klen))
			return json_array_set_new(env, i, json_string(kv));
	}
	return json_array_append_new(env, json_string(kv));
}

static int exec_overrides(json_t *p, const struct exec_opts *o, struct husk_err *e)
{
	json_t *args = json_array();
	for (int i = 0; i < o->nargs; i++)
		json_array_append_new(args, json_string(o->args[i]));
	json_object_set_new(p, "args", args);
	json_object_set_new(p, "terminal", json_boolean(o->tty));
	json_object_del(p, "consoleSize");
	if (o->cwd)
		json_object_set_new(p, "cwd", json_string(o->cwd));
	if (o->no_new_privs)
		json_object_set_new(p, "noNewPrivileges", json_true());
	if (o->nenv) {
		json_t *env = json_object_get(p, "env");
		if (!json_is_array(env)) {
			env = json_array();
			json_object_set_new(p, "env", env);
		}
		for (size_t i = 0; i < o->nenv; i++)
			if (exec_set_env(env, o->env[i]) < 0)
				return husk_err_set(e, ENOMEM, "out of memory");
	}
	if (o->user) {
		json_t *user = json_object_get(p, "user");
		if (!json_is_object(user)) {
			user = json_object();
			json_object_set_new(p, "user", user);
		}
		json_object_del(user, "username");
		return exec_parse_user(o->user, user, e);
	}
	return 0;
}

int exec_process_build(const json_t *base, const struct exec_opts *o, json_t **out,
		       struct husk_err *e)
{
	struct spec_process check = { 0 };
	*out = NULL;
	if (!json_is_object(base))
		return husk_err_set(e, EINVAL, "%s: not a process object",
				    o->process_file ? o->process_file : "config.json process");
	json_t *p = json_deep_copy(base);
	if (!p)
		return husk_err_set(e, ENOMEM, "out of memory");
	int r = o->process_file ? 0 : exec_overrides(p, o, e);
	if (r == 0 && (r = spec_process_parse(p, &check, e)) < 0 && o->process_file)
		husk_err_wrap(e, "%s", o->process_file);
	spec_process_free(&check);
	if (r < 0) {
		json_decref(p);
		return r;
	}
	*out = p;
	return 0;
}

int exec_process_load(const struct exec_opts *o, const char *bundle, json_t **out,
		      struct husk_err *e)
{
	char path[PATH_MAX];
	json_error_t jerr;

	int r = o->process_file ? path_fmt(e, path, sizeof(path), "%s", o->process_file) :
				  path_fmt(e, path, sizeof(path), "%s/config.json", bundle);
	if (r < 0)
		return r;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return husk_err_set(e, EINVAL, "%s: %s", path, jerr.text);
	r = exec_process_build(o->process_file ? j : json_object_get(j, "process"), o, out, e);
	json_decref(j);
	return r;
}
