/* The OCI config.json parser: a realistic config, defaults, and every malformed input named. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <jansson.h>

#include "husk/spec.h"
#include "unit.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* What `runc spec` writes, plus a hostname, a console size, resources and a readonly root. */
static const char FULL[] =
	"{'ociVersion': '1.0.2-dev',"
	" 'process': {'terminal': true, 'consoleSize': {'height': 24, 'width': 80},"
	"  'user': {'uid': 0, 'gid': 0},"
	"  'args': ['sh'],"
	"  'env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',"
	"          'TERM=xterm'],"
	"  'cwd': '/',"
	"  'capabilities': {"
	"   'bounding': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],"
	"   'effective': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],"
	"   'permitted': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],"
	"   'ambient': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']},"
	"  'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 1024, 'soft': 1024}],"
	"  'noNewPrivileges': true},"
	" 'root': {'path': 'rootfs', 'readonly': true},"
	" 'hostname': 'runc',"
	" 'mounts': ["
	"  {'destination': '/proc', 'type': 'proc', 'source': 'proc'},"
	"  {'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs',"
	"   'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k']},"
	"  {'destination': '/dev/pts', 'type': 'devpts', 'source': 'devpts',"
	"   'options': ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']},"
	"  {'destination': '/dev/shm', 'type': 'tmpfs', 'source': 'shm',"
	"   'options': ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']},"
	"  {'destination': '/dev/mqueue', 'type': 'mqueue', 'source': 'mqueue',"
	"   'options': ['nosuid', 'noexec', 'nodev']},"
	"  {'destination': '/sys', 'type': 'sysfs', 'source': 'sysfs',"
	"   'options': ['nosuid', 'noexec', 'nodev', 'ro']}],"
	" 'linux': {"
	"  'resources': {'devices': [{'allow': false, 'access': 'rwm'}],"
	"   'memory': {'limit': 268435456}, 'pids': {'limit': 100},"
	"   'cpu': {'quota': 50000, 'period': 100000, 'shares': 512}},"
	"  'namespaces': [{'type': 'pid'}, {'type': 'network'}, {'type': 'ipc'},"
	"                 {'type': 'uts'}, {'type': 'mount'}],"
	"  'maskedPaths': ['/proc/acpi', '/proc/kcore'],"
	"  'readonlyPaths': ['/proc/bus', '/proc/sys']},"
	" 'annotations': {'x': 'y'}}";

/* JSON written with single quotes (none of our values holds one). */
static json_t *load(const char *text)
{
	char *s = strdup(text);
	ck_assert_ptr_nonnull(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t err;
	json_t *j = json_loads(s, JSON_ALLOW_NUL | JSON_DECODE_ANY, &err);
	ck_assert_msg(j != NULL, "bad test JSON: %s at %d", err.text, err.position);
	free(s);
	return j;
}

/*
 * Replace (or with VALUE NULL, remove) the member at PATH, "a.b.2.c": numbers
 * index arrays.
 */
static void patch(json_t *root, const char *path, const char *value)
{
	char buf[128], *save = NULL;
	json_t *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	char *part = strtok_r(buf, ".", &save);
	for (char *next; part; part = next) {
		next = strtok_r(NULL, ".", &save);
		bool idx = json_is_array(cur);
		size_t i = idx ? strtoul(part, NULL, 10) : 0;
		if (!next) {
			if (value && idx)
				ck_assert_int_eq(json_array_set_new(cur, i, load(value)), 0);
			else if (value)
				ck_assert_int_eq(json_object_set_new(cur, part, load(value)), 0);
			else if (idx)
				ck_assert_int_eq(json_array_remove(cur, i), 0);
			else
				ck_assert_int_eq(json_object_del(cur, part), 0);
			return;
		}
		cur = idx ? json_array_get(cur, i) : json_object_get(cur, part);
		ck_assert_msg(cur != NULL, "bad test path %s", path);
	}
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

START_TEST(full_config)
{
	json_t *j = load(FULL);
	struct husk_err e = { 0 };
	struct spec s;

	ck_assert_int_eq(spec_parse(j, &s, &e), 0);
	ck_assert_int_eq(e.code, 0);
	const struct spec_process *p = &s.process;
	ck_assert(p->terminal);
	ck_assert_uint_eq(p->rows, 24);
	ck_assert_uint_eq(p->cols, 80);
	ck_assert_uint_eq(p->nargs, 1);
	ck_assert_str_eq(p->args[0], "sh");
	ck_assert_ptr_null(p->args[1]);
	ck_assert_uint_eq(p->nenv, 2);
	ck_assert_str_eq(p->env[1], "TERM=xterm");
	ck_assert_ptr_null(p->env[2]);
	ck_assert_str_eq(spec_env_get(p->env, "PATH"),
			 "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	ck_assert_str_eq(p->cwd, "/");
	ck_assert_uint_eq(p->user.uid, 0);
	ck_assert_uint_eq(p->user.gid, 0);
	ck_assert_uint_eq(p->user.ngroups, 0);
	ck_assert(!p->user.has_umask);
	ck_assert(p->has_caps);
	uint64_t want = (1ULL << 29) | (1ULL << 5) |
			(1ULL << 10); /* AUDIT_WRITE KILL NET_BIND_SERVICE */
	ck_assert_uint_eq(p->caps.bounding, want);
	ck_assert_uint_eq(p->caps.effective, want);
	ck_assert_uint_eq(p->caps.permitted, want);
	ck_assert_uint_eq(p->caps.ambient, want);
	ck_assert_uint_eq(p->caps.inheritable, 0);
	ck_assert_uint_eq(p->nrlimits, 1);
	ck_assert_int_eq(p->rlimits[0].resource, RLIMIT_NOFILE);
	ck_assert_uint_eq(p->rlimits[0].soft, 1024);
	ck_assert_uint_eq(p->rlimits[0].hard, 1024);
	ck_assert(p->no_new_privileges);
	ck_assert(!p->has_oom_score_adj);

	ck_assert_str_eq(s.root_path, "rootfs");
	ck_assert(s.root_readonly);
	ck_assert_str_eq(s.hostname, "runc");

	ck_assert_uint_eq(s.nmounts, 6);
	const struct spec_mount *m = s.mounts;
	ck_assert_str_eq(m[0].destination, "/proc");
	ck_assert_str_eq(m[0].type, "proc");
	ck_assert_str_eq(m[0].source, "proc");
	ck_assert_uint_eq(m[0].flags, 0);
	ck_assert_ptr_null(m[0].data);
	ck_assert(!m[0].bind);
	ck_assert_str_eq(m[1].type, "tmpfs");
	ck_assert_uint_eq(m[1].flags, MS_NOSUID | MS_STRICTATIME);
	ck_assert_str_eq(m[1].data, "mode=755,size=65536k");
	ck_assert_str_eq(m[2].destination, "/dev/pts");
	ck_assert_uint_eq(m[2].flags, MS_NOSUID | MS_NOEXEC);
	ck_assert_str_eq(m[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	ck_assert_str_eq(m[3].source, "shm");
	ck_assert_uint_eq(m[3].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV);
	ck_assert_str_eq(m[3].data, "mode=1777,size=65536k");
	ck_assert_str_eq(m[4].type, "mqueue");
	ck_assert_uint_eq(m[4].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV);
	ck_assert_ptr_null(m[4].data);
	ck_assert_str_eq(m[5].type, "sysfs");
	ck_assert_uint_eq(m[5].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
	for (size_t i = 0; i < s.nmounts; i++)
		ck_assert_uint_eq(m[i].propagation, 0);

	ck_assert_int_eq(s.namespaces,
			 CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS);
	ck_assert_ptr_null(s.net_ns_path);
	ck_assert_int_eq(s.resources.memory_limit, 268435456);
	ck_assert_int_eq(s.resources.pids_limit, 100);
	ck_assert_int_eq(s.resources.cpu_quota, 50000);
	ck_assert_uint_eq(s.resources.cpu_period, 100000);
	ck_assert_uint_eq(s.resources.cpu_shares, 512);

	spec_free(&s);
	ck_assert(all_zero(&s, sizeof(s)));
	spec_free(&s); /* idempotent */
	json_decref(j);
}
END_TEST

START_TEST(rlimit_names)
{
	ck_assert_str_eq(spec_rlimit_name(RLIMIT_NOFILE), "RLIMIT_NOFILE");
	ck_assert_str_eq(spec_rlimit_name(RLIMIT_RTTIME), "RLIMIT_RTTIME");
	ck_assert_str_eq(spec_rlimit_name(-1), "RLIMIT_?");
}
END_TEST

START_TEST(minimal_defaults)
{
	json_t *j = load("{'process': {'args': ['true']}, 'root': {'path': '/r'},"
			 " 'hostname': null, 'mounts': [], 'linux': {}}");
	struct husk_err e = { 0 };
	struct spec s;

	ck_assert_int_eq(spec_parse(j, &s, &e), 0);
	ck_assert_ptr_nonnull(s.process.env);
	ck_assert_ptr_null(s.process.env[0]);
	ck_assert_uint_eq(s.process.nenv, 0);
	ck_assert_str_eq(s.process.cwd, "/");
	ck_assert(!s.process.terminal);
	ck_assert_uint_eq(s.process.rows, 0);
	ck_assert(!s.process.has_caps);
	ck_assert_uint_eq(s.process.nrlimits, 0);
	ck_assert_ptr_null(s.hostname);
	ck_assert_uint_eq(s.nmounts, 0);
	ck_assert_ptr_null(s.mounts);
	ck_assert(!s.root_readonly);
	ck_assert_int_eq(s.namespaces, 0);
	ck_assert_int_eq(s.resources.memory_limit, -1);
	ck_assert_int_eq(s.resources.pids_limit, -1);
	ck_assert_int_eq(s.resources.cpu_quota, -1);
	ck_assert_uint_eq(s.resources.cpu_period, 0);
	ck_assert_uint_eq(s.resources.cpu_shares, 0);
	ck_assert_ptr_null(spec_env_get(s.process.env, "PATH"));
	spec_free(&s);
	json_decref(j);

	/* an empty env list and an empty capabilities object: no capabilities at all */
	j = load("{'process': {'args': ['true'], 'env': [], 'capabilities': {}},"
		 " 'root': {'path': 'r'}}");
	ck_assert_int_eq(spec_parse(j, &s, &e), 0);
	ck_assert_ptr_nonnull(s.process.env);
	ck_assert_ptr_null(s.process.env[0]);
	ck_assert(s.process.has_caps);
	ck_assert_uint_eq(s.process.caps.bounding | s.process.caps.effective, 0);
	spec_free(&s);
	json_decref(j);
}
END_TEST

/* linux.sysctl: the net.* entries are kept, the others left alone. */
START_TEST(net_sysctls)
{
	json_t *j = load("{'process': {'args': ['true']}, 'root': {'path': '/r'},"
			 " 'linux': {'sysctl': {'net.ipv4.ip_unprivileged_port_start': '0',"
			 "  'kernel.shmmax': '../../x', 'fs.mqueue.msg_max': '10',"
			 "  'net.ipv4.ping_group_range': '0 2147483647'}}}");
	struct husk_err e = { 0 };
	struct spec s;

	ck_assert_int_eq(spec_parse(j, &s, &e), 0);
	ck_assert_uint_eq(s.nsysctls, 2);
	bool port = false, ping = false;
	for (size_t i = 0; i < s.nsysctls; i++) {
		if (!strcmp(s.sysctls[i].name, "net.ipv4.ip_unprivileged_port_start"))
			port = !strcmp(s.sysctls[i].value, "0");
		if (!strcmp(s.sysctls[i].name, "net.ipv4.ping_group_range"))
			ping = !strcmp(s.sysctls[i].value, "0 2147483647");
	}
	ck_assert(port && ping);
	spec_free(&s);
	ck_assert_ptr_null(s.sysctls);
	json_decref(j);
}
END_TEST

START_TEST(exec_process)
{
	json_t *j =
		load("{'args': ['/bin/ls', '-l', ''], 'cwd': '/tmp', 'env': ['A=1', 'B=', 'A=2'],"
		     " 'user': {'uid': 1000, 'gid': 4294967295, 'additionalGids': [5, 27],"
		     "          'umask': 18, 'username': 'ignored'},"
		     " 'oomScoreAdj': -1000, 'selinuxLabel': 'x', 'apparmorProfile': 'y'}");
	struct husk_err e = { 0 };
	struct spec_process p;

	ck_assert_int_eq(spec_process_parse(j, &p, &e), 0);
	ck_assert_uint_eq(p.nargs, 3);
	ck_assert_str_eq(p.args[2], "");
	ck_assert_ptr_null(p.args[3]);
	ck_assert_str_eq(p.cwd, "/tmp");
	ck_assert_str_eq(spec_env_get(p.env, "A"), "1");
	ck_assert_str_eq(spec_env_get(p.env, "B"), "");
	ck_assert_ptr_null(spec_env_get(p.env, "C"));
	ck_assert_uint_eq(p.user.uid, 1000);
	ck_assert_uint_eq(p.user.gid, UINT32_MAX);
	ck_assert_uint_eq(p.user.ngroups, 2);
	ck_assert_uint_eq(p.user.groups[0], 5);
	ck_assert_uint_eq(p.user.groups[1], 27);
	ck_assert(p.user.has_umask);
	ck_assert_uint_eq(p.user.umask, 022);
	ck_assert(p.has_oom_score_adj);
	ck_assert_int_eq(p.oom_score_adj, -1000);
	ck_assert(!p.has_caps);
	spec_process_free(&p);
	ck_assert(all_zero(&p, sizeof(p)));
	spec_process_free(&p);
	json_decref(j);

	/* a bad exec process leaves *out zeroed */
	j = load("{'args': ['sh'], 'env': ['A=1', 'B']}");
	ck_assert_int_lt(spec_process_parse(j, &p, &e), 0);
	ck_assert_str_eq(e.msg, "process.env[1]: \"B\" is not KEY=VALUE");
	ck_assert(all_zero(&p, sizeof(p)));
	json_decref(j);
}
END_TEST

START_TEST(all_capabilities_and_rlimits)
{
	static const char *const caps[] = {
		"CAP_CHOWN",
		"CAP_DAC_OVERRIDE",
		"CAP_DAC_READ_SEARCH",
		"CAP_FOWNER",
		"CAP_FSETID",
		"CAP_KILL",
		"CAP_SETGID",
		"CAP_SETUID",
		"CAP_SETPCAP",
		"CAP_LINUX_IMMUTABLE",
		"CAP_NET_BIND_SERVICE",
		"CAP_NET_BROADCAST",
		"CAP_NET_ADMIN",
		"CAP_NET_RAW",
		"CAP_IPC_LOCK",
		"CAP_IPC_OWNER",
		"CAP_SYS_MODULE",
		"CAP_SYS_RAWIO",
		"CAP_SYS_CHROOT",
		"CAP_SYS_PTRACE",
		"CAP_SYS_PACCT",
		"CAP_SYS_ADMIN",
		"CAP_SYS_BOOT",
		"CAP_SYS_NICE",
		"CAP_SYS_RESOURCE",
		"CAP_SYS_TIME",
		"CAP_SYS_TTY_CONFIG",
		"CAP_MKNOD",
		"CAP_LEASE",
		"CAP_AUDIT_WRITE",
		"CAP_AUDIT_CONTROL",
		"CAP_SETFCAP",
		"CAP_MAC_OVERRIDE",
		"CAP_MAC_ADMIN",
		"CAP_SYSLOG",
		"CAP_WAKE_ALARM",
		"CAP_BLOCK_SUSPEND",
		"CAP_AUDIT_READ",
		"CAP_PERFMON",
		"CAP_BPF",
		"CAP_CHECKPOINT_RESTORE",
	};
	static const struct {
		const char *name;
		int res;
	} rls[] = {
		{ "RLIMIT_CPU", RLIMIT_CPU },		{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
		{ "RLIMIT_DATA", RLIMIT_DATA },		{ "RLIMIT_STACK", RLIMIT_STACK },
		{ "RLIMIT_CORE", RLIMIT_CORE },		{ "RLIMIT_RSS", RLIMIT_RSS },
		{ "RLIMIT_NPROC", RLIMIT_NPROC },	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
		{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },	{ "RLIMIT_AS", RLIMIT_AS },
		{ "RLIMIT_LOCKS", RLIMIT_LOCKS },	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
		{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
		{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	};
	json_t *p = load("{'args': ['sh'], 'capabilities': {'inheritable': []}, 'rlimits': []}");
	json_t *inh = json_object_get(json_object_get(p, "capabilities"), "inheritable");
	json_t *rl = json_object_get(p, "rlimits");
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		json_array_append_new(inh, json_string(caps[i]));
	for (size_t i = 0; i < sizeof(rls) / sizeof(rls[0]); i++)
		json_array_append_new(rl, json_pack("{s:s, s:I, s:I}", "type", rls[i].name, "soft",
						    (json_int_t)i, "hard", (json_int_t)i + 1));

	struct husk_err e = { 0 };
	struct spec_process sp;
	ck_assert_int_eq(spec_process_parse(p, &sp, &e), 0);
	ck_assert_uint_eq(sp.caps.inheritable, (1ULL << 41) - 1);
	ck_assert_uint_eq(sp.caps.bounding, 0);
	ck_assert_uint_eq(sp.nrlimits, sizeof(rls) / sizeof(rls[0]));
	for (size_t i = 0; i < sp.nrlimits; i++) {
		ck_assert_int_eq(sp.rlimits[i].resource, rls[i].res);
		ck_assert_uint_eq(sp.rlimits[i].soft, i);
		ck_assert_uint_eq(sp.rlimits[i].hard, i + 1);
	}
	spec_process_free(&sp);
	json_decref(p);
}
END_TEST

START_TEST(mount_options)
{
	json_t *j = load(
		"{'process': {'args': ['sh']}, 'root': {'path': 'r'}, 'mounts': ["
		" {'destination': '/a', 'source': '/x', 'options': ['rbind', 'rprivate', 'ro']},"
		" {'destination': '/b', 'type': 'bind', 'source': '/y', 'options': ['slave']},"
		" {'destination': '/c', 'type': 'none', 'source': '/z', 'options': ['bind', 'rshared']},"
		" {'destination': '/d', 'type': 'tmpfs', 'options': ['ro', 'rw', 'nosuid', 'suid',"
		"   'noexec', 'exec', 'nodev', 'dev', 'sync', 'async', 'noatime', 'atime',"
		"   'nodiratime', 'diratime', 'relatime', 'norelatime', 'mand', 'loud', 'size=1m']},"
		" {'destination': '/e', 'type': 'ext4', 'source': '/dev/vdb',"
		"  'options': ['dirsync', 'remount', 'strictatime', 'unbindable', 'noatime', 'x']},"
		" {'destination': '/f', 'type': 'tmpfs', 'options': ['runbindable', 'private', 'rslave']},"
		" {'destination': '/g', 'type': 'tmpfs', 'options': ['shared']}"
		"]}");
	struct husk_err e = { 0 };
	struct spec s;

	ck_assert_int_eq(spec_parse(j, &s, &e), 0);
	const struct spec_mount *m = s.mounts;
	ck_assert_uint_eq(s.nmounts, 7);
	ck_assert(m[0].bind);
	ck_assert_ptr_null(m[0].type);
	ck_assert_str_eq(m[0].source, "/x");
	ck_assert_uint_eq(m[0].flags, MS_BIND | MS_REC | MS_RDONLY);
	ck_assert_uint_eq(m[0].propagation, MS_PRIVATE | MS_REC);
	ck_assert_ptr_null(m[0].data);
	ck_assert(m[1].bind);
	ck_assert_uint_eq(m[1].flags, MS_BIND);
	ck_assert_uint_eq(m[1].propagation, MS_SLAVE);
	ck_assert(m[2].bind);
	ck_assert_uint_eq(m[2].flags, MS_BIND);
	ck_assert_uint_eq(m[2].propagation, MS_SHARED | MS_REC);
	ck_assert(!m[3].bind);
	ck_assert_ptr_null(m[3].source);
	ck_assert_uint_eq(m[3].flags, 0);
	ck_assert_str_eq(m[3].data, "size=1m");
	ck_assert_uint_eq(m[4].flags, MS_DIRSYNC | MS_REMOUNT | MS_STRICTATIME | MS_NOATIME);
	ck_assert_uint_eq(m[4].propagation, MS_UNBINDABLE);
	ck_assert_str_eq(m[4].data, "x");
	ck_assert_uint_eq(m[5].propagation, MS_SLAVE | MS_REC); /* the last one wins */
	ck_assert_uint_eq(m[6].propagation, MS_SHARED);
	spec_free(&s);
	json_decref(j);
}
END_TEST

START_TEST(namespaces_and_resources)
{
	json_t *j = load("{'process': {'args': ['sh']}, 'root': {'path': 'r'}, 'linux': {"
			 " 'namespaces': [{'type': 'user'}, {'type': 'cgroup'}, {'type': 'time'},"
			 "  {'type': 'pid', 'path': ''}, {'type': 'mount', 'path': null}],"
			 " 'resources': {'memory': {'limit': -1}, 'cpu': {'quota': -1}},"
			 " 'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}],"
			 " 'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW'}, 'sysctl': {'a': 'b'}}}");
	struct husk_err e = { 0 };
	struct spec s;

	ck_assert_int_eq(spec_parse(j, &s, &e), 0);
	ck_assert_int_eq(s.namespaces, CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWTIME |
					       CLONE_NEWPID | CLONE_NEWNS);
	ck_assert_int_eq(s.resources.memory_limit, -1);
	ck_assert_int_eq(s.resources.pids_limit, -1);
	ck_assert_int_eq(s.resources.cpu_quota, -1);
	ck_assert_ptr_null(s.net_ns_path);
	spec_free(&s);
	json_decref(j);
}
END_TEST

/*
 * The network namespace alone may name the host side's namespace (Podman's
 * /run/netns/...): kept for husk-vmm to join; the guest still makes a fresh
 * one, so the flag is set either way.
 */
START_TEST(network_namespace_path)
{
	static const char *const cases[][2] = {
		{ "[{'type': 'network', 'path': '/run/netns/netns-1'}]", "/run/netns/netns-1" },
		{ "[{'type': 'pid'}, {'type': 'network', 'path': ''}]", NULL },
		{ "[{'type': 'network', 'path': null}]", NULL },
		{ "[{'type': 'network'}]", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[256];
		snprintf(buf, sizeof(buf),
			 "{'process': {'args': ['sh']}, 'root': {'path': 'r'}, 'linux': {"
			 " 'namespaces': %s}}",
			 cases[i][0]);
		json_t *j = load(buf);
		struct husk_err e = { 0 };
		struct spec s;
		ck_assert_int_eq(spec_parse(j, &s, &e), 0);
		ck_assert(s.namespaces & CLONE_NEWNET);
		if (cases[i][1])
			ck_assert_str_eq(s.net_ns_path, cases[i][1]);
		else
			ck_assert_ptr_null(s.net_ns_path);
		spec_free(&s);
		ck_assert_ptr_null(s.net_ns_path);
		json_decref(j);
	}
	/* no network entry at all: nothing set (the runtime refuses it as host networking) */
	json_t *j = load("{'process': {'args': ['sh']}, 'root': {'path': 'r'}, 'linux': {"
			 " 'namespaces': [{'type': 'pid'}]}}");
	struct husk_err e = { 0 };
	struct spec s;
	ck_assert_int_eq(spec_parse(j, &s, &e), 0);
	ck_assert(!(s.namespaces & CLONE_NEWNET));
	ck_assert_ptr_null(s.net_ns_path);
	spec_free(&s);
	json_decref(j);
	/* a path kept, then a later error: nothing leaks (ASan) and nothing is left */
	j = load("{'process': {'args': ['sh']}, 'root': {'path': 'r'}, 'linux': {"
		 " 'namespaces': [{'type': 'network', 'path': '/run/netns/n'}, {'type': 'x'}]}}");
	ck_assert_int_eq(spec_parse(j, &s, &e), -EINVAL);
	ck_assert_ptr_null(s.net_ns_path);
	json_decref(j);
}
END_TEST

/* One malformed variant of FULL: PATH replaced by VALUE (NULL: removed). */
static const struct bad {
	const char *path, *value;
	int code;
	const char *msg; /* the whole message, or its start when it ends in "..." */
} bads[] = {
	{ "process", NULL, EINVAL, "process: missing" },
	{ "process", "[]", EINVAL, "process: not an object" },
	{ "process.args", NULL, EINVAL, "process.args: missing" },
	{ "process.args", "[]", EINVAL, "process.args: empty" },
	{ "process.args", "'sh'", EINVAL, "process.args: not an array" },
	{ "process.args", "['sh', 3]", EINVAL, "process.args[1]: not a string" },
	{ "process.args", "['', 'x']", EINVAL, "process.args[0]: empty" },
	{ "process.args", "['a\\u0000b']", EINVAL, "process.args[0]: contains a NUL byte" },
	{ "process.env", "['PATH=/bin', 'TERM']", EINVAL,
	  "process.env[1]: \"TERM\" is not KEY=VALUE" },
	{ "process.env", "{}", EINVAL, "process.env: not an array" },
	{ "process.cwd", "'tmp'", EINVAL, "process.cwd: \"tmp\" is not an absolute path" },
	{ "process.cwd", "7", EINVAL, "process.cwd: not a string" },
	{ "process.terminal", "1", EINVAL, "process.terminal: not a boolean" },
	{ "process.noNewPrivileges", "'yes'", EINVAL, "process.noNewPrivileges: not a boolean" },
	{ "process.consoleSize.width", "65536", ERANGE, "process.consoleSize.width: ..." },
	{ "process.consoleSize.height", NULL, EINVAL, "process.consoleSize: needs ..." },
	{ "process.user.uid", "4294967296", ERANGE, "process.user.uid: ..." },
	{ "process.user.gid", "-1", ERANGE, "process.user.gid: ..." },
	{ "process.user.additionalGids", "[1, 'x']", EINVAL,
	  "process.user.additionalGids[1]: not an integer" },
	{ "process.user.umask", "512", ERANGE, "process.user.umask: ..." },
	{ "process.oomScoreAdj", "1001", ERANGE, "process.oomScoreAdj: ..." },
	{ "process.capabilities", "[]", EINVAL, "process.capabilities: not an object" },
	{ "process.capabilities.bounding", "['CAP_KILL', 'CAP_AUDIT_WRITE', 'CAP_FOO']", EINVAL,
	  "process.capabilities.bounding[2]: unknown capability \"CAP_FOO\"" },
	{ "process.capabilities.ambient", "['cap_kill']", EINVAL,
	  "process.capabilities.ambient[0]: unknown capability \"cap_kill\"" },
	{ "process.rlimits.0", "{'type': 'RLIMIT_NOFILE', 'soft': 2048, 'hard': 1024}", EINVAL,
	  "process.rlimits[0]: soft 2048 above hard 1024" },
	{ "process.rlimits.0.type", "'RLIMIT_FOO'", EINVAL,
	  "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"" },
	{ "process.rlimits.0.hard", NULL, EINVAL, "process.rlimits[0]: needs type, soft and hard" },
	{ "process.rlimits",
	  "[{'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 1},"
	  " {'type': 'RLIMIT_NOFILE', 'soft': 2, 'hard': 2}]",
	  EINVAL, "process.rlimits[1].type: \"RLIMIT_NOFILE\" listed twice" },
	{ "process.rlimits.0.soft", "-1", ERANGE, "process.rlimits[0].soft: ..." },
	{ "root", NULL, EINVAL, "root: missing" },
	{ "root.path", NULL, EINVAL, "root.path: missing" },
	{ "root.readonly", "'no'", EINVAL, "root.readonly: not a boolean" },
	{ "hostname", "'0123456789012345678901234567890123456789012345678901234567890123x'",
	  ENAMETOOLONG, "hostname: longer than 64 bytes" },
	{ "hostname", "'a/b'", EINVAL, "hostname: contains '/'" },
	{ "hostname", "5", EINVAL, "hostname: not a string" },
	{ "ociVersion", "'2.0'", EINVAL, "ociVersion: \"2.0\" is not a 1.x version" },
	{ "ociVersion", "1.0", EINVAL, "ociVersion: not a string" },
	{ "mounts", "{}", EINVAL, "mounts: not an array" },
	{ "mounts.1.destination", "'dev'", EINVAL,
	  "mounts[1].destination: \"dev\" is not an absolute path" },
	{ "mounts.2.destination", NULL, EINVAL, "mounts[2].destination: missing" },
	{ "mounts.0.type", NULL, EINVAL, "mounts[0]: neither a type nor a bind mount" },
	{ "mounts.3.options", "['nosuid', 5]", EINVAL, "mounts[3].options[1]: not a string" },
	{ "mounts.3.options", "['ro,nosuid']", EINVAL,
	  "mounts[3].options[0]: \"ro,nosuid\" is not one option" },
	{ "mounts.4", "'x'", EINVAL, "mounts[4]: not an object" },
	{ "linux", "[]", EINVAL, "linux: not an object" },
	{ "linux.namespaces.0", "{'type': 'pid', 'path': '/proc/1/ns/pid'}", EOPNOTSUPP,
	  "linux.namespaces[0]: joining an existing namespace (path) is not possible inside a VM" },
	{ "linux.namespaces.2", "{'type': 'ipc', 'path': '/proc/1/ns/ipc'}", EOPNOTSUPP,
	  "linux.namespaces[2]: joining an existing namespace (path) is not possible inside a VM" },
	{ "linux.namespaces.1.path", "'run/netns/x'", EINVAL,
	  "linux.namespaces[1].path: \"run/netns/x\" is not an absolute path" },
	{ "linux.namespaces.1.path", "5", EINVAL, "linux.namespaces[1].path: not a string" },
	{ "linux.namespaces.0.type", "'foo'", EINVAL,
	  "linux.namespaces[0].type: unknown namespace \"foo\"" },
	{ "linux.namespaces.4.type", "'pid'", EINVAL,
	  "linux.namespaces[4].type: \"pid\" listed twice" },
	{ "linux.namespaces.2", "{}", EINVAL, "linux.namespaces[2].type: missing" },
	{ "linux.resources.memory.limit", "-2", ERANGE, "linux.resources.memory.limit: ..." },
	{ "linux.resources.memory.limit", "'1G'", EINVAL,
	  "linux.resources.memory.limit: not an integer" },
	{ "linux.resources.cpu.period", "-1", ERANGE, "linux.resources.cpu.period: ..." },
	{ "linux.resources.pids", "5", EINVAL, "linux.resources.pids: not an object" },
	{ "linux.sysctl", "[]", EINVAL, "linux.sysctl: not an object" },
	{ "linux.sysctl", "{'net.ipv4..x': '1'}", EINVAL,
	  "linux.sysctl[\"net.ipv4..x\"]: not a sysctl name" },
	{ "linux.sysctl", "{'net.ipv4.conf.a/b.x': '1'}", EINVAL,
	  "linux.sysctl[\"net.ipv4.conf.a/b.x\"]: not a sysctl name" },
	{ "linux.sysctl", "{'net.': '1'}", EINVAL, "linux.sysctl[\"net.\"]: not a sysctl name" },
	{ "linux.sysctl", "{'net.ipv4.ip_forward': 1}", EINVAL,
	  "linux.sysctl[\"net.ipv4.ip_forward\"]: not a string" },
};

START_TEST(malformed)
{
	const struct bad *b = &bads[_i];
	json_t *j = load(FULL);
	struct husk_err e = { 0 };
	struct spec s;

	patch(j, b->path, b->value);
	memset(&s, 0xa5, sizeof(s));
	int r = spec_parse(j, &s, &e);
	ck_assert_msg(r == -b->code, "%s=%s: got %d (%s), want %d", b->path,
		      b->value ? b->value : "(removed)", r, e.msg, -b->code);
	ck_assert_int_eq(e.code, b->code);
	size_t n = strlen(b->msg);
	if (n > 3 && strcmp(b->msg + n - 3, "...") == 0)
		ck_assert_msg(strncmp(e.msg, b->msg, n - 3) == 0, "message \"%s\"", e.msg);
	else
		ck_assert_str_eq(e.msg, b->msg);
	ck_assert(all_zero(&s, sizeof(s)));
	spec_free(&s);
	json_decref(j);
}
END_TEST

START_TEST(not_an_object)
{
	static const char *const texts[] = { "[]", "'config'", "3", "null", "true" };
	struct husk_err e = { 0 };
	struct spec s;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t *j = load(texts[i]);
		memset(&e, 0, sizeof(e));
		memset(&s, 0xa5, sizeof(s));
		ck_assert_int_eq(spec_parse(j, &s, &e), -EINVAL);
		ck_assert_str_eq(e.msg, "config: not a JSON object");
		ck_assert(all_zero(&s, sizeof(s)));
		json_decref(j);
	}
	ck_assert_int_eq(spec_parse(NULL, &s, &e), -EINVAL);
	ck_assert_int_lt(spec_process_parse(NULL, &s.process, NULL), 0); /* no error record */
	spec_free(NULL);
	spec_process_free(NULL);
}
END_TEST

START_TEST(ids)
{
	static const char *const good[] = {
		"a",	 "0",
		"c1",	 "my-container_1.2+x",
		"A.-_+", "0123456789012345678901234567890123456789012345678901234567890123"
	};
	static const char *const bad[] = {
		"",
		".",
		"..",
		"-a",
		"_a",
		".a",
		"+a",
		"a/b",
		"a b",
		"a\n",
		"é",
		"a:b",
		"01234567890123456789012345678901234567890123456789012345678901234", /* 65 */
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(spec_id_valid(good[i]), "'%s' refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!spec_id_valid(bad[i]), "'%s' accepted", bad[i]);
	ck_assert(!spec_id_valid(NULL));
}
END_TEST

START_TEST(env_get)
{
	char *env[] = {
		"PATH=/bin", "PATHX=no", "EMPTY=", "=weird", "TERM=a=b", "PATH=second", NULL
	};
	ck_assert_str_eq(spec_env_get(env, "PATH"), "/bin");
	ck_assert_str_eq(spec_env_get(env, "PATHX"), "no");
	ck_assert_str_eq(spec_env_get(env, "EMPTY"), "");
	ck_assert_str_eq(spec_env_get(env, "TERM"), "a=b");
	ck_assert_ptr_null(spec_env_get(env, "PAT"));
	ck_assert_ptr_null(spec_env_get(env, "HOME"));
	ck_assert_ptr_null(spec_env_get(NULL, "PATH"));
	ck_assert_ptr_null(spec_env_get(env, NULL));
}
END_TEST

static Suite *spec_suite(void)
{
	Suite *s = suite_create("spec");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, full_config);
	tcase_add_test(tc, minimal_defaults);
	tcase_add_test(tc, net_sysctls);
	tcase_add_test(tc, rlimit_names);
	tcase_add_test(tc, exec_process);
	tcase_add_test(tc, all_capabilities_and_rlimits);
	tcase_add_test(tc, mount_options);
	tcase_add_test(tc, namespaces_and_resources);
	tcase_add_test(tc, network_namespace_path);
	tcase_add_loop_test(tc, malformed, 0, (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, not_an_object);
	suite_add_tcase(s, tc);
	TCase *misc = tcase_create("misc");
	tcase_add_test(misc, ids);
	tcase_add_test(misc, env_get);
	suite_add_tcase(s, misc);
	return s;
}

int main(void)
{
	return unit_run(spec_suite());
}
