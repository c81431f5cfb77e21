/*
 * The part of an OCI runtime-spec config.json that a husk container uses,
 * as plain data. The runtime parses the bundle's config.json with it (and
 * refuses what it cannot honour before any VM starts); the agent parses the
 * same JSON from the CREATE message, and EXEC's "process" with
 * spec_process_parse. The parser is common/spec.c (config.json and
 * linux.resources), common/spec_process.c (process) and common/spec_mount.c
 * (mounts).
 */
#ifndef HUSK_SPEC_H
#define HUSK_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "husk/error.h"

#define SPEC_MAX_ARGS	      4096
#define SPEC_MAX_ENV	      4096
#define SPEC_MAX_MOUNTS	      256
#define SPEC_MAX_GROUPS	      256
#define SPEC_MAX_RLIMITS      32
#define SPEC_ID_MAX	      64 /* container and exec ids: [A-Za-z0-9][A-Za-z0-9_.+-]* */
#define SPEC_MAX_SYSCTLS      256
#define SPEC_SYSCTL_NAME_MAX  256
#define SPEC_SYSCTL_VALUE_MAX 4096

struct spec_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
};

struct spec_user {
	uint32_t uid, gid;
	uint32_t *groups; /* additionalGids */
	size_t ngroups;
	bool has_umask;
	uint32_t umask;
};

/* Capability sets as bit masks of CAP_* (bit n = capability n). */
struct spec_caps {
	uint64_t bounding, effective, permitted, inheritable, ambient;
};

struct spec_process {
	bool terminal;
	uint16_t rows, cols; /* consoleSize, 0 when absent */
	char **args;	     /* NULL-terminated, at least one */
	size_t nargs;
	char **env; /* NULL-terminated, may be empty; "KEY=VALUE" each */
	size_t nenv;
	char *cwd; /* absolute */
	struct spec_user user;
	bool has_caps; /* absent: the workload gets no capabilities at all */
	struct spec_caps caps;
	struct spec_rlimit *rlimits;
	size_t nrlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
};

struct spec_mount {
	char *destination;	   /* absolute, inside the container */
	char *type;		   /* may be NULL for a bind mount */
	char *source;		   /* may be NULL */
	unsigned long flags;	   /* MS_* from the options */
	unsigned long propagation; /* MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE (| MS_REC), 0 */
	char *data; /* the options the kernel takes as data ("mode=755,size=65536k"), or NULL */
	bool bind;  /* "bind" or "rbind" (flags hold MS_BIND, and MS_REC for rbind) */
};

struct spec_resources {
	int64_t memory_limit; /* bytes; -1 when unset */
	int64_t pids_limit;   /* -1 when unset */
	int64_t cpu_quota;    /* microseconds per period; -1 when unset */
	uint64_t cpu_period;  /* microseconds; 0 when unset */
	uint64_t cpu_shares;  /* 0 when unset */
};

/* One of linux.sysctl's net.* entries: "net.ipv4.ip_forward" = "1". */
struct spec_sysctl {
	char *name;  /* dot-separated words of [A-Za-z0-9_-] (no "/", no empty word) */
	char *value; /* what is written to /proc/sys/net/... */
};

struct spec {
	struct spec_process process;
	char *root_path; /* as given; the host side decides what it means */
	bool root_readonly;
	char *hostname; /* NULL when absent */
	struct spec_mount *mounts;
	size_t nmounts;
	int namespaces;	   /* CLONE_NEW* of the namespaces listed (all made fresh in the guest) */
	char *net_ns_path; /* the "network" entry's path (the host side's), NULL when none */
	struct spec_resources resources;
	char *cgroups_path; /* linux.cgroupsPath as given, NULL when absent */
	/*
	 * linux.sysctl's net.* entries (set in the container's network
	 * namespace); the others are ignored.
	 */
	struct spec_sysctl *sysctls;
	size_t nsysctls;
};

/* config.json's "hooks": the kinds, in the order the runtime spec lists them. */
enum spec_hook_kind {
	SPEC_HOOK_PRESTART,
	SPEC_HOOK_CREATE_RUNTIME,
	SPEC_HOOK_CREATE_CONTAINER,
	SPEC_HOOK_START_CONTAINER,
	SPEC_HOOK_POSTSTART,
	SPEC_HOOK_POSTSTOP,
	SPEC_HOOK_KINDS
};

#define SPEC_MAX_HOOKS	      64    /* of each kind */
#define SPEC_HOOK_TIMEOUT_MAX 86400 /* seconds */

struct spec_hook {
	char *path;  /* absolute, on the host */
	char **args; /* NULL-terminated argv: "args", or { path } when absent or empty */
	char **env;  /* NULL-terminated "KEY=VALUE"; NULL when absent: the runtime's own */
	int timeout; /* seconds, 0 when absent (no limit) */
};

struct spec_hooks {
	struct spec_hook *list[SPEC_HOOK_KINDS];
	size_t n[SPEC_HOOK_KINDS];
};

/*
 * Parse and check a whole config.json (as a jansson object). Every problem is
 * named with its JSON path ("process.args[0]: not a string"). Unknown fields
 * are ignored, as the runtime spec asks; a namespace other than the network
 * one with a "path", and other things a VM cannot honour, are refused.
 */
int spec_parse(const json_t *config, struct spec *out, struct husk_err *e);
int spec_process_parse(const json_t *process, struct spec_process *out, struct husk_err *e);
void spec_free(struct spec *s);
/* A LinuxResources object ("linux.resources", or what `update --resources` reads). */
int spec_resources_parse(const json_t *res, struct spec_resources *out, struct husk_err *e);
void spec_process_free(struct spec_process *p);

/*
 * config.json's "hooks" object (NULL: none) into *out, every problem named by
 * its JSON path ("hooks.prestart[0].path: missing"). Not part of spec_parse:
 * only the runtime runs hooks. spec_hooks_free is safe on a zeroed struct.
 */
int spec_hooks_parse(const json_t *hooks, struct spec_hooks *out, struct husk_err *e);
void spec_hooks_free(struct spec_hooks *h);
/* "prestart", "createRuntime", ... as config.json names the kind. */
const char *spec_hook_name(enum spec_hook_kind k);

/* A container or exec id as runc accepts it (1 to SPEC_ID_MAX of [A-Za-z0-9_.+-]). */
bool spec_id_valid(const char *id);

/* "RLIMIT_NOFILE" for RLIMIT_NOFILE, as config.json names it ("RLIMIT_?" if unknown). */
const char *spec_rlimit_name(int resource);

/* The value of NAME in a NULL-terminated "KEY=VALUE" list, or NULL. */
const char *spec_env_get(char *const *env, const char *name);

#endif
