/* The state store: one directory per container under --root (see state.h). */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agent_client.h"
#include "husk/path.h"
#include "husk/spec.h"
#include "husk/uds.h"

#define STATE_REPLY_MS (120 * 1000)
#define STATE_AGENT_MS 10000

unsigned long long state_starttime(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long long v = 0;
	/* field 22; after ')' come field 3 onwards */
	if (p && sscanf(p + 2,
			"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			"%*d %*d %*d %*d %llu",
			&v) != 1)
		v = 0;
	return v;
}

int state_create(const struct husk_global *g, const char *id, struct husk_state *st,
		 struct husk_err *e)
{
	memset(st, 0, sizeof(*st));
	if (!spec_id_valid(id))
		return husk_err_set(e, EINVAL, "invalid container id \"%s\"", id);
	/* the root and its parents, as runc makes them (containerd gives /run/containerd/runc/NS) */
	char path[sizeof(st->dir)];
	if (path_fmt(e, path, sizeof(path), "%s", g->root) < 0)
		return husk_err_wrap(e, "--root");
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return husk_err_set(e, errno, "%s: %s", path, strerror(errno));
		*p = c;
		if (!c)
			break;
	}
	snprintf(st->id, sizeof(st->id), "%s", id);
	if (path_fmt(e, st->dir, sizeof(st->dir), "%s/%s", g->root, id) < 0)
		return husk_err_wrap(e, "state directory");
	if (mkdir(st->dir, 0700) < 0)
		return errno == EEXIST ? husk_err_set(e, EEXIST, HUSK_ERR_EXISTS) :
					 husk_err_set(e, errno, "%s: %s", st->dir, strerror(errno));
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(st->created, sizeof(st->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return 0;
}

int state_save(const struct husk_state *st, struct husk_err *e)
{
	char path[sizeof(st->dir) + 32], tmp[sizeof(st->dir) + 32];
	json_t *links = json_array();
	for (unsigned i = 0; links && i < st->n_net_links; i++)
		json_array_append_new(links, json_string(st->net_links[i]));
	json_t *j = json_pack("{s:s,s:s,s:i,s:I,s:s,s:s,s:I,s:s,s:b,s:o}", "id", st->id, "bundle",
			      st->bundle, "pid", (int)st->pid, "starttime",
			      (json_int_t)st->starttime, "created", st->created, "cgroup",
			      st->cgroup, "mem", (json_int_t)st->mem_bytes, "netns", st->netns,
			      "net_attached", st->net_attached, "net_links", links);
	snprintf(path, sizeof(path), "%s/state.json", st->dir);
	snprintf(tmp, sizeof(tmp), "%s/.state.json.tmp", st->dir);
	int r = j && json_dump_file(j, tmp, 0) == 0 && rename(tmp, path) == 0 ? 0 : -EIO;
	json_decref(j);
	if (r < 0)
		unlink(tmp);
	return r < 0 ? husk_err_set(e, EIO, "%s: cannot write", path) : 0;
}

int state_load(const struct husk_global *g, const char *id, struct husk_state *st,
	       struct husk_err *e)
{
	char path[sizeof(st->dir) + 32];
	json_error_t jerr;

	memset(st, 0, sizeof(*st));
	if (!spec_id_valid(id))
		return husk_err_set(e, EINVAL, "invalid container id \"%s\"", id);
	snprintf(st->id, sizeof(st->id), "%s", id);
	if (path_fmt(e, st->dir, sizeof(st->dir), "%s/%s", g->root, id) < 0)
		return husk_err_wrap(e, "state directory");
	snprintf(path, sizeof(path), "%s/state.json", st->dir);
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j) {
		struct stat sb;
		return stat(st->dir, &sb) == 0 ?
			       husk_err_set(e, ENOENT,
					    HUSK_ERR_NOT_EXIST " yet: it is being created") :
			       husk_err_set(e, ENOENT, HUSK_ERR_NOT_EXIST);
	}
	const char *bundle = json_string_value(json_object_get(j, "bundle"));
	const char *created = json_string_value(json_object_get(j, "created"));
	const char *cgroup = json_string_value(json_object_get(j, "cgroup"));
	const char *netns = json_string_value(json_object_get(j, "netns"));
	snprintf(st->created, sizeof(st->created), "%s", created ? created : "");
	/* written by husk from paths that fit: longer ones are not its own */
	if (path_fmt(e, st->cgroup, sizeof(st->cgroup), "%s", cgroup ? cgroup : "") < 0 ||
	    path_fmt(e, st->bundle, sizeof(st->bundle), "%s", bundle ? bundle : "") < 0 ||
	    path_fmt(e, st->netns, sizeof(st->netns), "%s", netns ? netns : "") < 0) {
		json_decref(j);
		return husk_err_wrap(e, "%s", path);
	}
	st->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	st->starttime = (unsigned long long)json_integer_value(json_object_get(j, "starttime"));
	st->mem_bytes = (unsigned long long)json_integer_value(json_object_get(j, "mem"));
	st->net_attached = json_is_true(json_object_get(j, "net_attached"));
	json_t *links = json_object_get(j, "net_links"), *l;
	size_t i;
	json_array_foreach (links, i, l) {
		const char *name = json_string_value(l);
		if (!name || i >= HUSK_STATE_MAX_LINKS || strlen(name) >= sizeof(st->net_links[0]))
			break; /* not husk's own: what was read so far is all delete takes down */
		snprintf(st->net_links[i], sizeof(st->net_links[i]), "%s", name);
		st->n_net_links = (unsigned)i + 1;
	}
	json_decref(j);
	return 0;
}

/* The VMM's bind staging directory: empty files and directories on the host's side. */
static void state_remove_binds(const struct husk_state *st)
{
	char path[sizeof(st->dir) + 32];
	snprintf(path, sizeof(path), "%s/binds", st->dir);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    unlinkat(dirfd(d), de->d_name, 0) < 0 && errno == EISDIR)
			unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
	closedir(d);
	rmdir(path);
}

void state_remove(const struct husk_state *st)
{
	static const char *const files[] = { "state.json", ".state.json.tmp", "control.sock",
					     "vsock.sock", "console.log",     "hooks.json" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[sizeof(st->dir) + 32];
		snprintf(path, sizeof(path), "%s/%s", st->dir, files[i]);
		unlink(path);
	}
	state_remove_binds(st);
	rmdir(st->dir);
}

bool state_alive(const struct husk_state *st)
{
	return st->pid > 0 && kill(st->pid, 0) == 0 && state_starttime(st->pid) == st->starttime;
}

int state_control(const struct husk_state *st, uint16_t type, json_t *req, json_t **result,
		  struct husk_err *e)
{
	char path[sizeof(st->dir) + 16];
	struct husk_err ce = { 0 };

	snprintf(path, sizeof(path), "%s/control.sock", st->dir);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r = fd < 0 ? -errno : uds_connect(fd, path);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		json_decref(req);
		return husk_err_set(e, ESRCH, HUSK_ERR_NOT_RUNNING); /* gone, or going */
	}
	if (!req)
		req = json_object();
	if (req)
		json_object_set_new(req, "id", json_string(st->id));
	/* a start waits for the workload to be executed in the guest */
	r = proto_call(fd, type, 1, req, STATE_REPLY_MS, "husk-vmm", result, &ce);
	close(fd);
	if (r > 0)
		return husk_err_set(e, ce.code, "%s", ce.msg); /* husk-vmm's words */
	if (r == 0)
		return 0;
	if (!state_alive(st))
		return husk_err_set(e, ESRCH, HUSK_ERR_NOT_RUNNING); /* it ended meanwhile */
	return husk_err_set(e, EIO, "container \"%s\": control socket: %s", st->id, ce.msg);
}

int state_agent_call(const struct husk_state *st, uint16_t type, json_t *req, json_t **result,
		     struct husk_err *e)
{
	struct ac_conn c = { .fd = -1 };
	char uds[sizeof(st->dir) + 32];
	snprintf(uds, sizeof(uds), "%s/vsock.sock", st->dir);
	int r = ac_open(&c, uds, STATE_AGENT_MS, NULL, NULL, 0, e);
	if (r == 0)
		r = ac_call(&c, type, req, result, e);
	else
		json_decref(req);
	ac_close(&c);
	return r;
}

const char *state_status(const struct husk_state *st)
{
	static const char *const live[] = { "created", "running", "paused" };
	struct husk_err e = { 0 };
	json_t *res = NULL;
	const char *status = "stopped";
	if (!state_alive(st))
		return status;
	if (state_control(st, PROTO_STATE, NULL, &res, &e) < 0)
		return status; /* alive but past serving: on its way out */
	const char *state = json_string_value(json_object_get(res, "state"));
	if (state && !strcmp(state, "booting"))
		status = "creating";
	for (size_t i = 0; state && i < sizeof(live) / sizeof(live[0]); i++)
		if (!strcmp(state, live[i]))
			status = live[i];
	json_decref(res);
	return status;
}
