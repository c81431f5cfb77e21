/*
 * Containers and their processes: the agent's answers to CREATE, START,
 * EXEC, SIGNAL, WAIT, RESIZE, PS and DELETE. A request that needs a
 * process to get somewhere (set up, exec'd, ended) is answered later,
 * from ctr_sync_event or ctr_reap; nothing here blocks.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h> /* struct clone_args, CLONE_INTO_CGROUP */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "child.h"
#include "log.h"

#define CTR_RUN_DIR "/run/husk"
#define CTR_MAX 64
#define CTR_MAX_PROCS 1024

static const char *const ctr_state_names[] = { "being set up", "created", "starting",
					       "running", "stopped" };

static struct container *ctr_find(struct agent *a, const char *id)
{
	for (struct container *c = a->containers; c; c = c->next)
		if (!strcmp(c->id, id))
			return c;
	return NULL;
}

static struct proc *ctr_proc(struct container *c, const char *eid)
{
	for (struct proc *p = c->procs; p; p = p->next)
		if (!strcmp(p->eid, eid))
			return p;
	return NULL;
}

static int ctr_pending(struct pending **list, uint64_t conn, uint32_t id)
{
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->conn = conn;
	p->id = id;
	p->next = *list;
	*list = p;
	return 0;
}

/* Answer and free every pending request of a list. */
static void ctr_answer(struct agent *a, struct pending **list, uint16_t type, const json_t *payload)
{
	while (*list) {
		struct pending *p = *list;
		*list = p->next;
		srv_reply(a, p->conn, p->id, type, json_deep_copy(payload));
		free(p);
	}
}

static void ctr_answer_err(struct agent *a, struct pending **list, const struct husk_err *e)
{
	json_t *payload = proto_error_payload(e);
	ctr_answer(a, list, PROTO_ERROR, payload);
	json_decref(payload);
}

static json_t *ctr_status_json(int wstatus)
{
	if (WIFSIGNALED(wstatus))
		return json_pack("{s:i}", "signal", WTERMSIG(wstatus));
	return json_pack("{s:i}", "exit_code", WEXITSTATUS(wstatus));
}

static void ctr_close_sync(struct agent *a, struct proc *p)
{
	if (p->sync_fd >= 0) {
		srv_unwatch(a, p->sync_fd);
		close(p->sync_fd);
		p->sync_fd = -1;
	}
}

static void ctr_destroy(struct agent *a, struct container *c)
{
	for (struct container **pp = &a->containers; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	while (c->procs) {
		struct proc *p = c->procs;
		c->procs = p->next;
		struct husk_err e = { 0 };
		husk_err_set(&e, ECANCELED, "container %s was deleted", c->id);
		ctr_answer_err(a, &p->reply, &e);
		ctr_answer_err(a, &p->waiters, &e);
		ctr_close_sync(a, p);
		tty_free(a, p->tty);
		if (p->tty_sock >= 0)
			close(p->tty_sock);
		ctr_free_exec_spec(p);
		free(p);
	}
	srv_drop_streams(a, c->id);
	if (c->binds_mounted) {
		char binds[sizeof(c->dir) + 8];
		snprintf(binds, sizeof(binds), "%s/binds", c->dir);
		umount2(binds, MNT_DETACH);
		rmdir(binds);
	}
	if (c->mounted) {
		char root[sizeof(c->dir) + 8];
		snprintf(root, sizeof(root), "%s/rootfs", c->dir);
		umount2(root, MNT_DETACH);
		rmdir(root);
	}
	rmdir(c->dir);
	cg_remove(c->cgroup);
	spec_free(&c->spec);
	free(c);
}

/* --- creating processes -------------------------------------------------- */

static int ctr_stream_fd(struct agent *a, const char *cid, const char *eid, enum stream_kind k)
{
	int fd = srv_take_stream(a, cid, eid, k);
	return fd >= 0 ? fd : open("/dev/null", O_RDWR | O_CLOEXEC);
}

/* Whether the container's own process has not ended (nor been reaped). */
static bool ctr_init_alive(const struct container *c)
{
	const struct proc *init = c->procs;
	return init && init->state != PROC_EXITED && init->pid > 0 && kill(init->pid, 0) == 0;
}

/*
 * clone3() straight into the container's cgroup (CLONE_INTO_CGROUP): the
 * process is never outside it, so a signal to the whole container (or its
 * end) reaches it from its first instruction, and a container whose cgroup
 * is gone cannot gain a process. Returns the PID, 0 in the child, or a
 * negative errno.
 */
static pid_t ctr_clone(struct container *c, uint64_t flags, struct husk_err *e)
{
	struct clone_args args = { .flags = flags, .exit_signal = SIGCHLD };
	int cgfd = -1;

	if (c->cgroup[0]) {
		cgfd = open(c->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgfd < 0 && errno == ENOENT && c->procs->pid > 0 && !ctr_init_alive(c))
			return husk_err_set(e, ESRCH, "container not running: %s has ended", c->id);
		if (cgfd < 0)
			return husk_err_set(e, errno, "cgroup %s: %s", c->cgroup, strerror(errno));
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgfd;
	}
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		return 0;
	int err = errno;
	if (cgfd >= 0)
		close(cgfd);
	if (pid > 0)
		return pid;
	if ((err == ENODEV || err == ENOENT) && c->procs->pid > 0 && !ctr_init_alive(c))
		return husk_err_set(e, ESRCH, "container not running: %s has ended", c->id);
	return husk_err_set(e, err, "clone: %s", strerror(err));
}

/*
 * Clone the process: the container's own one into new namespaces, an exec
 * into the PID namespace of the container's process (the agent joins it
 * for the clone and comes back), the rest of the way in child_main.
 */
static int ctr_spawn(struct agent *a, struct container *c, struct proc *p,
		     const struct spec_process *sp, struct husk_err *e)
{
	struct proc *init = c->procs;
	bool is_init = p == init;
	struct child_args ca = { .spec = &c->spec, .proc = sp,
				 .join_pid = is_init ? 0 : init->pid,
				 .stdio = { -1, -1, -1 } };
	char rootfs[sizeof(c->dir) + 8];
	int sv[2], tty_sock = -1, r = 0;
	uint64_t flags = 0;

	/* the spec's own root.path, of any length, when none was mounted here */
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", c->dir);
	ca.rootfs = c->mounted ? rootfs : c->spec.root_path;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return husk_err_set(e, errno, "socketpair: %s", strerror(errno));
	ca.sync = sv[1];
	if (sp->terminal) {
		tty_sock = srv_take_stream(a, c->id, p->eid, STREAM_TTY);
	} else {
		for (int i = 0; i < 3; i++)
			if ((ca.stdio[i] = ctr_stream_fd(a, c->id, p->eid, (enum stream_kind)i)) < 0)
				r = husk_err_set(e, errno, "/dev/null: %s", strerror(errno));
	}

	if (r == 0 && is_init) {
		flags |= CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
		flags |= c->spec.namespaces & CLONE_NEWNET;
	} else if (r == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init->pid);
		int nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWPID) < 0)
			r = husk_err_set(e, errno, "exec: the container's PID namespace: %s",
					 strerror(errno));
		if (nsfd >= 0)
			close(nsfd);
	}
	if (r == 0) {
		pid_t pid = ctr_clone(c, flags, e);
		if (pid == 0)
			child_main(&ca);
		if (pid < 0)
			r = pid;
		p->pid = pid;
		if (!is_init && setns(a->own_pidns, CLONE_NEWPID) < 0)
			agent_log("cannot return to the agent's PID namespace: %s",
				  strerror(errno));
	}
	for (int i = 0; i < 3; i++)
		if (ca.stdio[i] >= 0)
			close(ca.stdio[i]);
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		if (tty_sock >= 0)
			close(tty_sock);
		return r;
	}
	p->sync_fd = sv[0];
	p->sync_w = (struct watch){ W_SYNC, p };
	p->state = PROC_SETTING_UP;
	p->tty_sock = tty_sock;
	if (srv_watch(a, p->sync_fd, &p->sync_w, EPOLLIN) < 0) {
		kill(p->pid, SIGKILL);
		return husk_err_set(e, EIO, "cannot watch the new process");
	}
	return 0;
}

static struct proc *ctr_new_proc(struct container *c, const char *eid)
{
	struct proc *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->eid, sizeof(p->eid), "%s", eid);
	p->sync_fd = p->tty_sock = -1;
	p->ctr = c;
	if (!c->procs) {
		c->procs = p;
	} else { /* keep the container's own process first */
		p->next = c->procs->next;
		c->procs->next = p;
	}
	return p;
}

static void ctr_unlink_proc(struct container *c, struct proc *p)
{
	for (struct proc **pp = &c->procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	free(p);
}

/* The root filesystem: a guest block device or a virtio-fs tag mounted under
 * /run/husk/<id>, or (without "rootfs") a directory already in the guest
 * named by root.path. */
static int ctr_mount_root(struct container *c, const json_t *rootfs, struct husk_err *e)
{
	const char *source = NULL, *type = "ext4";
	char root[sizeof(c->dir) + 8];

	if (!rootfs) {
		struct stat st;
		if (c->spec.root_path[0] != '/' || stat(c->spec.root_path, &st) < 0 ||
		    !S_ISDIR(st.st_mode))
			return husk_err_set(e, ENOENT, "root.path %s: not a directory in the guest",
					    c->spec.root_path);
		return 0;
	}
	if (!json_is_object(rootfs))
		return husk_err_set(e, EINVAL, "\"rootfs\": not an object");
	if (proto_get_string(rootfs, "source", 1, &source, e) < 0 ||
	    proto_get_string(rootfs, "type", 0, &type, e) < 0)
		return husk_err_wrap(e, "rootfs");
	if (!strcmp(type, "virtiofs")) {
		if (!*source || strlen(source) > 35)
			return husk_err_set(e, EINVAL, "rootfs.source: \"%s\" is no virtio-fs tag",
					    source);
	} else if (strncmp(source, "/dev/", 5) || strstr(source, "..")) {
		return husk_err_set(e, EINVAL, "rootfs.source %s: not a device under /dev", source);
	}
	snprintf(root, sizeof(root), "%s/rootfs", c->dir);
	if (mkdir(CTR_RUN_DIR, 0700) < 0 && errno != EEXIST)
		return husk_err_set(e, errno, "%s: %s", CTR_RUN_DIR, strerror(errno));
	if ((mkdir(c->dir, 0700) < 0 && errno != EEXIST) || (mkdir(root, 0755) < 0 && errno != EEXIST))
		return husk_err_set(e, errno, "%s: %s", root, strerror(errno));
	unsigned long flags = c->spec.root_readonly ? MS_RDONLY : 0;
	if (mount(source, root, type, flags, NULL) < 0) {
		int err = errno;
		rmdir(root);
		rmdir(c->dir);
		return husk_err_set(e, err, "mount %s (%s) as the root filesystem: %s", source,
				    type, strerror(err));
	}
	c->mounted = true;
	return 0;
}

/*
 * The host's bind mount sources, staged by the VMM in one virtio-fs share
 * ("binds": its tag), at /run/husk/<id>/binds where the spec's mounts now
 * point.
 */
static int ctr_mount_binds(struct container *c, const json_t *payload, struct husk_err *e)
{
	const char *tag = NULL;
	char dir[sizeof(c->dir) + 8];

	if (proto_get_string(payload, "binds", 0, &tag, e) < 0)
		return -e->code;
	if (!tag)
		return 0;
	snprintf(dir, sizeof(dir), "%s/binds", c->dir);
	if ((mkdir(CTR_RUN_DIR, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(c->dir, 0700) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST))
		return husk_err_set(e, errno, "%s: %s", dir, strerror(errno));
	if (mount(tag, dir, "virtiofs", MS_NOSUID | MS_NODEV, NULL) < 0) {
		int err = errno;
		rmdir(dir);
		return husk_err_set(e, err, "mount the host's bind mounts (virtio-fs %s): %s", tag,
				    strerror(err));
	}
	c->binds_mounted = true;
	return 0;
}

/* --- the requests ---------------------------------------------------------- */

static int ctr_create(struct agent *a, uint64_t conn, const struct proto_msg *m,
		      struct husk_err *e)
{
	const char *id = NULL;
	const json_t *spec = json_object_get(m->payload, "spec");
	int run_once = 0, r;
	unsigned n = 0;

	if ((r = proto_get_string(m->payload, "id", 1, &id, e)) < 0 ||
	    (r = proto_get_bool(m->payload, "run_once", &run_once, e)) < 0)
		return r;
	if (!spec_id_valid(id))
		return husk_err_set(e, EINVAL, "\"id\": \"%s\" is not a valid container id", id);
	if (ctr_find(a, id))
		return husk_err_set(e, EEXIST, "container %s already exists", id);
	for (struct container *c = a->containers; c; c = c->next)
		n++;
	if (n >= CTR_MAX)
		return husk_err_set(e, ENOSPC, "this guest holds %d containers already", CTR_MAX);
	if (!spec)
		return husk_err_set(e, EINVAL, "\"spec\": missing");

	struct container *c = calloc(1, sizeof(*c));
	if (!c)
		return husk_err_set(e, ENOMEM, "out of memory");
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->dir, sizeof(c->dir), "%s/%s", CTR_RUN_DIR, id);
	c->run_once = run_once;
	c->next = a->containers;
	a->containers = c;
	if ((r = spec_parse(spec, &c->spec, e)) < 0 ||
	    (r = ctr_mount_root(c, json_object_get(m->payload, "rootfs"), e)) < 0 ||
	    (r = ctr_mount_binds(c, m->payload, e)) < 0 ||
	    (r = cg_create(id, &c->spec.resources, c->cgroup, sizeof(c->cgroup), e)) < 0)
		goto fail;
	struct proc *p = ctr_new_proc(c, "");
	if (!p) {
		r = husk_err_set(e, ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = ctr_spawn(a, c, p, &c->spec.process, e)) < 0) {
		ctr_unlink_proc(c, p);
		goto fail;
	}
	return ctr_pending(&p->reply, conn, m->hdr.id);
fail:
	husk_err_wrap(e, "create %s", id);
	ctr_destroy(a, c);
	return r;
}

static int ctr_exec(struct agent *a, struct container *c, uint64_t conn,
		    const struct proto_msg *m, struct husk_err *e)
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
				    ctr_state_names[c->procs->state]);
	for (struct proc *p = c->procs; p; p = p->next)
		n++;
	if (n >= CTR_MAX_PROCS)
		return husk_err_set(e, ENOSPC, "container %s has %d processes already", c->id,
				    CTR_MAX_PROCS);
	if (!process)
		return husk_err_set(e, EINVAL, "\"process\": missing");

	struct proc *p = ctr_new_proc(c, eid);
	if (!p)
		return husk_err_set(e, ENOMEM, "out of memory");
	p->spec = calloc(1, sizeof(*p->spec));
	if (!p->spec || (r = spec_process_parse(process, p->spec, e)) < 0 ||
	    (r = ctr_spawn(a, c, p, p->spec, e)) < 0) {
		if (!p->spec)
			r = husk_err_set(e, ENOMEM, "out of memory");
		ctr_free_exec_spec(p);
		ctr_unlink_proc(c, p);
		return husk_err_wrap(e, "exec %s", eid);
	}
	p->autostart = true;
	return ctr_pending(&p->reply, conn, m->hdr.id);
}

static struct proc *ctr_target(struct container *c, const json_t *payload, struct husk_err *e)
{
	const char *eid = "";
	if (proto_get_string(payload, "exec", 0, &eid, e) < 0)
		return NULL;
	struct proc *p = ctr_proc(c, eid);
	if (!p)
		husk_err_set(e, ESRCH, "container %s has no exec %s", c->id, eid);
	return p;
}

static int ctr_start(struct agent *a, struct container *c, uint64_t conn,
		     const struct proto_msg *m, struct husk_err *e)
{
	struct proc *p = c->procs;
	if (p->state != PROC_CREATED)
		return husk_err_set(e, EINVAL, "container %s is %s, not created", c->id,
				    ctr_state_names[p->state]);
	if (send(p->sync_fd, "S", 1, MSG_NOSIGNAL) != 1)
		return husk_err_set(e, errno, "start %s: the process is gone", c->id);
	p->state = PROC_STARTING;
	return ctr_pending(&p->reply, conn, m->hdr.id);
}

static int ctr_signal(struct container *c, const struct proto_msg *m, struct husk_err *e)
{
	long long sig = 0;
	int all = 0;
	struct proc *p = ctr_target(c, m->payload, e);

	if (!p || proto_get_int(m->payload, "signal", 1, 1, SIGRTMAX, &sig, e) < 0 ||
	    proto_get_bool(m->payload, "all", &all, e) < 0)
		return -e->code;
	if (all) {
		cg_signal(c->cgroup, (int)sig);
		return 0;
	}
	if (p->state == PROC_EXITED || p->pid <= 0)
		return husk_err_set(e, ESRCH, "%s%s%s is not running", c->id, p->eid[0] ? "/" : "",
				    p->eid);
	if (kill(p->pid, (int)sig) < 0)
		return husk_err_set(e, errno, "kill: %s", strerror(errno));
	return 0;
}

/* A process's command line with spaces between its arguments ("" when gone). */
static const char *ctr_cmdline(pid_t pid, char *buf, size_t len)
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

static json_t *ctr_ps(struct container *c, struct husk_err *e)
{
	pid_t *pids;
	size_t n;
	if (cg_pids(c->cgroup, &pids, &n) < 0) {
		husk_err_set(e, EIO, "ps %s: cannot read its cgroup", c->id);
		return NULL;
	}
	json_t *arr = json_array(), *cmds = json_array();
	for (size_t i = 0; i < n; i++) {
		char cmd[256];
		json_array_append_new(arr, json_integer(pids[i]));
		json_array_append_new(cmds, json_string(ctr_cmdline(pids[i], cmd, sizeof(cmd))));
	}
	free(pids);
	return json_pack("{s:o,s:o}", "pids", arr, "commands", cmds);
}

static bool ctr_running(const struct container *c)
{
	for (const struct proc *p = c->procs; p; p = p->next)
		if (p->state != PROC_EXITED)
			return true;
	return false;
}

void ctr_request(struct agent *a, uint64_t conn, const struct proto_msg *m)
{
	struct husk_err e = { 0 };
	json_t *result = NULL;
	const char *id = NULL;
	struct container *c = NULL;
	int r = 0;

	switch (m->hdr.type) {
	case PROTO_HELLO: {
		struct utsname u;
		long long version = 0;
		if (proto_get_int(m->payload, "version", 1, 1, 65535, &version, &e) < 0)
			break;
		uname(&u);
		result = json_pack("{s:i,s:s}", "version", PROTO_VERSION, "kernel", u.release);
		break;
	}
	case PROTO_CREATE:
		if (ctr_create(a, conn, m, &e) == 0)
			return; /* answered once the process is set up */
		break;
	default:
		if (proto_get_string(m->payload, "id", 1, &id, &e) < 0)
			break;
		if (!(c = ctr_find(a, id))) {
			husk_err_set(&e, ENOENT, "container %s does not exist", id);
			break;
		}
		switch (m->hdr.type) {
		case PROTO_START:
			if (ctr_start(a, c, conn, m, &e) == 0)
				return;
			break;
		case PROTO_EXEC:
			if (ctr_exec(a, c, conn, m, &e) == 0)
				return;
			break;
		case PROTO_SIGNAL:
			if (ctr_signal(c, m, &e) == 0)
				result = json_object();
			break;
		case PROTO_UPDATE: {
			struct spec_resources res;
			if (spec_resources_parse(json_object_get(m->payload, "resources"), &res,
						 &e) == 0 &&
			    cg_set_limits(c->cgroup, &res, &e) == 0)
				result = json_object();
			break;
		}
		case PROTO_WAIT: {
			struct proc *p = ctr_target(c, m->payload, &e);
			if (p && p->state == PROC_EXITED)
				result = ctr_status_json(p->wstatus);
			else if (p && ctr_pending(&p->waiters, conn, m->hdr.id) == 0)
				return;
			break;
		}
		case PROTO_RESIZE: {
			long long rows = 0, cols = 0;
			struct proc *p = ctr_target(c, m->payload, &e);
			if (!p || proto_get_int(m->payload, "rows", 1, 1, 65535, &rows, &e) < 0 ||
			    proto_get_int(m->payload, "cols", 1, 1, 65535, &cols, &e) < 0)
				break;
			if (!p->tty)
				husk_err_set(&e, ENOTTY, "%s has no terminal", id);
			else if ((r = tty_resize(p->tty, (unsigned)rows, (unsigned)cols)) < 0)
				husk_err_set(&e, -r, "resize: %s", strerror(-r));
			else
				result = json_object();
			break;
		}
		case PROTO_PS:
			result = ctr_ps(c, &e);
			break;
		case PROTO_DELETE: {
			int force = 0;
			if (proto_get_bool(m->payload, "force", &force, &e) < 0)
				break;
			if (ctr_running(c) && !force) {
				husk_err_set(&e, EBUSY, "container %s is running: stop it first",
					     id);
				break;
			}
			if (ctr_running(c)) {
				c->doomed = true; /* destroyed once its processes are reaped */
				cg_signal(c->cgroup, SIGKILL);
				kill(c->procs->pid, SIGKILL);
			} else {
				ctr_destroy(a, c);
			}
			result = json_object();
			break;
		}
		default:
			husk_err_set(&e, EOPNOTSUPP, "%s: not a request the agent serves",
				     proto_type_name(m->hdr.type) ? proto_type_name(m->hdr.type) :
								    "unknown");
		}
	}
	if (result)
		srv_reply(a, conn, m->hdr.id, PROTO_OK, result);
	else
		srv_reply_err(a, conn, m->hdr.id, e.code ? &e : &(struct husk_err){ ENOMEM, "out of memory" });
}

/* --- events from the processes ------------------------------------------- */

void ctr_sync_event(struct agent *a, struct proc *p)
{
	char buf[CHILD_MSG_MAX + 1];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct husk_err e = { 0 };

	ssize_t n = recvmsg(p->sync_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
			if (n > 0 && buf[0] == 'T' && !p->tty) {
				fcntl(fd, F_SETFL, O_NONBLOCK);
				if (p->tty_sock >= 0)
					fcntl(p->tty_sock, F_SETFL, O_NONBLOCK);
				p->tty = tty_start(a, fd, p->tty_sock);
				if (p->tty)
					p->tty_sock = -1;
				else
					close(fd);
			} else {
				close(fd);
			}
		}
	if (n > 0 && buf[0] == 'R' && p->state == PROC_SETTING_UP) {
		if (p->autostart && send(p->sync_fd, "S", 1, MSG_NOSIGNAL) == 1) {
			p->state = PROC_STARTING;
		} else {
			p->state = PROC_CREATED;
			json_t *res = json_pack("{s:i}", "pid", (int)p->pid);
			ctr_answer(a, &p->reply, PROTO_OK, res);
			json_decref(res);
		}
	} else if (n > 0 && buf[0] == 'E') {
		buf[n] = '\0';
		char *msg = NULL;
		long code = strtol(buf + 1, &msg, 10);
		husk_err_set(&e, code > 0 && code < 4096 ? (int)code : EIO, "%s",
			     *msg == ':' ? msg + 1 : buf + 1);
		ctr_answer_err(a, &p->reply, &e);
		if (p == p->ctr->procs && p->state == PROC_SETTING_UP)
			p->ctr->doomed = true; /* a failed create leaves nothing behind */
	} else if (n <= 0) {
		/* end of file: the program runs, or the process is gone */
		if (p->state == PROC_STARTING && p->reply) {
			json_t *res = p->autostart ? json_pack("{s:i}", "pid", (int)p->pid) :
						     json_object();
			ctr_answer(a, &p->reply, PROTO_OK, res);
			json_decref(res);
			p->state = PROC_RUNNING;
		} else if (p->reply) {
			husk_err_set(&e, ECHILD, "the process ended while it was being set up");
			ctr_answer_err(a, &p->reply, &e);
		}
		ctr_close_sync(a, p);
	}
}

static struct proc *ctr_by_pid(struct agent *a, pid_t pid)
{
	for (struct container *c = a->containers; c; c = c->next)
		for (struct proc *p = c->procs; p; p = p->next)
			if (p->pid == pid && p->state != PROC_EXITED)
				return p;
	return NULL;
}

void ctr_reap(struct agent *a)
{
	int wstatus;
	pid_t pid;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		struct proc *p = ctr_by_pid(a, pid);
		if (!p)
			continue; /* an orphan the agent inherited */
		/* what the child said before it ended decides what it was */
		for (int i = 0; i < 16 && p->sync_fd >= 0; i++)
			ctr_sync_event(a, p);
		ctr_close_sync(a, p);
		struct container *c = p->ctr;
		p->state = PROC_EXITED;
		p->wstatus = wstatus;
		json_t *res = ctr_status_json(wstatus);
		ctr_answer(a, &p->waiters, PROTO_OK, res);
		json_decref(res);
		if (c->doomed && !ctr_running(c))
			ctr_destroy(a, c);
	}
}

bool ctr_all_done(const struct agent *a)
{
	bool run_once = false;
	for (const struct container *c = a->containers; c; c = c->next) {
		run_once |= c->run_once;
		if (c->procs && c->procs->state != PROC_EXITED)
			return false;
	}
	return run_once;
}

void ctr_shutdown_all(struct agent *a)
{
	for (struct container *c = a->containers; c; c = c->next)
		cg_signal(c->cgroup, SIGKILL);
	while (a->containers)
		ctr_destroy(a, a->containers);
}

void ctr_free_exec_spec(struct proc *p)
{
	if (p->spec) {
		spec_process_free(p->spec);
		free(p->spec);
		p->spec = NULL;
	}
}
