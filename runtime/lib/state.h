/*
 * The runtime library's context and state store: the global options every
 * operation gets, the error report (stderr and --log), and one directory per
 * container under --root (state.json, the VMM's sockets, its console log).
 * The code is state.c and report.c.
 */
#ifndef HUSK_RUNTIME_STATE_H
#define HUSK_RUNTIME_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "husk/error.h"
#include "husk/proto.h"

#define HUSK_DEFAULT_ROOT    "/run/husk"
#define HUSK_STATE_MAX_LINKS 4 /* HOSTNET_MAX_LINKS */

struct husk_global {
	const char *root;
	const char *log; /* NULL: stderr only */
	bool log_json;
	bool debug;		  /* --debug: the guest kernel's whole boot log in console.log */
	const char *template_dir; /* --template-dir: NULL for $HUSK_TEMPLATE_DIR or the default */
	bool no_templates;	  /* --no-templates: every VM boots cold */
	bool no_seccomp;	  /* --no-seccomp: husk-vmm without its filters (unsafe) */
	const char *argv0;
};

/* An error for the person and the engine: stderr, and the log if one was given. */
void husk_report(const struct husk_global *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --- the state store: <root>/<id>/ ------------------------------------------ */

struct husk_state {
	char id[65];
	char dir[4096];
	char bundle[4096];
	pid_t pid;		      /* husk-vmm's */
	unsigned long long starttime; /* of that pid, against reuse */
	char created[40];	      /* RFC 3339 */
	char cgroup[4096];	      /* the VM's host cgroup, "" for none */
	unsigned long long mem_bytes; /* the VM's RAM */
	char netns[4096]; /* the network namespace config.json named, "" when husk-vmm made one */
	/* the engine's links mirrored to the VM's taps (net_attach.c), for delete */
	bool net_attached;
	char net_links[HUSK_STATE_MAX_LINKS][16];
	unsigned n_net_links;
};

/* Make <root>/<id> (EEXIST if the id is taken). */
int state_create(const struct husk_global *g, const char *id, struct husk_state *st,
		 struct husk_err *e);
int state_save(const struct husk_state *st, struct husk_err *e); /* atomic: write + rename */
int state_load(const struct husk_global *g, const char *id, struct husk_state *st,
	       struct husk_err *e);
void state_remove(const struct husk_state *st);
/* "creating", "created", "running", "paused" or "stopped". */
const char *state_status(const struct husk_state *st);
bool state_alive(const struct husk_state *st);
/* A process's start time (clock ticks since boot, /proc/PID/stat field 22); 0 if gone. */
unsigned long long state_starttime(pid_t pid);
/*
 * One request to husk-vmm's control socket (include/husk/proto.h): `req` is
 * consumed (NULL for {}) and gets the container's "id"; on OK *result (if
 * result is non-NULL) is the reply's payload. An ERROR reply is husk-vmm's
 * words and errno; a VMM that is gone, or goes without answering, is
 * HUSK_ERR_NOT_RUNNING with ESRCH.
 */
int state_control(const struct husk_state *st, uint16_t type, json_t *req, json_t **result,
		  struct husk_err *e);

/* One request to the container's agent (through its vsock socket); `req` is consumed. */
int state_agent_call(const struct husk_state *st, uint16_t type, json_t *req, json_t **result,
		     struct husk_err *e);

#endif
