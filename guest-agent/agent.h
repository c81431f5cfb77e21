/*
 * husk-agent's state: the connections of its protocol server and the
 * containers with their processes. Single-threaded: everything happens in
 * the event loop of server.c, so that PID 1 never blocks on one client.
 */
#ifndef HUSK_AGENT_AGENT_H
#define HUSK_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "husk/proto.h"
#include "husk/spec.h"

enum stream_kind { STREAM_STDIN, STREAM_STDOUT, STREAM_STDERR, STREAM_TTY, STREAM_KINDS };

enum conn_kind { CONN_NEW, CONN_CONTROL, CONN_STREAM };

/* What an epoll event is about: every watched fd has one of these beside it. */
enum watch_kind { W_LISTEN, W_SIGNAL, W_CONN, W_SYNC, W_TTY_MASTER, W_TTY_SOCK };
struct watch {
	enum watch_kind kind;
	void *obj;
};

struct conn {
	uint64_t serial; /* pending replies name the connection by this */
	int fd;
	struct watch w;
	enum conn_kind kind;
	struct proto_reader rd;
	uint8_t *out; /* replies not yet written (control connections) */
	size_t outlen, outoff;
	/* a stream waiting for its process: */
	char cid[SPEC_ID_MAX + 1], eid[SPEC_ID_MAX + 1];
	enum stream_kind stream;
	struct conn *next;
};

/* A request answered later (CREATE, START, EXEC, WAIT). */
struct pending {
	uint64_t conn;
	uint32_t id;
	struct pending *next;
};

enum proc_state { PROC_SETTING_UP, PROC_CREATED, PROC_STARTING, PROC_RUNNING, PROC_EXITED };

struct tty_relay;

struct proc {
	char eid[SPEC_ID_MAX + 1]; /* "" for the container's own process */
	pid_t pid;
	enum proc_state state;
	bool autostart; /* an exec runs as soon as it is set up */
	int sync_fd;	/* SOCK_SEQPACKET to the child until it has exec'd */
	struct watch sync_w;
	struct container *ctr;
	struct pending *reply; /* CREATE/EXEC/START waiting on sync_fd */
	struct pending *waiters;
	int wstatus; /* once PROC_EXITED */
	struct tty_relay *tty;
	int tty_sock;		   /* the "tty" stream until the terminal exists */
	struct spec_process *spec; /* an exec's own process */
	struct proc *next;
};

struct container {
	char id[SPEC_ID_MAX + 1];
	struct spec spec;
	char dir[128];	    /* /run/husk/<id>: rootfs/ mounted here */
	bool mounted;	    /* the root filesystem is mounted on dir/rootfs */
	bool binds_mounted; /* the host's bind sources are on dir/binds */
	char cgroup[160];   /* "" when no cgroup was made */
	bool run_once;
	bool doomed;	    /* destroyed once its last process is reaped */
	struct proc *procs; /* the container's own process first */
	struct container *next;
};

struct agent;
struct child_args;
struct netcfg;

/*
 * What only a real guest can do: mount, make cgroups, clone into new
 * namespaces. The agent goes through this table (guestops.c has the
 * guest's), so that unit tests can put stand-ins in its place.
 */
struct agent_ops {
	/* CREATE, once the spec is parsed: the root filesystem, the binds, the cgroup. */
	int (*prepare)(struct container *c, const json_t *payload, struct husk_err *e);
	/* Undo prepare, as the container is freed. */
	void (*release)(struct container *c);
	/* Start the process that goes on in child_main(ca): its PID or a negative errno. */
	pid_t (*clone_child)(struct agent *a, struct container *c, const struct child_args *ca,
			     struct husk_err *e);
	/* NETWORK: the interfaces into the container's network namespace (netcfg_apply). */
	int (*network)(struct container *c, const struct netcfg *cfg, struct husk_err *e);
	/* REFRESH: the wall clock and seed bytes into the random pool (refresh_apply). */
	int (*refresh)(int64_t time_ns, const uint8_t *seed, size_t len, struct husk_err *e);
	/*
	 * SHUTDOWN, before its reply: what the guest's file systems hold goes
	 * to its disks and shares (sync(2)), for a host that may end the VM
	 * as soon as it has the reply. NULL: nothing to write.
	 */
	void (*sync)(void);
};

/* refresh.c: the guest's REFRESH; seed bytes REFRESH_SEED_MIN..REFRESH_SEED_MAX. */
#define REFRESH_SEED_MIN 32
#define REFRESH_SEED_MAX 256
int refresh_apply(int64_t time_ns, const uint8_t *seed, size_t len, struct husk_err *e);

/* guestops.c */
extern const struct agent_ops gops_guest;

struct agent {
	const struct agent_ops *ops;
	int epfd;
	int listen_fd;
	int sigfd;
	struct watch listen_w, sig_w;
	int own_pidns; /* to come back after forking into a container's */
	/*
	 * A network namespace with lo up, made before the ready line (so in a
	 * template's memory): the first container that asks for a namespace
	 * of its own takes it, sparing the emulated kernel the half second a
	 * new one costs under kvm_pvm. -1 once taken, or when there is none.
	 */
	int spare_netns;
	uint64_t next_serial;
	struct conn *conns;
	struct container *containers;
	bool shutdown; /* power off once replies are out */
};

/* server.c */
int srv_init(struct agent *a);	 /* the event loop and its signals */
int srv_listen(struct agent *a); /* listen on vsock */
/* A connected socket becomes one of the agent's connections. */
int srv_add_conn(struct agent *a, int fd);
void srv_step(struct agent *a, int timeout_ms); /* wait for and handle one event */
void srv_run(struct agent *a);			/* returns when the guest should power off */
void srv_fini(struct agent *a);			/* close every connection and the loop's fds */
struct conn *srv_conn_by_serial(struct agent *a, uint64_t serial);
/* Queue a reply on a control connection (if it still exists). */
void srv_reply(struct agent *a, uint64_t conn, uint32_t id, uint16_t type, json_t *payload);
void srv_reply_err(struct agent *a, uint64_t conn, uint32_t id, const struct husk_err *e);
/* Take the attached stream fd for (cid, eid, kind), or -1. */
int srv_take_stream(struct agent *a, const char *cid, const char *eid, enum stream_kind kind);
/* Close the streams attached for a container that no process took. */
void srv_drop_streams(struct agent *a, const char *cid);
int srv_watch(struct agent *a, int fd, struct watch *w, uint32_t events);
int srv_rewatch(struct agent *a, int fd, struct watch *w, uint32_t events);
void srv_unwatch(struct agent *a, int fd);

/* container.c: the table of containers and their processes */
struct container *ctr_new(struct agent *a, const char *id); /* linked into a->containers */
struct container *ctr_find(struct agent *a, const char *id);
unsigned ctr_count(const struct agent *a);
/* Free the container and its processes; requests still waiting get an error. */
void ctr_destroy(struct agent *a, struct container *c);
struct proc *ctr_new_proc(struct container *c, const char *eid); /* init first */
void ctr_unlink_proc(struct container *c, struct proc *p);	 /* and free it */
struct proc *ctr_proc(struct container *c, const char *eid);
struct proc *ctr_by_pid(struct agent *a, pid_t pid); /* a process not yet reaped */
bool ctr_running(const struct container *c);	     /* a process has not ended */
const char *ctr_state_name(enum proc_state s);
int ctr_pending(struct pending **list, uint64_t conn, uint32_t id);
/* Answer and free every pending request of a list. */
void ctr_answer(struct agent *a, struct pending **list, uint16_t type, const json_t *payload);
void ctr_answer_err(struct agent *a, struct pending **list, const struct husk_err *e);
json_t *ctr_status_json(int wstatus); /* WAIT's answer */
void ctr_close_sync(struct agent *a, struct proc *p);
bool ctr_all_done(const struct agent *a); /* run-once: nothing left to run */
void ctr_shutdown_all(struct agent *a);	  /* before power-off */
void ctr_free_exec_spec(struct proc *p);

/* request.c: every request but STREAM and SHUTDOWN, each answering through srv_reply */
void req_handle(struct agent *a, uint64_t conn, const struct proto_msg *m);

/* spawn.c: start a container's process (p, the container's first or an exec) */
int spawn_process(struct agent *a, struct container *c, struct proc *p,
		  const struct spec_process *sp, struct husk_err *e);
/* The guest's clone_child: into new namespaces or the container's, in its cgroup. */
pid_t spawn_clone_child(struct agent *a, struct container *c, const struct child_args *ca,
			struct husk_err *e);

/* procevent.c */
void procev_sync(struct agent *a, struct proc *p); /* sync_fd readable */
void procev_reap(struct agent *a);		   /* SIGCHLD */

/* tty.c: relays a pty master to its "tty" stream */
struct tty_relay *tty_start(struct agent *a, int master, int sock);
void tty_event(struct agent *a, struct tty_relay *t, enum watch_kind kind, uint32_t events);
int tty_resize(struct tty_relay *t, unsigned rows, unsigned cols);
void tty_free(struct agent *a, struct tty_relay *t);

#endif
