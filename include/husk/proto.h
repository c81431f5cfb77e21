/*
 * The wire protocol of every control channel: between the host (husk-vmm,
 * husk) and husk-agent, over virtio-vsock, and between husk and husk-vmm,
 * over its control socket (below). Defined here once; every side links
 * common/proto.c.
 *
 * Every message is a fixed 16-byte header followed by `len` bytes of
 * payload, a JSON object (encoded with jansson). All header fields are
 * little-endian. A reply carries the id of its request and the type
 * PROTO_OK (the payload is the result) or PROTO_ERROR ({"error": "message",
 * "errno": N}). Requests on one connection are answered in any order (a
 * WAIT is answered when the process ends); match replies by id.
 *
 * Connections: the agent listens on vsock port PROTO_AGENT_PORT. The first
 * message on a connection decides what it is:
 *   - PROTO_STREAM makes it a stream: after the agent's OK it carries only
 *     the raw bytes of one stdio stream of one process, so that a slow
 *     reader stalls only that stream. stdin, stdout and stderr each have
 *     their own connection; a terminal has one ("tty") for both ways.
 *     Streams are attached before the CREATE or EXEC that starts their
 *     process; a stream not attached is /dev/null. The host ends stdin by
 *     closing it; the agent ends an output stream (EOF) when the process
 *     and everything that inherited it have closed it.
 *   - anything else makes it a control connection.
 *
 * Requests and their payloads ("exec" names an exec'd process of the
 * container; absent or "" means the container's own process):
 *   HELLO    {"version": 1}                     -> {"version": 1, "kernel": "6.1.0"}
 *   CREATE   {"id": "c1", "spec": {OCI config: process, root, mounts,
 *             hostname, linux.namespaces, linux.resources},
 *             "rootfs": {"source": "/dev/vda", "type": "ext4"},
 *             "binds": "tag", "run_once": false} -> {"pid": N}
 *            rootfs.source is a device, or a virtio-fs tag with type
 *            "virtiofs"; "binds" names a virtio-fs share mounted at
 *            /run/husk/<id>/binds, where the spec's bind sources point.
 *            The process is set up and stopped just before it runs its
 *            program; a program that cannot be found fails here.
 *   START    {"id": "c1"}                       -> {}
 *   EXEC     {"id": "c1", "exec": "e1", "process": {OCI process}} -> {"pid": N}
 *   SIGNAL   {"id": "c1", "exec": "e1", "signal": 15, "all": false} -> {}
 *   WAIT     {"id": "c1", "exec": "e1"}         -> {"exit_code": 3} or {"signal": 9}
 *   RESIZE   {"id": "c1", "exec": "e1", "rows": 24, "cols": 80} -> {}
 *   PS       {"id": "c1"}                       -> {"pids": [1, 7], "commands": ["sh", "sleep 9"]}
 *   UPDATE   {"id": "c1", "resources": {OCI linux.resources}} -> {}
 *            sets the container's memory and pids limits in the guest
 *   DELETE   {"id": "c1"}                       -> {} (kills what is left, unmounts)
 *   SHUTDOWN {}                                 -> {} then the guest powers off
 *   STREAM   {"id": "c1", "exec": "e1", "stream": "stdin"|"stdout"|"stderr"|"tty"} -> {}
 *   NETWORK  {"id": "c1",
 *             "interfaces": [{"device_mac": "02:68:75:73:6b:00", "name": "eth0",
 *                             "mac": "0a:58:0a:58:00:05", "mtu": 1500,
 *                             "addresses": ["10.88.0.5/16", "fd00::5/64"]}],
 *             "routes": [{"dest": "default", "gateway": "10.88.0.1", "dev": "eth0",
 *                         "metric": 100}]}     -> {}
 *            the container's network, before START: the guest's interface
 *            whose MAC is device_mac (the one husk-vmm gave its virtio-net
 *            device) moves into the container's network namespace, is
 *            renamed, gets mac, mtu (68..65535) and the addresses (CIDR,
 *            IPv4 or IPv6; no duplicate address detection) and comes up;
 *            then the routes are appended to the main table (several
 *            default routes may be given). "dest" is "default" (IPv4's,
 *            or IPv6's with an IPv6 gateway) or a network ("10.1.0.0/16",
 *            "::/0"); no "gateway" makes a link route on "dev", one of the
 *            interfaces' names; "metric" is optional. At most 4
 *            interfaces, 32 addresses each, 128 routes. The same request
 *            again succeeds. The container must have a network namespace
 *            of its own (where lo is up from CREATE on, and the spec's
 *            linux.sysctl net.* entries are set: those of an interface,
 *            net.ipv4.conf.eth0.*, once NETWORK brings it).
 *   REFRESH  {"time_ns": 1764672000123456789, "seed": "<64 hex digits or more>"} -> {}
 *            after a VM was restored from a template: the guest's wall
 *            clock is set to time_ns (Unix time in nanoseconds) and seed
 *            (32..256 bytes of host entropy, hex) is mixed into the
 *            guest's random pool, whose generator is then reseeded, so
 *            that clones of one template share no random state from here
 *            on. Sent before any container is created.
 * PIDs are the guest's. In run-once mode (CREATE "run_once": true) the agent
 * powers the guest off once the container's process has ended and no
 * control connection is left.
 *
 * husk-vmm's control socket (--control, a Unix socket) takes the same
 * messages, one request per connection, for the container it runs:
 *   START    {"id": "c1"}                       -> {} once the workload runs
 *   SIGNAL   {"id": "c1", "signal": 15, "all": false} -> {}
 *            a paused container takes only SIGKILL, which ends its VM
 *   PAUSE    {"id": "c1"}                       -> {} (the vCPUs stop)
 *   RESUME   {"id": "c1"}                       -> {}
 *   STATE    {"id": "c1"}                       -> {"state": "booting"|"created"|
 *                                                  "running"|"paused"|"stopped"}
 * "id", optional there, must name that container. Refusals are runc's words
 * ("container not running", with errno ESRCH, "container not paused",
 * "cannot start an already running container", ...). The agent answers
 * PAUSE, RESUME and STATE with EOPNOTSUPP.
 */
#ifndef HUSK_PROTO_H
#define HUSK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "husk/error.h"

#define PROTO_MAGIC	  0x4b535548u /* "HUSK" as little-endian bytes */
#define PROTO_VERSION	  1
#define PROTO_HDR_SIZE	  16
#define PROTO_MAX_PAYLOAD (1u << 20) /* a larger message is refused */
#define PROTO_AGENT_PORT  1024

enum proto_type {
	PROTO_HELLO = 1,
	PROTO_CREATE = 2,
	PROTO_START = 3,
	PROTO_EXEC = 4,
	PROTO_SIGNAL = 5,
	PROTO_WAIT = 6,
	PROTO_RESIZE = 7,
	PROTO_PS = 8,
	PROTO_DELETE = 9,
	PROTO_SHUTDOWN = 10,
	PROTO_STREAM = 11,
	PROTO_UPDATE = 12,
	PROTO_PAUSE = 13,   /* husk-vmm's control socket only */
	PROTO_RESUME = 14,  /* husk-vmm's control socket only */
	PROTO_STATE = 15,   /* husk-vmm's control socket only */
	PROTO_NETWORK = 16, /* the agent only */
	PROTO_REFRESH = 17, /* the agent only */
	PROTO_OK = 0x100,
	PROTO_ERROR = 0x101,
};

struct proto_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t id;  /* request id, chosen by the requester */
	uint32_t len; /* payload bytes after the header */
};

/* "hello", "create", ... or NULL for a type this version does not know. */
const char *proto_type_name(uint16_t type);

void proto_hdr_encode(const struct proto_hdr *h, uint8_t out[PROTO_HDR_SIZE]);

/*
 * Decode and check a header: magic, version, a known type, len at most
 * PROTO_MAX_PAYLOAD. On error, `h` still holds what was read (its id lets
 * the agent answer), and `e` says what is wrong.
 */
int proto_hdr_decode(const uint8_t in[PROTO_HDR_SIZE], struct proto_hdr *h, struct husk_err *e);

/* Parse a payload: it must be one JSON object. On success *out is a new reference. */
int proto_payload_decode(const void *buf, size_t len, json_t **out, struct husk_err *e);

/*
 * A whole message (header + payload) in a malloc'd buffer. `payload` may be
 * NULL for {}. Fails (-EMSGSIZE) if the payload is too large.
 */
int proto_encode(uint16_t type, uint32_t id, const json_t *payload, uint8_t **out, size_t *outlen);

/*
 * Incremental decoding of a byte stream (the agent's non-blocking reads, the
 * fuzzer): feed bytes, take whole messages out.
 */
struct proto_reader {
	uint8_t hdr[PROTO_HDR_SIZE];
	size_t hdr_got;
	struct proto_hdr cur;
	uint8_t *payload; /* cur.len bytes once the header is in */
	size_t payload_got;
	bool broken; /* a header it could not follow: nothing more is decoded */
};

struct proto_msg {
	struct proto_hdr hdr;
	json_t *payload; /* owned by the message; free with proto_msg_free */
};

void proto_reader_init(struct proto_reader *r);
void proto_reader_free(struct proto_reader *r);
/*
 * Consume up to `len` bytes from `buf` (*used says how many) and stop at the
 * end of a message. Returns 1 with *msg filled when a whole message is in,
 * 0 when more bytes are needed, or a negative errno for a bad header or
 * payload. A bad payload has been consumed whole, so the stream stays in
 * step and the caller can answer (msg->hdr holds the header) and go on; so
 * is a message of a type this side does not know. A header that cannot be
 * followed (bad magic, version or length) sets r->broken: the connection
 * cannot be resynchronised and should end.
 */
int proto_reader_feed(struct proto_reader *r, const uint8_t *buf, size_t len, size_t *used,
		      struct proto_msg *msg, struct husk_err *e);
void proto_msg_free(struct proto_msg *m);

/* Blocking I/O on a connected socket (host side and tests). */
int proto_send(int fd, uint16_t type, uint32_t id, const json_t *payload);
/*
 * Reads one whole message, through a proto_reader, reading no byte past it;
 * -ECONNRESET on EOF before a message. On a bad message msg->hdr holds what
 * was read of its header (its id lets a server answer).
 */
int proto_recv(int fd, struct proto_msg *msg, struct husk_err *e);
/* The same, -ETIMEDOUT when no byte comes for timeout_ms (-1: wait as long as it takes). */
int proto_recv_ms(int fd, int timeout_ms, struct proto_msg *msg, struct husk_err *e);

/*
 * One request with id `id` and its reply (messages with other ids are
 * skipped). `req` is consumed (NULL for {}); `peer` names the other side in
 * errors ("the agent"). Returns 0 on OK, with *result (if result is
 * non-NULL) its payload; 1 on ERROR, with `e` holding the reply's message
 * and errno; a negative errno, `e` saying why, when no reply came
 * (timeout_ms as for proto_recv_ms).
 */
int proto_call(int fd, uint16_t type, uint32_t id, json_t *req, int timeout_ms, const char *peer,
	       json_t **result, struct husk_err *e);

/* Payload field helpers: each names the field in its error. */
int proto_get_string(const json_t *obj, const char *key, int required, const char **out,
		     struct husk_err *e);
int proto_get_int(const json_t *obj, const char *key, int required, long long min, long long max,
		  long long *out, struct husk_err *e);
int proto_get_bool(const json_t *obj, const char *key, int *out, struct husk_err *e);

/* The error reply payload {"error": msg, "errno": code}; NULL on ENOMEM. */
json_t *proto_error_payload(const struct husk_err *e);

#endif
