/*
 * The agent's answers to CREATE, START, EXEC, SIGNAL, WAIT, RESIZE, PS,
 * UPDATE, NETWORK, REFRESH and DELETE (and HELLO), one handler each in a table. A request
 * that needs a process to get somewhere (set up, exec'd, ended) is
 * answered later, from procevent.c; nothing here blocks.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cgroup.h"
#include "netcfg.h"

#define REQ_MAX_CONTAINERS 64
#define REQ_MAX_PROCS	   1024
#define REQ_LATER	   1 /* a handler's request is answered later */

/*
 * A handler returns 0 with *result the reply's payload, REQ_LATER when the
 * request waits for a process, or a negative errno with `e` saying why
 * (unset: out of memory).
 */
typedef int req_fn(struct agent *a, struct container *c, uint64_t conn, const struct proto_msg *m,
		   json_t **result, struct husk_err *e);

static int req_hello(struct agent *a, struct container *c, uint64_t conn, const struct proto_msg *m,
		     json_t **result, struct husk_err *e)
{
	struct utsname u;
	long long version = 0;
	int r;

	if ((r = proto_get_int(m->payload, "version", 1, 1, 65535, &version, e)) < 0)
		return r;
	uname(&u);
	*result = json_pack("{s:i,s:s}", "version", PROTO_VERSION, "kernel", u.release);
	return 0;
}

static int req_create(struct agent *a, struct container *unused, uint64_t conn,
		      const struct proto_msg *m, json_t **result, struct husk_err *e)
{
	const char *id = NULL;
	const json_t *spec = json_object_get(m->payload, "spec");
	int run_once = 0, r;

	if ((r = proto_get_string(m->payload, "id", 1, &id, e)) < 0 ||
	    (r = proto_get_bool(m->payload, "run_once", &run_once, e)) < 0)
		return r;
	if (!spec_id_valid(id))
		return husk_err_set(e, EINVAL, "\"id\": \"%s\" is not a valid container id", id);
	if (ctr_find(a, id))
		return husk_err_set(e, EEXIST, "container %s already exists", id);
	if (ctr_count(a) >= REQ_MAX_CONTAINERS)
		return husk_err_set(e, ENOSPC, "this guest holds %d containers already",
				    REQ_MAX_CONTAINERS);
	if (!spec)
		return husk_err_set(e, EINVAL, "\"spec\": missing");

	struct container *c = ctr_new(a, id);
	if (!c)
		return husk_err_set(e, ENOMEM, "out of memory");
	c->run_once = run_once;
	if ((r = spec_parse(spec, &c->spec, e)) < 0)
		goto fail;
	/* they would change the guest's own network namespace, the agent's */
	if (c->spec.nsysctls && !(c->spec.namespaces & CLONE_NEWNET)) {
		r = husk_err_set(e, EINVAL,
				 "sysctl %s: not allowed without a network namespace of its own",
				 c->spec.sysctls[0].name);
		goto fail;
	}
	if ((r = a->ops->prepare(c, m->payload, e)) < 0)
		goto fail;
	struct proc *p = ctr_new_proc(c, "");
	if (!p) {
		r = husk_err_set(e, ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = spawn_process(a, c, p, &c->spec.process, e)) < 0) {
		ctr_unlink_proc(c, p);
		goto fail;
	}
	/* answered once the process is set up */
	return (r = ctr_pending(&p->reply, conn, m->hdr.id)) < 0 ? r : REQ_LATER;
fail:
	husk_err_wrap(e, "create %s", id);
	ctr_destroy(a, c);
	return r;
}

static int req_exec(struct agent *a, struct container *c, uint64_t conn, const struct proto_msg *m,
		    json_t **result, struct husk_err *e)
{
	const char *eid = NULL;
	const json_t *process = json_object_get(m->payload, "process");
	unsigned n = 0;
	int r;

	if ((r = proto_get_string(m->payload, "exec", 1, &eid, e)) < 0)
		return r;
	if (!spec_id_valid(eid))
		return husk_err_set(e, EINVAL, "\"exec\": \"%s\" is not a valid exec id", eid);
	if (ctr_proc(c, eid))
		return husk_err_set(e, EEXIST, "exec %s already exists in %s", eid, c->id);
	if (c->procs->state != PROC_RUNNING)
		return husk_err_set(e, ESRCH, "container not running: %s is %s", c->id,
				    ctr_state_name(c->procs->state));
	for (struct proc *p = c->procs; p; p = p->next)
		n++;
	if (n >= REQ_MAX_PROCS)
		return husk_err_set(e, ENOSPC, "container %s has %d processes already", c->id,
				    REQ_MAX_PROCS);
	if (!process)
		return husk_err_set(e, EINVAL, "\"process\": missing");

	struct proc *p = ctr_new_proc(c, eid);
	if (!p)
		return husk_err_set(e, ENOMEM, "out of memory");
	p->spec = calloc(1, sizeof(*p->spec));
	if (!p->spec || (r = spec_process_parse(process, p->spec, e)) < 0 ||
	    (r = spawn_process(a, c, p, p->spec, e)) < 0) {
		if (!p->spec)
			r = husk_err_set(e, ENOMEM, "out of memory");
		ctr_free_exec_spec(p);
		ctr_unlink_proc(c, p);
		return husk_err_wrap(e, "exec %s", eid);
	}
	p->autostart = true;
	return (r = ctr_pending(&p->reply, conn, m->hdr.id)) < 0 ? r : REQ_LATER;
}

/* The process a request names with "exec" (the container's own without). */
static struct proc *req_target(struct container *c, const json_t *payload, struct husk_err *e)
{
	const char *eid = "";
	if (proto_get_string(payload, "exec", 0, &eid, e) < 0)
		return NULL;
	struct proc *p = ctr_proc(c, eid);
	if (!p)
		husk_err_set(e, ESRCH, "container %s has no exec %s", c->id, eid);
	return p;
}

static int req_start(struct agent *a, struct container *c, uint64_t conn, const struct proto_msg *m,
		     json_t **result, struct husk_err *e)
{
	struct proc *p = c->procs;
	int r;

	if (p->state != PROC_CREATED)
		return husk_err_set(e, EINVAL, "container %s is %s, not created", c->id,
				    ctr_state_name(p->state));
	if (send(p->sync_fd, "S", 1, MSG_NOSIGNAL) != 1)
		return husk_err_set(e, errno, "start %s: the process is gone", c->id);
	p->state = PROC_STARTING;
	return (r = ctr_pending(&p->reply, conn, m->hdr.id)) < 0 ? r : REQ_LATER;
}

static int req_signal(struct agent *a, struct container *c, uint64_t conn,
		      const struct proto_msg *m, json_t **result, struct husk_err *e)
{
	long long sig = 0;
	int all = 0;
	struct proc *p = req_target(c, m->payload, e);

	if (!p || proto_get_int(m->payload, "signal", 1, 1, SIGRTMAX, &sig, e) < 0 ||
	    proto_get_bool(m->payload, "all", &all, e) < 0)
		return -e->code;
	if (all) {
		cg_signal(c->cgroup, (int)sig);
	} else {
		if (p->state == PROC_EXITED || p->pid <= 0)
			return husk_err_set(e, ESRCH, "%s%s%s is not running", c->id,
					    p->eid[0] ? "/" : "", p->eid);
		if (kill(p->pid, (int)sig) < 0)
			return husk_err_set(e, errno, "kill: %s", strerror(errno));
	}
	*result = json_object();
	return 0;
}

static int req_update(struct agent *a, struct container *c, uint64_t conn,
		      const struct proto_msg *m, json_t **result, struct husk_err *e)
{
	struct spec_resources res;
	int r;

	if ((r = spec_resources_parse(json_object_get(m->payload, "resources"), &res, e)) < 0 ||
	    (r = cg_set_limits(c->cgroup, &res, e)) < 0)
		return r;
	*result = json_object();
	return 0;
}

static int req_wait(struct agent *a, struct container *c, uint64_t conn, const struct proto_msg *m,
		    json_t **result, struct husk_err *e)
{
	struct proc *p = req_target(c, m->payload, e);
	int r;

	if (!p)
		return -e->code;
	if (p->state == PROC_EXITED) {
		*result = ctr_status_json(p->wstatus);
		return 0;
	}
	return (r = ctr_pending(&p->waiters, conn, m->hdr.id)) < 0 ? r : REQ_LATER;
}

static int req_resize(struct agent *a, struct container *c, uint64_t conn,
		      const struct proto_msg *m, json_t **result, struct husk_err *e)
{
	long long rows = 0, cols = 0;
	struct proc *p = req_target(c, m->payload, e);
	int r;

	if (!p || proto_get_int(m->payload, "rows", 1, 1, 65535, &rows, e) < 0 ||
	    proto_get_int(m->payload, "cols", 1, 1, 65535, &cols, e) < 0)
		return -e->code;
	if (!p->tty)
		return husk_err_set(e, ENOTTY, "%s has no terminal", c->id);
	if ((r = tty_resize(p->tty, (unsigned)rows, (unsigned)cols)) < 0)
		return husk_err_set(e, -r, "resize: %s", strerror(-r));
	*result = json_object();
	return 0;
}

/* A process's command line with spaces between its arguments ("" when gone). */
static const char *req_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < (n < 0 ? 0 : n); i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
		else if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f)
			buf[i] = '?'; /* a JSON string must be valid UTF-8 */
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static int req_ps(struct agent *a, struct container *c, uint64_t conn, const struct proto_msg *m,
		  json_t **result, struct husk_err *e)
{
	pid_t *pids;
	size_t n;

	if (cg_pids(c->cgroup, &pids, &n) < 0)
		return husk_err_set(e, EIO, "ps %s: cannot read its cgroup", c->id);
	json_t *arr = json_array(), *cmds = json_array();
	for (size_t i = 0; i < n; i++) {
		char cmd[256];
		json_array_append_new(arr, json_integer(pids[i]));
		json_array_append_new(cmds, json_string(req_cmdline(pids[i], cmd, sizeof(cmd))));
	}
	free(pids);
	*result = json_pack("{s:o,s:o}", "pids", arr, "commands", cmds);
	return 0;
}

static int req_network(struct agent *a, struct container *c, uint64_t conn,
		       const struct proto_msg *m, json_t **result, struct husk_err *e)
{
	struct netcfg *cfg = calloc(1, sizeof(*cfg));
	const struct proc *init = c->procs;
	int r;

	if (!cfg)
		return husk_err_set(e, ENOMEM, "out of memory");
	if ((r = netcfg_parse(m->payload, cfg, e)) < 0)
		husk_err_wrap(e, "network %s", c->id);
	else if (!(c->spec.namespaces & CLONE_NEWNET))
		r = husk_err_set(e, EINVAL, "network %s: the container has no network namespace",
				 c->id);
	else if (init->pid <= 0 || init->state == PROC_EXITED)
		r = husk_err_set(e, ESRCH, "container not running: %s has ended", c->id);
	else if (!a->ops->network)
		r = husk_err_set(e, EOPNOTSUPP, "network %s: not in this agent", c->id);
	else if ((r = a->ops->network(c, cfg, e)) < 0)
		husk_err_wrap(e, "network %s", c->id);
	free(cfg);
	if (r < 0)
		return r;
	*result = json_object();
	return 0;
}

static int req_hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 :
				      -1;
}

static int req_refresh(struct agent *a, struct container *unused, uint64_t conn,
		       const struct proto_msg *m, json_t **result, struct husk_err *e)
{
	uint8_t seed[REFRESH_SEED_MAX];
	const char *hex = NULL;
	long long time_ns = 0;
	size_t len;
	int r;

	if ((r = proto_get_int(m->payload, "time_ns", 1, 0, INT64_MAX, &time_ns, e)) < 0 ||
	    (r = proto_get_string(m->payload, "seed", 1, &hex, e)) < 0)
		return r;
	len = strlen(hex);
	if (len % 2 || len / 2 < REFRESH_SEED_MIN || len / 2 > REFRESH_SEED_MAX)
		return husk_err_set(e, EINVAL, "\"seed\": %d to %d bytes in hex, not %zu digits",
				    REFRESH_SEED_MIN, REFRESH_SEED_MAX, len);
	for (size_t i = 0; i < len / 2; i++) {
		int hi = req_hexval(hex[2 * i]), lo = req_hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return husk_err_set(e, EINVAL, "\"seed\": not hex at digit %zu", 2 * i);
		seed[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!a->ops->refresh)
		return husk_err_set(e, EOPNOTSUPP, "refresh: not in this agent");
	r = a->ops->refresh(time_ns, seed, len / 2, e);
	explicit_bzero(seed, sizeof(seed));
	if (r < 0)
		return r;
	*result = json_object();
	return 0;
}

static int req_delete(struct agent *a, struct container *c, uint64_t conn,
		      const struct proto_msg *m, json_t **result, struct husk_err *e)
{
	int force = 0, r;

	if ((r = proto_get_bool(m->payload, "force", &force, e)) < 0)
		return r;
	if (ctr_running(c) && !force)
		return husk_err_set(e, EBUSY, "container %s is running: stop it first", c->id);
	if (ctr_running(c)) {
		c->doomed = true; /* destroyed once its processes are reaped */
		cg_signal(c->cgroup, SIGKILL);
		kill(c->procs->pid, SIGKILL);
	} else {
		ctr_destroy(a, c);
	}
	*result = json_object();
	return 0;
}

static const struct req_handler {
	uint16_t type;
	bool container; /* names an existing container by "id" */
	req_fn *fn;
} req_handlers[] = {
	{ PROTO_HELLO, false, req_hello },    { PROTO_CREATE, false, req_create },
	{ PROTO_START, true, req_start },     { PROTO_EXEC, true, req_exec },
	{ PROTO_SIGNAL, true, req_signal },   { PROTO_UPDATE, true, req_update },
	{ PROTO_WAIT, true, req_wait },	      { PROTO_RESIZE, true, req_resize },
	{ PROTO_PS, true, req_ps },	      { PROTO_DELETE, true, req_delete },
	{ PROTO_NETWORK, true, req_network }, { PROTO_REFRESH, false, req_refresh },
};

void req_handle(struct agent *a, uint64_t conn, const struct proto_msg *m)
{
	const struct req_handler *h = NULL;
	struct husk_err e = { 0 };
	json_t *result = NULL;
	struct container *c = NULL;
	int r = -EOPNOTSUPP;

	for (size_t i = 0; i < sizeof(req_handlers) / sizeof(req_handlers[0]); i++)
		if (req_handlers[i].type == m->hdr.type)
			h = &req_handlers[i];
	if (!h) {
		const char *name = proto_type_name(m->hdr.type);
		husk_err_set(&e, EOPNOTSUPP, "%s: not a request the agent serves",
			     name ? name : "unknown");
	} else if (h->container) {
		const char *id = NULL;
		if ((r = proto_get_string(m->payload, "id", 1, &id, &e)) == 0 &&
		    !(c = ctr_find(a, id)))
			r = husk_err_set(&e, ENOENT, "container %s does not exist", id);
	} else {
		r = 0;
	}
	if (r == 0)
		r = h->fn(a, c, conn, m, &result, &e);
	if (r == REQ_LATER)
		return;
	if (r == 0 && result)
		srv_reply(a, conn, m->hdr.id, PROTO_OK, result);
	else
		srv_reply_err(a, conn, m->hdr.id,
			      e.code ? &e : &(struct husk_err){ ENOMEM, "out of memory" });
}
