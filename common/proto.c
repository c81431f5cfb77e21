/* The agent protocol's codec (see include/husk/proto.h). */
#include "husk/proto.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const proto_names[] = {
	[PROTO_HELLO] = "hello",       [PROTO_CREATE] = "create",   [PROTO_START] = "start",
	[PROTO_EXEC] = "exec",	       [PROTO_SIGNAL] = "signal",   [PROTO_WAIT] = "wait",
	[PROTO_RESIZE] = "resize",     [PROTO_PS] = "ps",	    [PROTO_DELETE] = "delete",
	[PROTO_SHUTDOWN] = "shutdown", [PROTO_STREAM] = "stream",   [PROTO_UPDATE] = "update",
	[PROTO_PAUSE] = "pause",       [PROTO_RESUME] = "resume",   [PROTO_STATE] = "state",
	[PROTO_NETWORK] = "network",   [PROTO_REFRESH] = "refresh",
};

const char *proto_type_name(uint16_t type)
{
	if (type == PROTO_OK)
		return "ok";
	if (type == PROTO_ERROR)
		return "error";
	if (type < sizeof(proto_names) / sizeof(proto_names[0]))
		return proto_names[type];
	return NULL;
}

static void proto_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t proto_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void proto_hdr_encode(const struct proto_hdr *h, uint8_t out[PROTO_HDR_SIZE])
{
	proto_put32(out, h->magic);
	out[4] = (uint8_t)h->version;
	out[5] = (uint8_t)(h->version >> 8);
	out[6] = (uint8_t)h->type;
	out[7] = (uint8_t)(h->type >> 8);
	proto_put32(out + 8, h->id);
	proto_put32(out + 12, h->len);
}

int proto_hdr_decode(const uint8_t in[PROTO_HDR_SIZE], struct proto_hdr *h, struct husk_err *e)
{
	h->magic = proto_get32(in);
	h->version = (uint16_t)(in[4] | in[5] << 8);
	h->type = (uint16_t)(in[6] | in[7] << 8);
	h->id = proto_get32(in + 8);
	h->len = proto_get32(in + 12);
	if (h->magic != PROTO_MAGIC)
		return husk_err_set(e, EPROTO, "bad magic 0x%08x", h->magic);
	if (h->version != PROTO_VERSION)
		return husk_err_set(e, EPROTO, "protocol version %u, this side speaks %u",
				    h->version, PROTO_VERSION);
	if (!proto_type_name(h->type))
		return husk_err_set(e, EPROTO, "unknown message type %u", h->type);
	if (h->len > PROTO_MAX_PAYLOAD)
		return husk_err_set(e, EMSGSIZE, "payload of %u bytes is over the limit of %u",
				    h->len, PROTO_MAX_PAYLOAD);
	return 0;
}

int proto_payload_decode(const void *buf, size_t len, json_t **out, struct husk_err *e)
{
	json_error_t jerr;

	*out = NULL;
	if (len == 0) {
		*out = json_object();
		return *out ? 0 : husk_err_set(e, ENOMEM, "out of memory");
	}
	json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v)
		return husk_err_set(e, EBADMSG, "payload is not JSON: %s at byte %d", jerr.text,
				    jerr.position);
	if (!json_is_object(v)) {
		json_decref(v);
		return husk_err_set(e, EBADMSG, "payload is not a JSON object");
	}
	*out = v;
	return 0;
}

int proto_encode(uint16_t type, uint32_t id, const json_t *payload, uint8_t **out, size_t *outlen)
{
	if (payload && !json_is_object(payload))
		return -EINVAL; /* every payload is an object, replies included */
	char *body = payload ? json_dumps(payload, JSON_COMPACT) : strdup("{}");
	if (!body)
		return -ENOMEM;
	size_t len = strlen(body);
	if (len > PROTO_MAX_PAYLOAD) {
		free(body);
		return -EMSGSIZE;
	}
	uint8_t *msg = malloc(PROTO_HDR_SIZE + len);
	if (!msg) {
		free(body);
		return -ENOMEM;
	}
	struct proto_hdr h = { PROTO_MAGIC, PROTO_VERSION, type, id, (uint32_t)len };
	proto_hdr_encode(&h, msg);
	memcpy(msg + PROTO_HDR_SIZE, body, len);
	free(body);
	*out = msg;
	*outlen = PROTO_HDR_SIZE + len;
	return 0;
}

/* --- incremental decoding ----------------------------------------------------- */

void proto_reader_init(struct proto_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void proto_reader_free(struct proto_reader *r)
{
	free(r->payload);
	proto_reader_init(r);
}

void proto_msg_free(struct proto_msg *m)
{
	json_decref(m->payload);
	m->payload = NULL;
}

/* Only the type is unknown: the length can still be trusted to skip the message. */
static bool proto_hdr_skippable(const struct proto_hdr *h)
{
	return h->magic == PROTO_MAGIC && h->version == PROTO_VERSION &&
	       h->len <= PROTO_MAX_PAYLOAD;
}

int proto_reader_feed(struct proto_reader *r, const uint8_t *buf, size_t len, size_t *used,
		      struct proto_msg *msg, struct husk_err *e)
{
	size_t off = 0;
	int rc;

	*used = 0;
	memset(msg, 0, sizeof(*msg));
	if (r->broken) {
		*used = len;
		return husk_err_set(e, EPROTO, "the stream is out of step after a bad header");
	}
	if (r->hdr_got < PROTO_HDR_SIZE) {
		struct husk_err he = { 0 };
		size_t n = PROTO_HDR_SIZE - r->hdr_got;
		if (n > len)
			n = len;
		if (n)
			memcpy(r->hdr + r->hdr_got, buf, n);
		r->hdr_got += n;
		off += n;
		*used = off;
		if (r->hdr_got < PROTO_HDR_SIZE)
			return 0;
		if (proto_hdr_decode(r->hdr, &r->cur, &he) < 0 && !proto_hdr_skippable(&r->cur)) {
			msg->hdr = r->cur;
			r->broken = true;
			return husk_err_set(e, he.code, "%s", he.msg);
		}
		if (r->cur.len && !(r->payload = malloc(r->cur.len))) {
			msg->hdr = r->cur;
			r->broken = true;
			return husk_err_set(e, ENOMEM, "out of memory");
		}
	}
	size_t n = r->cur.len - r->payload_got;
	if (n > len - off)
		n = len - off;
	if (n)
		memcpy(r->payload + r->payload_got, buf + off, n);
	r->payload_got += n;
	off += n;
	*used = off;
	if (r->payload_got < r->cur.len)
		return 0;

	msg->hdr = r->cur;
	if (!proto_type_name(r->cur.type))
		rc = husk_err_set(e, EPROTO, "unknown message type %u", r->cur.type);
	else
		rc = proto_payload_decode(r->payload, r->cur.len, &msg->payload, e);
	free(r->payload);
	r->payload = NULL;
	r->hdr_got = r->payload_got = 0;
	return rc < 0 ? rc : 1;
}

/* --- blocking I/O ----------------------------------------------------------------- */

static int proto_write_all(int fd, const uint8_t *p, size_t n)
{
	bool sock = true;

	while (n) {
		ssize_t w = sock ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
		if (w < 0 && errno == ENOTSOCK) {
			sock = false; /* a pipe or a file (tests): no SIGPIPE to avoid */
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int proto_send(int fd, uint16_t type, uint32_t id, const json_t *payload)
{
	uint8_t *msg;
	size_t len;
	int r = proto_encode(type, id, payload, &msg, &len);
	if (r < 0)
		return r;
	r = proto_write_all(fd, msg, len);
	free(msg);
	return r;
}

/* Feed `r` from fd what the message needs and no more, until one is whole. */
static int proto_recv_feed(int fd, int timeout_ms, struct proto_reader *r, struct proto_msg *msg,
			   struct husk_err *e)
{
	uint8_t buf[16384];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		bool in_hdr = r->hdr_got < PROTO_HDR_SIZE;
		size_t need = in_hdr ? PROTO_HDR_SIZE - r->hdr_got : r->cur.len - r->payload_got;
		if (need > sizeof(buf))
			need = sizeof(buf);
		if (timeout_ms >= 0) {
			int p = poll(&pfd, 1, timeout_ms);
			if (p < 0 && errno == EINTR)
				continue;
			if (p == 0)
				return husk_err_set(e, ETIMEDOUT, "no message within %d ms",
						    timeout_ms);
		}
		ssize_t n = read(fd, buf, need);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_err_set(e, errno, "reading a message%s: %s",
					    in_hdr ? " header" : "", strerror(errno));
		if (n == 0 && in_hdr && r->hdr_got == 0)
			return husk_err_set(e, ECONNRESET, "connection closed");
		if (n == 0)
			return husk_err_set(e, EPROTO, "the connection ended inside a message%s",
					    in_hdr ? " header" : "");
		size_t used = 0;
		int rc = proto_reader_feed(r, buf, (size_t)n, &used, msg, e);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
}

int proto_recv_ms(int fd, int timeout_ms, struct proto_msg *msg, struct husk_err *e)
{
	struct proto_reader r;

	memset(msg, 0, sizeof(*msg));
	proto_reader_init(&r);
	int rc = proto_recv_feed(fd, timeout_ms, &r, msg, e);
	if (rc < 0 && !msg->hdr.magic)
		msg->hdr = r.cur; /* a header read whole, its message not */
	proto_reader_free(&r);
	return rc;
}

int proto_recv(int fd, struct proto_msg *msg, struct husk_err *e)
{
	return proto_recv_ms(fd, -1, msg, e);
}

int proto_call(int fd, uint16_t type, uint32_t id, json_t *req, int timeout_ms, const char *peer,
	       json_t **result, struct husk_err *e)
{
	const char *name = proto_type_name(type);
	int r = proto_send(fd, type, id, req);
	json_decref(req);
	if (r < 0)
		return husk_err_set(e, -r, "sending %s: %s", name, strerror(-r));
	for (;;) {
		struct proto_msg m = { 0 };
		if ((r = proto_recv_ms(fd, timeout_ms, &m, e)) < 0) {
			if (r == -ECONNRESET && e) {
				e->code = 0; /* a closed connection: say whose */
				husk_err_set(e, ECONNRESET, "%s closed the connection", peer);
			}
			return husk_err_wrap(e, "%s", name);
		}
		if (m.hdr.id != id || (m.hdr.type != PROTO_OK && m.hdr.type != PROTO_ERROR)) {
			proto_msg_free(&m); /* not ours */
			continue;
		}
		if (m.hdr.type == PROTO_ERROR) {
			const char *msg = json_string_value(json_object_get(m.payload, "error"));
			json_int_t code = json_integer_value(json_object_get(m.payload, "errno"));
			if (msg)
				husk_err_set(e, code > 0 && code < 4096 ? (int)code : EIO, "%s",
					     msg);
			else
				husk_err_set(e, EIO, "%s reported an error", peer);
			proto_msg_free(&m);
			return 1;
		}
		if (result) {
			*result = m.payload;
			m.payload = NULL;
		}
		proto_msg_free(&m);
		return 0;
	}
}

/* --- payload fields ----------------------------------------------------------------- */

int proto_get_string(const json_t *obj, const char *key, int required, const char **out,
		     struct husk_err *e)
{
	const json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return required ? husk_err_set(e, EINVAL, "\"%s\": missing", key) : 0;
	if (!json_is_string(v))
		return husk_err_set(e, EINVAL, "\"%s\": not a string", key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return husk_err_set(e, EINVAL, "\"%s\": contains a NUL byte", key);
	*out = json_string_value(v);
	return 0;
}

int proto_get_int(const json_t *obj, const char *key, int required, long long min, long long max,
		  long long *out, struct husk_err *e)
{
	const json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return required ? husk_err_set(e, EINVAL, "\"%s\": missing", key) : 0;
	if (!json_is_integer(v))
		return husk_err_set(e, EINVAL, "\"%s\": not an integer", key);
	long long x = json_integer_value(v);
	if (x < min || x > max)
		return husk_err_set(e, ERANGE, "\"%s\": %lld is out of range %lld..%lld", key, x,
				    min, max);
	*out = x;
	return 0;
}

int proto_get_bool(const json_t *obj, const char *key, int *out, struct husk_err *e)
{
	const json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return husk_err_set(e, EINVAL, "\"%s\": not true or false", key);
	*out = json_is_true(v);
	return 0;
}

json_t *proto_error_payload(const struct husk_err *e)
{
	char msg[HUSK_ERR_MSG_MAX];

	/*
	 * A message cut to fit can end inside a UTF-8 sequence, or quote bytes
	 * that are not UTF-8 at all; jansson takes only valid UTF-8, so such a
	 * message goes out with its non-ASCII bytes as '?' rather than not at all.
	 */
	snprintf(msg, sizeof(msg), "%.*s", (int)sizeof(msg) - 1, e->msg[0] ? e->msg : "error");
	json_t *s = json_string(msg);
	if (!s) {
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		s = json_string(msg);
	}
	return json_pack("{s:o,s:i}", "error", s, "errno", e->code ? e->code : EIO);
}
