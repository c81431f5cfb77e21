/*
 * The agent's table of containers and their processes, and the requests
 * each process keeps waiting (answered from procevent.c). Requests are
 * served in request.c, processes made in spawn.c.
 */
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "rootfs.h"

static const char *const ctr_state_names[] = { "being set up", "created", "starting", "running",
					       "stopped" };

const char *ctr_state_name(enum proc_state s)
{
	return ctr_state_names[s];
}

struct container *ctr_find(struct agent *a, const char *id)
{
	for (struct container *c = a->containers; c; c = c->next)
		if (!strcmp(c->id, id))
			return c;
	return NULL;
}

struct proc *ctr_proc(struct container *c, const char *eid)
{
	for (struct proc *p = c->procs; p; p = p->next)
		if (!strcmp(p->eid, eid))
			return p;
	return NULL;
}

struct proc *ctr_by_pid(struct agent *a, pid_t pid)
{
	for (struct container *c = a->containers; c; c = c->next)
		for (struct proc *p = c->procs; p; p = p->next)
			if (p->pid == pid && p->state != PROC_EXITED)
				return p;
	return NULL;
}

unsigned ctr_count(const struct agent *a)
{
	unsigned n = 0;
	for (const struct container *c = a->containers; c; c = c->next)
		n++;
	return n;
}

bool ctr_running(const struct container *c)
{
	for (const struct proc *p = c->procs; p; p = p->next)
		if (p->state != PROC_EXITED)
			return true;
	return false;
}

struct container *ctr_new(struct agent *a, const char *id)
{
	struct container *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->dir, sizeof(c->dir), "%s/%s", AGENT_RUN_DIR, id);
	c->next = a->containers;
	a->containers = c;
	return c;
}

struct proc *ctr_new_proc(struct container *c, const char *eid)
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

void ctr_unlink_proc(struct container *c, struct proc *p)
{
	for (struct proc **pp = &c->procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	free(p);
}

int ctr_pending(struct pending **list, uint64_t conn, uint32_t id)
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

void ctr_answer(struct agent *a, struct pending **list, uint16_t type, const json_t *payload)
{
	while (*list) {
		struct pending *p = *list;
		*list = p->next;
		srv_reply(a, p->conn, p->id, type, json_deep_copy(payload));
		free(p);
	}
}

void ctr_answer_err(struct agent *a, struct pending **list, const struct husk_err *e)
{
	json_t *payload = proto_error_payload(e);
	ctr_answer(a, list, PROTO_ERROR, payload);
	json_decref(payload);
}

json_t *ctr_status_json(int wstatus)
{
	if (WIFSIGNALED(wstatus))
		return json_pack("{s:i}", "signal", WTERMSIG(wstatus));
	return json_pack("{s:i}", "exit_code", WEXITSTATUS(wstatus));
}

void ctr_close_sync(struct agent *a, struct proc *p)
{
	if (p->sync_fd >= 0) {
		srv_unwatch(a, p->sync_fd);
		close(p->sync_fd);
		p->sync_fd = -1;
	}
}

void ctr_destroy(struct agent *a, struct container *c)
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
	a->ops->release(c);
	spec_free(&c->spec);
	free(c);
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
