/*
 * Shared by the agent's unit tests: an agent (huskagent-host) with one
 * connection, the host's end of a socketpair, driven one event at a time.
 */
#ifndef HUSK_TESTS_AGENT_HARNESS_H
#define HUSK_TESTS_AGENT_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "unit.h"

#define HARNESS_STEPS 500 /* of 10 ms: how long a reply may take */

struct harness {
	struct agent a;
	int client; /* the host's end of the connection */
	uint32_t next_id;
};

/* A new connection to the agent; its host end. */
static inline int harness_connect(struct harness *h)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(srv_add_conn(&h->a, sv[1]), 0);
	return sv[0];
}

static inline void harness_init(struct harness *h, const struct agent_ops *ops)
{
	memset(h, 0, sizeof(*h));
	h->a.ops = ops;
	h->a.own_pidns = h->a.spare_netns = -1;
	ck_assert_int_eq(srv_init(&h->a), 0);
	h->client = harness_connect(h);
}

static inline void harness_fini(struct harness *h)
{
	ctr_shutdown_all(&h->a);
	srv_fini(&h->a);
	close(h->client);
}

/* Run the agent until `fd` has something to read (or was hung up on); false on time-out. */
static inline bool harness_until_readable(struct harness *h, int fd)
{
	for (int i = 0; i < HARNESS_STEPS; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 0) == 1)
			return true;
		srv_step(&h->a, 10);
	}
	return false;
}

/* The next message on `fd`, running the agent until it comes. */
static inline void harness_recv_on(struct harness *h, int fd, struct proto_msg *m)
{
	struct husk_err e = { 0 };
	ck_assert_msg(harness_until_readable(h, fd), "no reply from the agent");
	ck_assert_msg(proto_recv(fd, m, &e) == 0, "reading the reply: %s", e.msg);
}

/* Send a message with a payload given as JSON text. */
static inline void harness_send_on(int fd, uint16_t type, uint32_t id, const char *json)
{
	json_t *payload = json_loads(json, 0, NULL);
	ck_assert_ptr_nonnull(payload);
	ck_assert_int_eq(proto_send(fd, type, id, payload), 0);
	json_decref(payload);
}

/* Send a request (payload as JSON text) and return its id. */
static inline uint32_t harness_send(struct harness *h, uint16_t type, const char *json)
{
	uint32_t id = ++h->next_id;
	harness_send_on(h->client, type, id, json);
	return id;
}

/* A request and its reply (which must be the next message). */
static inline void harness_call(struct harness *h, uint16_t type, const char *json,
				struct proto_msg *reply)
{
	uint32_t id = harness_send(h, type, json);
	harness_recv_on(h, h->client, reply);
	ck_assert_uint_eq(reply->hdr.id, id);
}

/* The reply must be an ERROR whose message contains `words`. */
static inline void harness_assert_error(const struct proto_msg *m, const char *words)
{
	ck_assert_uint_eq(m->hdr.type, PROTO_ERROR);
	const char *msg = json_string_value(json_object_get(m->payload, "error"));
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, words), "error \"%s\" does not say \"%s\"", msg, words);
}

/* A CREATE request (its JSON) that must succeed; the container process's PID. */
static inline pid_t harness_create(struct harness *h, const char *req)
{
	struct proto_msg m = { 0 };
	harness_call(h, PROTO_CREATE, req, &m);
	ck_assert_msg(m.hdr.type == PROTO_OK, "create: %s",
		      json_string_value(json_object_get(m.payload, "error")));
	pid_t pid = (pid_t)json_integer_value(json_object_get(m.payload, "pid"));
	ck_assert_int_gt(pid, 0);
	proto_msg_free(&m);
	return pid;
}

/* A request that must be answered OK. */
static inline void harness_call_ok(struct harness *h, uint16_t type, const char *json)
{
	struct proto_msg m = { 0 };
	harness_call(h, type, json, &m);
	ck_assert_msg(m.hdr.type == PROTO_OK, "%s %s: %s", proto_type_name(type), json,
		      json_string_value(json_object_get(m.payload, "error")));
	proto_msg_free(&m);
}

/* A request that must be refused with an ERROR saying `words`. */
static inline void harness_call_error(struct harness *h, uint16_t type, const char *json,
				      const char *words)
{
	struct proto_msg m = { 0 };
	harness_call(h, type, json, &m);
	harness_assert_error(&m, words);
	proto_msg_free(&m);
}

#endif
