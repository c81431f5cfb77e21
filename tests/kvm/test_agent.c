/*
 * KVM tests of husk-agent, in two boots of the husk guest (kernel and
 * initramfs of the build) with a busybox root filesystem image:
 *   - husk-vmm --spec runs a config.json's process with husk-vmm's stdio
 *     and exits with its status;
 *   - through the agent protocol (client/agent_client.c), several
 *     containers in one guest: stdout/stderr/exit status, stdin and EOF,
 *     signals, exec beside the workload (PID 1 of its namespace), the
 *     process's attributes (user, rlimits, capabilities, read-only root,
 *     mounts, cwd, env, hostname), an erofs root, a host directory root
 *     over virtio-fs (virtiofsd), a network namespace (lo, net.* sysctls,
 *     NETWORK), a missing program, a
 *     terminal and its resizing, ps, malformed messages, shutdown.
 * Skipped (77) only where /dev/kvm does not exist.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_client.h"
#include "husk/path.h"
#include "vmm_run.h"

#define BOOT_TIMEOUT  300
#define IO_TIMEOUT_MS (120 * 1000)

static char dir[] = "/tmp/husk-agent-XXXXXX";
static char uds[80], rootfs[80], rootdir[80], fsarg[100];
static struct vmm_run vm;

/* --- helpers --------------------------------------------------------------- */

/* A config.json for busybox: args, optionally a terminal of 24x80. */
static json_t *mkspec(const char *const *args, bool terminal)
{
	json_t *a = json_array();
	for (; *args; args++)
		json_array_append_new(a, json_string(*args));
	json_t *process = json_pack("{s:b,s:o,s:[s,s],s:s,s:{s:i,s:i}}", "terminal", terminal,
				    "args", a, "env", "PATH=/bin:/usr/bin", "TERM=xterm", "cwd",
				    "/", "user", "uid", 0, "gid", 0);
	if (terminal)
		json_object_set_new(process, "consoleSize",
				    json_pack("{s:i,s:i}", "height", 24, "width", 80));
	return json_pack("{s:s,s:o,s:{s:s,s:b},s:s,s:[{s:s,s:s,s:s}],"
			 "s:{s:[{s:s},{s:s},{s:s},{s:s}]}}",
			 "ociVersion", "1.0.2", "process", process, "root", "path", "rootfs",
			 "readonly", false, "hostname", "husk-test", "mounts", "destination",
			 "/proc", "type", "proc", "source", "proc", "linux", "namespaces", "type",
			 "pid", "type", "mount", "type", "ipc", "type", "uts");
}

/* Read until EOF (or the timeout), NUL-terminated. */
static char *read_all(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	for (;;) {
		ck_assert_msg(poll(&pfd, 1, IO_TIMEOUT_MS) == 1, "no EOF within the timeout");
		if (len + 1024 > cap)
			buf = realloc(buf, cap *= 2);
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

/* Read until the text seen so far contains needle. */
static void read_until(int fd, char *buf, size_t max, const char *needle)
{
	size_t len = strlen(buf);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	while (!strstr(buf, needle)) {
		ck_assert_msg(poll(&pfd, 1, IO_TIMEOUT_MS) == 1, "no \"%s\" in \"%s\"", needle,
			      buf);
		ssize_t n = read(fd, buf + len, max - len - 1);
		ck_assert_msg(n > 0, "EOF before \"%s\" in \"%s\"", needle, buf);
		len += (size_t)n;
		buf[len] = '\0';
	}
}

static int attach(const char *id, const char *eid, const char *stream)
{
	struct husk_err e = { 0 };
	int fd = ac_stream(uds, id, eid, stream, &e);
	ck_assert_msg(fd >= 0, "attach %s: %s", stream, e.msg);
	return fd;
}

static json_t *call(struct ac_conn *c, uint16_t type, json_t *req)
{
	struct husk_err e = { 0 };
	json_t *res = NULL;
	ck_assert_msg(ac_call(c, type, req, &res, &e) == 0, "%s: %s", proto_type_name(type), e.msg);
	return res;
}

static void call_ok(struct ac_conn *c, uint16_t type, json_t *req)
{
	json_decref(call(c, type, req));
}

static int wait_status(struct ac_conn *c, const char *id, const char *eid)
{
	json_t *res = call(c, PROTO_WAIT, json_pack("{s:s,s:s}", "id", id, "exec", eid));
	int status = ac_exit_status(res);
	json_decref(res);
	return status;
}

/* The status is 128 + sig; if not, the guest's console says why (a segfault line?). */
static void assert_killed_by(struct ac_conn *c, const char *id, const char *eid, int sig)
{
	int status = wait_status(c, id, eid);
	if (status == 128 + sig)
		return;
	char *console = slurp(vm.console);
	size_t n = strlen(console);
	ck_abort_msg("%s/%s: status %d, not %d; the guest's console ends with:\n%s", id, eid,
		     status, 128 + sig, console + (n > 3000 ? n - 3000 : 0));
}

/* CREATE (the root from `source`, a device or a virtio-fs tag) and START. */
static void create_start_on(struct ac_conn *c, const char *id, json_t *spec, const char *source,
			    const char *type)
{
	call_ok(c, PROTO_CREATE,
		json_pack("{s:s,s:o,s:{s:s,s:s}}", "id", id, "spec", spec, "rootfs", "source",
			  source, "type", type));
	call_ok(c, PROTO_START, json_pack("{s:s}", "id", id));
}

static void create_start(struct ac_conn *c, const char *id, json_t *spec)
{
	create_start_on(c, id, spec, "/dev/vda", "ext4");
}

/* --- through the protocol, one guest ------------------------------------------ */

static void out_err_status(struct ac_conn *c)
{
	int out = attach("c1", "", "stdout"), err = attach("c1", "", "stderr");
	create_start(
		c, "c1",
		mkspec((const char *const[]){ "sh", "-c", "echo out; echo err >&2; exit 3", NULL },
		       false));
	char *o = read_all(out), *e = read_all(err);
	ck_assert_str_eq(o, "out\n");
	ck_assert_str_eq(e, "err\n");
	ck_assert_int_eq(wait_status(c, "c1", ""), 3);
	free(o);
	free(e);
	close(out);
	close(err);
	call_ok(c, PROTO_DELETE, json_pack("{s:s}", "id", "c1"));
}

static void stdin_and_eof(struct ac_conn *c)
{
	int in = attach("c2", "", "stdin"), out = attach("c2", "", "stdout");
	create_start(c, "c2",
		     mkspec((const char *const[]){ "sh", "-c", "cat; echo EOF", NULL }, false));
	ck_assert_int_eq(write(in, "hello from the host\n", 20), 20);
	close(in); /* EOF for the workload */
	char *o = read_all(out);
	ck_assert_str_eq(o, "hello from the host\nEOF\n");
	ck_assert_int_eq(wait_status(c, "c2", ""), 0);
	free(o);
	close(out);
	call_ok(c, PROTO_DELETE, json_pack("{s:s}", "id", "c2"));
}

static void exec_signals_ps(struct ac_conn *c)
{
	create_start(c, "c3", mkspec((const char *const[]){ "sleep", "1000", NULL }, false));

	/* an exec beside the workload sees it as PID 1 of the namespace */
	int out = attach("c3", "e1", "stdout");
	json_t *p = json_pack("{s:[s,s],s:s}", "args", "cat", "/proc/1/cmdline", "cwd", "/");
	call_ok(c, PROTO_EXEC, json_pack("{s:s,s:s,s:o}", "id", "c3", "exec", "e1", "process", p));
	char *o = read_all(out);
	ck_assert_int_eq(memcmp(o,
				"sleep\0"
				"1000\0",
				11),
			 0);
	ck_assert_int_eq(wait_status(c, "c3", "e1"), 0);
	free(o);
	close(out);

	/* SIGTERM ends an exec'd sleep 1000, and the status says so */
	p = json_pack("{s:[s,s],s:s}", "args", "sleep", "1000", "cwd", "/");
	call_ok(c, PROTO_EXEC, json_pack("{s:s,s:s,s:o}", "id", "c3", "exec", "e2", "process", p));
	json_t *ps = call(c, PROTO_PS, json_pack("{s:s}", "id", "c3"));
	ck_assert_int_eq(json_array_size(json_object_get(ps, "pids")), 2);
	json_decref(ps);
	call_ok(c, PROTO_SIGNAL,
		json_pack("{s:s,s:s,s:i}", "id", "c3", "exec", "e2", "signal", SIGTERM));
	assert_killed_by(c, "c3", "e2", SIGTERM);

	/* a running container cannot be deleted without force; SIGKILL ends it */
	struct husk_err e = { 0 };
	ck_assert_int_lt(ac_call(c, PROTO_DELETE, json_pack("{s:s}", "id", "c3"), NULL, &e), 0);
	ck_assert_msg(strstr(e.msg, "running"), "%s", e.msg);
	call_ok(c, PROTO_SIGNAL,
		json_pack("{s:s,s:i,s:b}", "id", "c3", "signal", SIGKILL, "all", 1));
	ck_assert_int_eq(wait_status(c, "c3", ""), 128 + SIGKILL);

	/* an exec into a container whose process has ended: runc's words */
	p = json_pack("{s:[s],s:s}", "args", "true", "cwd", "/");
	memset(&e, 0, sizeof(e));
	ck_assert_int_lt(ac_call(c, PROTO_EXEC,
				 json_pack("{s:s,s:s,s:o}", "id", "c3", "exec", "e3", "process", p),
				 NULL, &e),
			 0);
	ck_assert_msg(strstr(e.msg, "container not running"), "%s", e.msg);
	call_ok(c, PROTO_DELETE, json_pack("{s:s}", "id", "c3"));
}

/*
 * A process signalled as early as the protocol allows dies of that signal:
 * right after the EXEC reply (every other time after a PS as well), and
 * right after START. Many times, so that a window inside execve() would be
 * hit.
 */
#define EARLY_ROUNDS 12

static void early_signals(struct ac_conn *c)
{
	/* HUSK_EARLY_ROUNDS=N: a longer hunt for a rare window */
	const char *env = getenv("HUSK_EARLY_ROUNDS");
	int rounds = env && atoi(env) > 0 ? atoi(env) : EARLY_ROUNDS;

	create_start(c, "c5", mkspec((const char *const[]){ "sleep", "1000", NULL }, false));
	for (int i = 0; i < rounds; i++) {
		char eid[16];
		snprintf(eid, sizeof(eid), "early%d", i);
		json_t *p = json_pack("{s:[s,s],s:s}", "args", "sleep", "1000", "cwd", "/");
		call_ok(c, PROTO_EXEC,
			json_pack("{s:s,s:s,s:o}", "id", "c5", "exec", eid, "process", p));
		if (i % 2)
			call_ok(c, PROTO_PS, json_pack("{s:s}", "id", "c5"));
		call_ok(c, PROTO_SIGNAL,
			json_pack("{s:s,s:s,s:i}", "id", "c5", "exec", eid, "signal", SIGTERM));
		assert_killed_by(c, "c5", eid, SIGTERM);
	}
	call_ok(c, PROTO_SIGNAL, json_pack("{s:s,s:i}", "id", "c5", "signal", SIGKILL));
	assert_killed_by(c, "c5", "", SIGKILL);
	call_ok(c, PROTO_DELETE, json_pack("{s:s}", "id", "c5"));

	/* the container's own process: SIGKILL right after START */
	for (int i = 0; i < EARLY_ROUNDS / 4; i++) {
		create_start(c, "c6",
			     mkspec((const char *const[]){ "sleep", "1000", NULL }, false));
		call_ok(c, PROTO_SIGNAL, json_pack("{s:s,s:i}", "id", "c6", "signal", SIGKILL));
		assert_killed_by(c, "c6", "", SIGKILL);
		call_ok(c, PROTO_DELETE, json_pack("{s:s}", "id", "c6"));
	}
}

static void trapped_sigterm(struct ac_conn *c)
{
	/* PID 1 of a namespace gets SIGTERM only through a handler, as under runc */
	int out = attach("c4", "", "stdout");
	create_start(c, "c4",
		     mkspec((const char *const[]){ "sh", "-c",
						   "trap 'echo term; exit 7' TERM; "
						   "echo up; while :; do sleep 1; done",
						   NULL },
			    false));
	char buf[256] = "";
	read_until(out, buf, sizeof(buf), "up\n");
	call_ok(c, PROTO_SIGNAL, json_pack("{s:s,s:i}", "id", "c4", "signal", SIGTERM));
	ck_assert_int_eq(wait_status(c, "c4", ""), 7);
	char *o = read_all(out);
	ck_assert_str_eq(o, "term\n");
	free(o);
	close(out);
	call_ok(c, PROTO_DELETE, json_pack("{s:s}", "id", "c4"));
}

/* The process's attributes from the spec, as the workload sees them. */
static void process_attributes(struct ac_conn *c)
{
	json_t *spec = mkspec((const char *const[]){ "sh", "-c",
						     "id; ulimit -n; "
						     "grep -E '^(CapEff|CapBnd|NoNewPrivs)' "
						     "/proc/self/status; pwd; hostname; echo $FOO; "
						     "touch /x 2>/dev/null || echo root-ro; "
						     "touch /tmp/y && echo tmp-rw",
						     NULL },
			      false);
	json_t *proc = json_object_get(spec, "process");
	json_t *caps = json_pack("[s]", "CAP_NET_BIND_SERVICE");
	json_object_set_new(
		proc, "user",
		json_pack("{s:i,s:i,s:[i]}", "uid", 1000, "gid", 1000, "additionalGids", 10));
	json_object_set_new(
		proc, "rlimits",
		json_pack("[{s:s,s:i,s:i}]", "type", "RLIMIT_NOFILE", "soft", 100, "hard", 100));
	json_object_set_new(proc, "noNewPrivileges", json_true());
	json_object_set_new(proc, "capabilities",
			    json_pack("{s:O,s:O,s:O,s:O,s:O}", "bounding", caps, "effective", caps,
				      "permitted", caps, "inheritable", caps, "ambient", caps));
	json_decref(caps);
	json_object_set_new(proc, "cwd", json_string("/tmp"));
	json_array_append_new(json_object_get(proc, "env"), json_string("FOO=bar"));
	json_object_set_new(json_object_get(spec, "root"), "readonly", json_true());
	json_array_append_new(json_object_get(spec, "mounts"),
			      json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination", "/tmp", "type",
					"tmpfs", "source", "tmpfs", "options", "nosuid",
					"mode=1777"));

	int out = attach("c7", "", "stdout");
	create_start(c, "c7", spec);
	char *o = read_all(out);
	ck_assert_int_eq(wait_status(c, "c7", ""), 0);
	static const char *const want[] = { "uid=1000",
					    "gid=1000",
					    "groups=10",
					    "\n100\n",
					    "CapEff:\t0000000000000400",
					    "CapBnd:\t0000000000000400",
					    "NoNewPrivs:\t1",
					    "\n/tmp\n",
					    "husk-test\n",
					    "bar\n",
					    "root-ro\n",
					    "tmp-rw\n" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(o, want[i]), "no \"%s\" in:\n%s", want[i], o);
	free(o);
	close(out);
	call_ok(c, PROTO_DELETE, json_pack("{s:s}", "id", "c7"));
}

/*
 * A container with a network namespace of its own: lo is up there from
 * CREATE on (IPv4 and IPv6), the spec's net.* sysctls are set in it, and
 * NETWORK is served (no virtio-net device here: an interface asked for is
 * missing, and says so).
 */
static void network_namespace(struct ac_conn *c)
{
	json_t *spec =
		mkspec((const char *const[]){ "sh", "-c",
					      "cat /proc/sys/net/ipv4/ip_unprivileged_port_start"
					      " /proc/sys/net/ipv4/ping_group_range; "
					      "ip link show lo; ip addr show lo",
					      NULL },
		       false);
	json_t *lnx = json_object_get(spec, "linux");
	json_array_append_new(json_object_get(lnx, "namespaces"),
			      json_pack("{s:s}", "type", "network"));
	json_object_set_new(lnx, "sysctl",
			    json_pack("{s:s,s:s,s:s}", "net.ipv4.ip_unprivileged_port_start", "0",
				      "net.ipv4.ping_group_range", "0 2147483647",
				      "kernel.domainname", "ignored"));
	int out = attach("c12", "", "stdout");
	call_ok(c, PROTO_CREATE,
		json_pack("{s:s,s:o,s:{s:s,s:s}}", "id", "c12", "spec", spec, "rootfs", "source",
			  "/dev/vda", "type", "ext4"));
	call_ok(c, PROTO_NETWORK, json_pack("{s:s,s:[]}", "id", "c12", "interfaces"));
	struct husk_err e = { 0 };
	json_t *res = NULL;
	ck_assert_int_eq(ac_call(c, PROTO_NETWORK,
				 json_pack("{s:s,s:[{s:s,s:s,s:s,s:i}]}", "id", "c12", "interfaces",
					   "device_mac", "02:68:75:73:6b:00", "name", "eth0", "mac",
					   "0a:58:0a:58:00:05", "mtu", 1500),
				 &res, &e),
			 -ENODEV);
	ck_assert_msg(strstr(e.msg, "the guest has no interface with MAC 02:68:75:73:6b:00"), "%s",
		      e.msg);
	call_ok(c, PROTO_START, json_pack("{s:s}", "id", "c12"));
	char *o = read_all(out);
	ck_assert_int_eq(wait_status(c, "c12", ""), 0);
	static const char *const want[] = { "0\n0\t2147483647\n", "<LOOPBACK,UP,LOWER_UP>",
					    "inet 127.0.0.1/8", "inet6 ::1/128" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(o, want[i]), "no \"%s\" in:\n%s", want[i], o);
	free(o);
	close(out);
	call_ok(c, PROTO_DELETE, json_pack("{s:s}", "id", "c12"));

	/*
	 * The next one gets a namespace of its own, not the one made ahead
	 * that c12 (or an earlier container) took: lo up, c12's sysctl unseen.
	 */
	spec = mkspec((const char *const[]){ "sh", "-c",
					     "cat /proc/sys/net/ipv4/ip_unprivileged_port_start; "
					     "ip link show lo",
					     NULL },
		      false);
	json_array_append_new(json_object_get(json_object_get(spec, "linux"), "namespaces"),
			      json_pack("{s:s}", "type", "network"));
	out = attach("c13", "", "stdout");
	create_start_on(c, "c13", spec, "/dev/vda", "ext4");
	o = read_all(out);
	ck_assert_msg(!strncmp(o, "1024\n", 5) && strstr(o, "<LOOPBACK,UP,LOWER_UP>"), "%s", o);
	ck_assert_int_eq(wait_status(c, "c13", ""), 0);
	free(o);
	close(out);
	call_ok(c, PROTO_DELETE, json_pack("{s:s}", "id", "c13"));
}

/* A read-only erofs image as the root, from the guest's second disk. */
static void erofs_root(struct ac_conn *c)
{
	json_t *spec = mkspec((const char *const[]){ "sh", "-c",
						     "cat /etc/hostname; touch /x 2>/dev/null || "
						     "echo read-only",
						     NULL },
			      false);
	json_object_set_new(json_object_get(spec, "root"), "readonly", json_true());
	int out = attach("c8", "", "stdout");
	create_start_on(c, "c8", spec, "/dev/vdb", "erofs");
	char *o = read_all(out);
	ck_assert_str_eq(o, "husk\nread-only\n");
	ck_assert_int_eq(wait_status(c, "c8", ""), 0);
	free(o);
	close(out);
	call_ok(c, PROTO_DELETE, json_pack("{s:s}", "id", "c8"));
}

/* A host directory as the root, shared with virtio-fs: what the container
 * writes is in the directory on the host. */
static void virtiofs_root(struct ac_conn *c)
{
	char path[160];
	int out = attach("c9", "", "stdout");
	create_start_on(c, "c9",
			mkspec((const char *const[]){ "sh", "-c",
						      "echo written in the guest > /tmp/note; "
						      "grep -c virtiofs /proc/mounts",
						      NULL },
			       false),
			"shared", "virtiofs");
	char *o = read_all(out);
	ck_assert_str_eq(o, "1\n");
	ck_assert_int_eq(wait_status(c, "c9", ""), 0);
	free(o);
	close(out);
	call_ok(c, PROTO_DELETE, json_pack("{s:s}", "id", "c9"));
	snprintf(path, sizeof(path), "%s/tmp/note", rootdir);
	o = slurp(path);
	ck_assert_str_eq(o, "written in the guest\n");
	free(o);
}

static void missing_program(struct ac_conn *c)
{
	struct husk_err e = { 0 };
	json_t *req =
		json_pack("{s:s,s:o,s:{s:s}}", "id", "c5", "spec",
			  mkspec((const char *const[]){ "/bin/no-such-program", NULL }, false),
			  "rootfs", "source", "/dev/vda");
	ck_assert_int_lt(ac_call(c, PROTO_CREATE, req, NULL, &e), 0);
	ck_assert_int_eq(e.code, ENOENT);
	ck_assert_msg(strstr(e.msg, "no-such-program"), "%s", e.msg);
}

static void terminal_and_resize(struct ac_conn *c)
{
	int tty = attach("c6", "", "tty");
	create_start(c, "c6",
		     mkspec((const char *const[]){ "sh", "-c", "tty; stty size; read x; stty size",
						   NULL },
			    true));
	char buf[1024] = "";
	read_until(tty, buf, sizeof(buf), "24 80");
	ck_assert_msg(strstr(buf, "/dev/pts/0"), "tty said: %s", buf);
	call_ok(c, PROTO_RESIZE, json_pack("{s:s,s:i,s:i}", "id", "c6", "rows", 30, "cols", 100));
	ck_assert_int_eq(write(tty, "go\r", 3), 3);
	read_until(tty, buf, sizeof(buf), "30 100");
	ck_assert_int_eq(wait_status(c, "c6", ""), 0);
	close(tty);
	call_ok(c, PROTO_DELETE, json_pack("{s:s}", "id", "c6"));
}

static void malformed_messages(void)
{
	struct husk_err e = { 0 };
	struct ac_conn c = { .fd = ac_dial(uds, PROTO_AGENT_PORT, 0, NULL, &e) };
	ck_assert_msg(c.fd >= 0, "%s", e.msg);

	/* a payload that is not JSON: an error naming it, and the connection goes on */
	uint8_t hdr[PROTO_HDR_SIZE];
	struct proto_hdr h = { PROTO_MAGIC, PROTO_VERSION, PROTO_HELLO, 77, 5 };
	proto_hdr_encode(&h, hdr);
	ck_assert_int_eq(write(c.fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	ck_assert_int_eq(write(c.fd, "{bad}", 5), 5);
	struct proto_msg m = { 0 };
	ck_assert_int_eq(proto_recv(c.fd, &m, &e), 0);
	ck_assert_int_eq(m.hdr.type, PROTO_ERROR);
	ck_assert_int_eq(m.hdr.id, 77);
	proto_msg_free(&m);
	/* requests the agent does not know, or out of order */
	ck_assert_int_lt(ac_call(&c, PROTO_START, json_pack("{s:s}", "id", "nope"), NULL, &e), 0);
	ck_assert_msg(strstr(e.msg, "nope"), "%s", e.msg);
	memset(&e, 0, sizeof(e));
	ck_assert_int_lt(ac_call(&c, PROTO_CREATE, json_pack("{s:s}", "id", "x"), NULL, &e), 0);
	ck_assert_msg(strstr(e.msg, "spec"), "%s", e.msg);
	call_ok(&c, PROTO_HELLO, json_pack("{s:i}", "version", 1));

	/* a header it cannot follow: an error, then the connection is closed */
	ck_assert_int_eq(write(c.fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	ck_assert_int_eq(proto_recv(c.fd, &m, &e), 0);
	ck_assert_int_eq(m.hdr.type, PROTO_ERROR);
	proto_msg_free(&m);
	char *rest = read_all(c.fd);
	free(rest);
	ac_close(&c);
}

START_TEST(agent_in_one_boot)
{
	struct husk_err e = { 0 };
	struct ac_conn c;
	char kernel[128];

	const char *args[] = { "--kernel",    HUSK_GUEST_DIR "/vmlinux",
			       "--initrd",    HUSK_GUEST_DIR "/initramfs.cpio",
			       "--vsock-uds", uds,
			       "--disk",      rootfs,
			       "--disk",      HUSK_GUEST_DIR "/rootfs.erofs,ro",
			       "--fs",	      fsarg,
			       NULL };
	vmm_start(&vm, args);
	ck_assert_msg(ac_open(&c, uds, BOOT_TIMEOUT * 1000, NULL, kernel, sizeof(kernel), &e) == 0,
		      "%s", e.msg);
	ck_assert_msg(strncmp(kernel, "6.1", 3) == 0, "kernel %s", kernel);

	out_err_status(&c);
	stdin_and_eof(&c);
	exec_signals_ps(&c);
	early_signals(&c);
	trapped_sigterm(&c);
	process_attributes(&c);
	network_namespace(&c);
	erofs_root(&c);
	virtiofs_root(&c);
	missing_program(&c);
	terminal_and_resize(&c);
	malformed_messages();

	call_ok(&c, PROTO_SHUTDOWN, NULL);
	ac_close(&c);
	vmm_wait(&vm, 120);
	ck_assert_msg(vm.status == 0, "husk-vmm status %d: %s", vm.status, vm.err);
}
END_TEST

/* --- husk-vmm --spec -------------------------------------------------------- */

/* virtiofsd processes serving this test's directory. */
static int count_virtiofsd(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d))) {
		char path[300], cmd[512];
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (len <= 0)
			continue;
		cmd[len] = '\0';
		char source[120];
		snprintf(source, sizeof(source), "source=%s", rootdir);
		n += strstr(cmd, "virtiofsd") && memmem(cmd, (size_t)len, source, strlen(source));
	}
	if (d)
		closedir(d);
	return n;
}

START_TEST(vmm_runs_a_spec)
{
	char bundle[120], config[140], out[140], err[140];
	snprintf(bundle, sizeof(bundle), "%s/bundle", dir);
	snprintf(config, sizeof(config), "%s/config.json", bundle);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	ck_assert_int_eq(mkdir(bundle, 0755), 0);
	json_t *spec = mkspec(
		(const char *const[]){ "sh", "-c",
				       "echo out; echo err >&2; touch /spec-ran; exit 3", NULL },
		false);
	/* a directory root: shared with virtio-fs */
	json_object_set_new(json_object_get(spec, "root"), "path", json_string(rootdir));
	ck_assert_int_eq(json_dump_file(spec, config, 0), 0);
	json_decref(spec);

	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int n = open("/dev/null", O_RDONLY);
		dup2(n, 0);
		dup2(o, 1);
		dup2(e, 2);
		execl(HUSK_VMM_PATH, "husk-vmm", "--kernel", HUSK_GUEST_DIR "/vmlinux", "--initrd",
		      HUSK_GUEST_DIR "/initramfs.cpio", "--spec", config, (char *)NULL);
		_exit(99);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	char *o = slurp(out), *e = slurp(err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 3, "status 0x%x, stderr: %s", st, e);
	ck_assert_str_eq(o, "out\n");
	ck_assert_str_eq(e, "err\n"); /* nothing of husk-vmm's or virtiofsd's */
	free(o);
	free(e);
	char ran[120];
	snprintf(ran, sizeof(ran), "%s/spec-ran", rootdir);
	ck_assert_msg(access(ran, F_OK) == 0, "%s is missing", ran);
	/* nothing left behind: no virtiofsd of ours */
	ck_assert_int_eq(count_virtiofsd(), 0);
}
END_TEST

int main(void)
{
	if (!kvm_present())
		return 77;
	if (!mkdtemp(dir))
		return 1;
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs.ext4", dir);
	snprintf(rootdir, sizeof(rootdir), "%s/rootfs.dir", dir);
	snprintf(fsarg, sizeof(fsarg), "shared=%s", rootdir);
	/* the build tree's path has no limit: the command is as long as it needs */
	cleanup_free char *copy = path_alloc("cp '%s/rootfs.ext4' '%s' && "
					     "cp -a '%s/rootfs.dir' '%s'",
					     HUSK_GUEST_DIR, rootfs, HUSK_GUEST_DIR, rootdir);
	if (!copy || system(copy) != 0)
		return 1;

	const TTest *const tests[] = { vmm_runs_a_spec, agent_in_one_boot };
	int failed = kvm_run_in_order("agent", BOOT_TIMEOUT + 900, tests, 2);

	vmm_run_free(&vm);
	char rm[sizeof(dir) + 16];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	if (system(rm) != 0)
		return 1;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
