/* The agent protocol's codec: headers, payloads, the incremental reader, blocking I/O. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "husk/proto.h"
#include "unit.h"

static void hdr_bytes(uint8_t out[PROTO_HDR_SIZE], uint32_t magic, uint16_t version, uint16_t type,
		      uint32_t id, uint32_t len)
{
	struct proto_hdr h = { magic, version, type, id, len };
	proto_hdr_encode(&h, out);
}

START_TEST(header_round_trip_little_endian)
{
	uint8_t b[PROTO_HDR_SIZE];
	struct proto_hdr h;
	struct husk_err e = { 0 };

	hdr_bytes(b, PROTO_MAGIC, PROTO_VERSION, PROTO_WAIT, 0x01020304, 42);
	ck_assert_int_eq(memcmp(b, "HUSK", 4), 0);
	ck_assert_int_eq(b[8], 0x04);
	ck_assert_int_eq(b[11], 0x01);
	ck_assert_int_eq(proto_hdr_decode(b, &h, &e), 0);
	ck_assert_uint_eq(h.type, PROTO_WAIT);
	ck_assert_uint_eq(h.id, 0x01020304);
	ck_assert_uint_eq(h.len, 42);
}
END_TEST

START_TEST(bad_headers_are_named)
{
	static const struct {
		uint32_t magic;
		uint16_t version, type;
		uint32_t len;
		int code;
		const char *needle;
	} cases[] = {
		{ 0x12345678, PROTO_VERSION, PROTO_HELLO, 0, EPROTO, "magic" },
		{ PROTO_MAGIC, 9, PROTO_HELLO, 0, EPROTO, "version 9" },
		{ PROTO_MAGIC, PROTO_VERSION, 0x55, 0, EPROTO, "type 85" },
		{ PROTO_MAGIC, PROTO_VERSION, 0, 0, EPROTO, "type 0" },
		{ PROTO_MAGIC, PROTO_VERSION, PROTO_HELLO, PROTO_MAX_PAYLOAD + 1, EMSGSIZE,
		  "limit" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[PROTO_HDR_SIZE];
		struct proto_hdr h;
		struct husk_err e = { 0 };
		hdr_bytes(b, cases[i].magic, cases[i].version, cases[i].type, 7, cases[i].len);
		ck_assert_int_eq(proto_hdr_decode(b, &h, &e), -cases[i].code);
		ck_assert_msg(strstr(e.msg, cases[i].needle), "case %zu: %s", i, e.msg);
		ck_assert_uint_eq(h.id, 7);
	}
}
END_TEST

START_TEST(payloads)
{
	json_t *v;
	struct husk_err e = { 0 };

	ck_assert_int_eq(proto_payload_decode("", 0, &v, &e), 0);
	ck_assert(json_is_object(v) && json_object_size(v) == 0);
	json_decref(v);
	ck_assert_int_eq(proto_payload_decode("[1]", 3, &v, &e), -EBADMSG);
	ck_assert_ptr_null(v);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(proto_payload_decode("{\"a\":", 5, &v, &e), -EBADMSG);
	ck_assert_msg(strstr(e.msg, "not JSON"), "%s", e.msg);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(proto_payload_decode("{\"a\":1,\"a\":2}", 13, &v, &e), -EBADMSG);
}
END_TEST

/* Encode three messages into one buffer: hello, a bad payload, wait. */
static size_t three_messages(uint8_t *buf)
{
	uint8_t *m;
	size_t len, off = 0;
	json_t *p = json_pack("{s:i}", "version", 1);
	ck_assert_int_eq(proto_encode(PROTO_HELLO, 1, p, &m, &len), 0);
	json_decref(p);
	memcpy(buf + off, m, len);
	off += len;
	free(m);
	hdr_bytes(buf + off, PROTO_MAGIC, PROTO_VERSION, PROTO_CREATE, 2, 5);
	memcpy(buf + off + PROTO_HDR_SIZE, "{bad}", 5);
	off += PROTO_HDR_SIZE + 5;
	ck_assert_int_eq(proto_encode(PROTO_WAIT, 3, NULL, &m, &len), 0);
	memcpy(buf + off, m, len);
	off += len;
	free(m);
	return off;
}

static void read_three(size_t chunk)
{
	uint8_t buf[256];
	size_t total = three_messages(buf), off = 0;
	struct proto_reader r;
	int seen[3] = { 0 }, n = 0;

	proto_reader_init(&r);
	while (off < total) {
		size_t avail = total - off < chunk ? total - off : chunk, used;
		struct proto_msg m;
		struct husk_err e = { 0 };
		int rc = proto_reader_feed(&r, buf + off, avail, &used, &m, &e);
		ck_assert_uint_le(used, avail);
		off += used;
		if (rc == 0) {
			ck_assert_uint_eq(used, avail);
			continue;
		}
		ck_assert_int_lt(n, 3);
		seen[n++] = rc;
		if (rc < 0) {
			ck_assert_uint_eq(m.hdr.id, 2);
			ck_assert(!r.broken);
		} else if (n == 1) {
			ck_assert_uint_eq(m.hdr.id, 1);
			ck_assert_uint_eq(m.hdr.type, PROTO_HELLO);
			ck_assert_int_eq(json_integer_value(json_object_get(m.payload, "version")),
					 1);
			ck_assert_uint_eq(json_object_size(m.payload), 1);
		} else {
			ck_assert_uint_eq(m.hdr.id, 3);
			ck_assert_uint_eq(m.hdr.type, PROTO_WAIT);
			ck_assert(json_is_object(m.payload) && json_object_size(m.payload) == 0);
		}
		proto_msg_free(&m);
	}
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(seen[0], 1);
	ck_assert_int_eq(seen[1], -EBADMSG);
	ck_assert_int_eq(seen[2], 1);
	proto_reader_free(&r);
}

START_TEST(reader_byte_by_byte_and_whole)
{
	read_three(1);
	read_three(7);
	read_three(256);
}
END_TEST

START_TEST(reader_bad_header_breaks_the_stream)
{
	struct proto_reader r;
	struct proto_msg m;
	struct husk_err e = { 0 };
	size_t used;
	uint8_t b[PROTO_HDR_SIZE + 4];

	proto_reader_init(&r);
	hdr_bytes(b, PROTO_MAGIC, PROTO_VERSION, PROTO_HELLO, 9, 0xffffffffu);
	/* refused before any allocation of 4 GiB */
	ck_assert_int_eq(proto_reader_feed(&r, b, sizeof(b), &used, &m, &e), -EMSGSIZE);
	ck_assert(r.broken);
	ck_assert_uint_eq(m.hdr.id, 9);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(proto_reader_feed(&r, b, sizeof(b), &used, &m, &e), -EPROTO);
	ck_assert_uint_eq(used, sizeof(b));
	proto_reader_free(&r);

	/* an unknown type with a sane length is skipped whole */
	proto_reader_init(&r);
	hdr_bytes(b, PROTO_MAGIC, PROTO_VERSION, 0x77, 4, 4);
	memcpy(b + PROTO_HDR_SIZE, "abcd", 4);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(proto_reader_feed(&r, b, sizeof(b), &used, &m, &e), -EPROTO);
	ck_assert_uint_eq(used, sizeof(b));
	ck_assert(!r.broken);
	ck_assert_msg(strstr(e.msg, "unknown message type 119"), "%s", e.msg);
	proto_reader_free(&r);
}
END_TEST

struct big_writer {
	int fd;
	json_t *payload;
};

static void *write_big(void *arg)
{
	struct big_writer *w = arg;
	ck_assert_int_eq(proto_send(w->fd, PROTO_CREATE, 5, w->payload), 0);
	ck_assert_int_eq(proto_send(w->fd, PROTO_OK, 6, NULL), 0);
	return NULL;
}

START_TEST(send_recv_over_a_socket)
{
	int sv[2];
	pthread_t t;
	struct proto_msg m;
	struct husk_err e = { 0 };
	size_t n = PROTO_MAX_PAYLOAD - 64;
	char *s = malloc(n + 1);

	memset(s, 'x', n);
	s[n] = '\0';
	struct big_writer w = { .payload = json_pack("{s:s}", "k", s) };
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	w.fd = sv[0];
	ck_assert_int_eq(pthread_create(&t, NULL, write_big, &w), 0);
	ck_assert_int_eq(proto_recv(sv[1], &m, &e), 0);
	ck_assert_uint_eq(m.hdr.type, PROTO_CREATE);
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(m.payload, "k"))), n);
	proto_msg_free(&m);
	ck_assert_int_eq(proto_recv(sv[1], &m, &e), 0);
	ck_assert_uint_eq(m.hdr.id, 6);
	proto_msg_free(&m);
	pthread_join(t, NULL);

	/* too large to send */
	json_t *huge = json_pack("{s:s,s:s}", "a", s, "b", s);
	uint8_t *buf;
	size_t len;
	ck_assert_int_eq(proto_encode(PROTO_CREATE, 1, huge, &buf, &len), -EMSGSIZE);
	json_decref(huge);

	/* EOF before a message, and inside one */
	uint8_t hdr[PROTO_HDR_SIZE];
	hdr_bytes(hdr, PROTO_MAGIC, PROTO_VERSION, PROTO_HELLO, 1, 10);
	ck_assert_int_eq(write(sv[0], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	ck_assert_int_eq(write(sv[0], "{}", 2), 2);
	close(sv[0]);
	ck_assert_int_eq(proto_recv(sv[1], &m, &e), -EPROTO);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(proto_recv(sv[1], &m, &e), -ECONNRESET);
	close(sv[1]);
	json_decref(w.payload);
	free(s);
}
END_TEST

START_TEST(field_getters)
{
	json_t *o = json_pack("{s:s,s:i,s:b,s:i,s:s}", "id", "c1", "signal", 15, "all", 1, "rows",
			      70000, "n", "5");
	struct husk_err e = { 0 };
	const char *s = NULL;
	long long v = 0;
	int b = 0;

	ck_assert_int_eq(proto_get_string(o, "id", 1, &s, &e), 0);
	ck_assert_str_eq(s, "c1");
	ck_assert_int_eq(proto_get_int(o, "signal", 1, 1, 64, &v, &e), 0);
	ck_assert_int_eq(v, 15);
	ck_assert_int_eq(proto_get_bool(o, "all", &b, &e), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(proto_get_string(o, "absent", 0, &s, &e), 0);
	ck_assert_str_eq(s, "c1"); /* left as it was */

	ck_assert_int_eq(proto_get_string(o, "exec", 1, &s, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "\"exec\": missing");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(proto_get_int(o, "rows", 1, 1, 65535, &v, &e), -ERANGE);
	ck_assert_str_eq(e.msg, "\"rows\": 70000 is out of range 1..65535");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(proto_get_int(o, "n", 1, 0, 9, &v, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "\"n\": not an integer");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(proto_get_bool(o, "signal", &b, &e), -EINVAL);

	json_t *err = proto_error_payload(&e);
	ck_assert_int_eq(json_integer_value(json_object_get(err, "errno")), EINVAL);
	json_decref(err);
	json_decref(o);
}
END_TEST

START_TEST(type_names)
{
	static const char *const names[] = { NULL,	 "hello",   "create", "start", "exec",
					     "signal",	 "wait",    "resize", "ps",    "delete",
					     "shutdown", "stream",  "update", "pause", "resume",
					     "state",	 "network", "refresh" };
	for (uint16_t t = 1; t < sizeof(names) / sizeof(names[0]); t++)
		ck_assert_str_eq(proto_type_name(t), names[t]);
	ck_assert_str_eq(proto_type_name(PROTO_OK), "ok");
	ck_assert_str_eq(proto_type_name(PROTO_ERROR), "error");
	ck_assert_ptr_null(proto_type_name(0));
	ck_assert_ptr_null(proto_type_name(PROTO_REFRESH + 1));
	ck_assert_ptr_null(proto_type_name(PROTO_ERROR + 1));
	ck_assert_ptr_null(proto_type_name(0xffff));
}
END_TEST

START_TEST(encode_refuses_a_non_object)
{
	json_t *a = json_pack("[i]", 1);
	uint8_t *buf = NULL;
	size_t len;
	ck_assert_int_eq(proto_encode(PROTO_OK, 1, a, &buf, &len), -EINVAL);
	ck_assert_ptr_null(buf);
	json_decref(a);
}
END_TEST

/* The payload buffer exists only once a whole, valid header is in; a partial one is freed. */
START_TEST(reader_allocates_after_the_header)
{
	struct proto_reader r;
	struct proto_msg m;
	struct husk_err e = { 0 };
	size_t used;
	uint8_t b[PROTO_HDR_SIZE + 3];

	proto_reader_init(&r);
	hdr_bytes(b, PROTO_MAGIC, PROTO_VERSION, PROTO_CREATE, 4, PROTO_MAX_PAYLOAD);
	memcpy(b + PROTO_HDR_SIZE, "{\"a", 3);
	ck_assert_int_eq(proto_reader_feed(&r, b, PROTO_HDR_SIZE - 1, &used, &m, &e), 0);
	ck_assert_uint_eq(used, PROTO_HDR_SIZE - 1);
	ck_assert_ptr_null(r.payload);
	ck_assert_int_eq(proto_reader_feed(&r, b + used, 4, &used, &m, &e), 0);
	ck_assert_uint_eq(used, 4);
	ck_assert_ptr_nonnull(r.payload);
	ck_assert_uint_eq(r.payload_got, 3);
	ck_assert_int_eq(proto_reader_feed(&r, NULL, 0, &used, &m, &e), 0);
	ck_assert_uint_eq(used, 0);
	proto_reader_free(&r); /* the partial payload goes (ASan checks) */
	ck_assert_ptr_null(r.payload);

	/* one byte over the limit: refused when the header completes, nothing allocated */
	proto_reader_init(&r);
	hdr_bytes(b, PROTO_MAGIC, PROTO_VERSION, PROTO_CREATE, 4, PROTO_MAX_PAYLOAD + 1);
	ck_assert_int_eq(proto_reader_feed(&r, b, sizeof(b), &used, &m, &e), -EMSGSIZE);
	ck_assert_uint_eq(used, PROTO_HDR_SIZE);
	ck_assert_str_eq(e.msg, "payload of 1048577 bytes is over the limit of 1048576");
	ck_assert_ptr_null(r.payload);
	ck_assert(r.broken);
	proto_reader_free(&r);

	/* bad magic and version break the stream too */
	for (int i = 0; i < 2; i++) {
		proto_reader_init(&r);
		memset(&e, 0, sizeof(e));
		hdr_bytes(b, i ? PROTO_MAGIC : 0x4b535549u, i ? 2 : PROTO_VERSION, PROTO_HELLO, 8,
			  0);
		ck_assert_int_eq(proto_reader_feed(&r, b, sizeof(b), &used, &m, &e), -EPROTO);
		ck_assert(r.broken);
		ck_assert_uint_eq(m.hdr.id, 8);
		ck_assert_str_eq(e.msg, i ? "protocol version 2, this side speaks 1" :
					    "bad magic 0x4b535549");
		proto_reader_free(&r);
	}
}
END_TEST

START_TEST(recv_eof_inside_a_header)
{
	int sv[2];
	struct proto_msg m;
	struct husk_err e = { 0 };
	uint8_t hdr[PROTO_HDR_SIZE];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	hdr_bytes(hdr, PROTO_MAGIC, PROTO_VERSION, PROTO_HELLO, 1, 2);
	ck_assert_int_eq(write(sv[0], hdr, 10), 10);
	close(sv[0]);
	ck_assert_int_eq(proto_recv(sv[1], &m, &e), -EPROTO);
	ck_assert_msg(strstr(e.msg, "inside a message header"), "%s", e.msg);
	ck_assert_ptr_null(m.payload);
	close(sv[1]);
}
END_TEST

/* Not a socket: proto_send falls back to write(2). A bad payload still names its id. */
START_TEST(send_recv_over_a_pipe)
{
	int p[2];
	struct proto_msg m;
	struct husk_err e = { 0 };
	uint8_t hdr[PROTO_HDR_SIZE];

	ck_assert_int_eq(pipe(p), 0);
	json_t *v = json_pack("{s:s,s:i}", "id", "c1", "signal", 9);
	ck_assert_int_eq(proto_send(p[1], PROTO_SIGNAL, 77, v), 0);
	hdr_bytes(hdr, PROTO_MAGIC, PROTO_VERSION, PROTO_START, 78, 2);
	ck_assert_int_eq(write(p[1], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	ck_assert_int_eq(write(p[1], "[]", 2), 2);
	close(p[1]);
	ck_assert_int_eq(proto_recv(p[0], &m, &e), 0);
	ck_assert_uint_eq(m.hdr.id, 77);
	ck_assert(json_equal(m.payload, v));
	proto_msg_free(&m);
	ck_assert_int_eq(proto_recv(p[0], &m, &e), -EBADMSG);
	ck_assert_uint_eq(m.hdr.id, 78);
	ck_assert_ptr_null(m.payload);
	ck_assert_str_eq(e.msg, "payload is not a JSON object");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(proto_recv(p[0], &m, &e), -ECONNRESET);
	close(p[0]);
	json_decref(v);
}
END_TEST

START_TEST(more_field_getters)
{
	json_t *o =
		json_pack("{s:s,s:s,s:n,s:b,s:f}", "t", "true", "id", "", "x", "f", 0, "r", 1.5);
	struct husk_err e = { 0 };
	long long v = 42;
	int b = 7;
	const char *s = "kept";

	ck_assert_int_eq(proto_get_int(o, "rows", 0, 1, 65535, &v, &e), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(proto_get_bool(o, "absent", &b, &e), 0);
	ck_assert_int_eq(b, 7);
	ck_assert_int_eq(proto_get_bool(o, "f", &b, &e), 0);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(proto_get_bool(o, "t", &b, &e), -EINVAL); /* "true" is a string */
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(proto_get_int(o, "signal", 1, 1, 64, &v, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "\"signal\": missing");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(proto_get_int(o, "r", 1, 0, 9, &v, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "\"r\": not an integer");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(proto_get_string(o, "r", 0, &s, &e), -EINVAL);
	ck_assert_str_eq(s, "kept");
	ck_assert_int_eq(proto_get_string(o, "id", 1, &s, &e), 0);
	ck_assert_str_eq(s, "");
	json_decref(o);
}
END_TEST

/* A message cut inside a UTF-8 sequence still makes an error reply. */
START_TEST(error_payload_survives_a_cut_message)
{
	struct husk_err e = { 0 };
	char id[400] = "";

	for (int i = 0; i < 190; i++)
		strcat(id, "\xc3\xa9");		/* é */
	husk_err_set(&e, ENOENT, "abc %s", id); /* 4 + 251 bytes: ends with half an é */
	json_t *p = proto_error_payload(&e);
	ck_assert_ptr_nonnull(p);
	const char *msg = json_string_value(json_object_get(p, "error"));
	ck_assert_ptr_nonnull(msg);
	ck_assert_int_eq(strncmp(msg, "abc ??", 6), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(p, "errno")), ENOENT);
	json_decref(p);

	memset(&e, 0, sizeof(e));
	husk_err_set(&e, EEXIST, "container \xc3\xa9 exists");
	p = proto_error_payload(&e);
	ck_assert_str_eq(json_string_value(json_object_get(p, "error")),
			 "container \xc3\xa9 exists");
	json_decref(p);
}
END_TEST

/* A reply already waiting on the socket, as the server would send it. */
static void put_reply(int fd, uint16_t type, uint32_t id, json_t *payload)
{
	ck_assert_int_eq(proto_send(fd, type, id, payload), 0);
	json_decref(payload);
}

/* proto_call: replies to other ids skipped, ERROR as 1, timeouts, a closed peer named. */
START_TEST(call_matches_its_reply)
{
	int sv[2];
	json_t *res = NULL;
	struct husk_err e = { 0 };
	struct proto_msg m;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	put_reply(sv[1], PROTO_OK, 4, NULL);
	put_reply(sv[1], PROTO_ERROR, 5,
		  json_pack("{s:s,s:i}", "error", "container not running", "errno", ESRCH));
	ck_assert_int_eq(proto_call(sv[0], PROTO_SIGNAL, 5, json_pack("{s:i}", "signal", 9), 1000,
				    "husk-vmm", &res, &e),
			 1);
	ck_assert_int_eq(e.code, ESRCH);
	ck_assert_str_eq(e.msg, "container not running");
	ck_assert_ptr_null(res);
	/* the requests arrived as sent */
	ck_assert_int_eq(proto_recv_ms(sv[1], 1000, &m, &e), 0);
	ck_assert_uint_eq(m.hdr.type, PROTO_SIGNAL);
	ck_assert_uint_eq(m.hdr.id, 5);
	proto_msg_free(&m);

	memset(&e, 0, sizeof(e));
	put_reply(sv[1], PROTO_OK, 6, json_pack("{s:s}", "state", "running"));
	ck_assert_int_eq(proto_call(sv[0], PROTO_STATE, 6, NULL, 1000, "husk-vmm", &res, &e), 0);
	ck_assert_str_eq(json_string_value(json_object_get(res, "state")), "running");
	json_decref(res);

	ck_assert_int_eq(proto_call(sv[0], PROTO_PAUSE, 7, NULL, 50, "husk-vmm", NULL, &e),
			 -ETIMEDOUT);
	ck_assert_msg(strstr(e.msg, "pause: no message within 50 ms"), "%s", e.msg);

	memset(&e, 0, sizeof(e));
	shutdown(sv[1], SHUT_WR);
	ck_assert_int_eq(proto_call(sv[0], PROTO_START, 8, NULL, 1000, "husk-vmm", NULL, &e),
			 -ECONNRESET);
	ck_assert_msg(strstr(e.msg, "husk-vmm closed the connection"), "%s", e.msg);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("proto");
	tcase_add_test(tc, header_round_trip_little_endian);
	tcase_add_test(tc, bad_headers_are_named);
	tcase_add_test(tc, payloads);
	tcase_add_test(tc, reader_byte_by_byte_and_whole);
	tcase_add_test(tc, reader_bad_header_breaks_the_stream);
	tcase_add_test(tc, send_recv_over_a_socket);
	tcase_add_test(tc, field_getters);
	tcase_add_test(tc, type_names);
	tcase_add_test(tc, encode_refuses_a_non_object);
	tcase_add_test(tc, reader_allocates_after_the_header);
	tcase_add_test(tc, recv_eof_inside_a_header);
	tcase_add_test(tc, send_recv_over_a_pipe);
	tcase_add_test(tc, more_field_getters);
	tcase_add_test(tc, error_payload_survives_a_cut_message);
	tcase_add_test(tc, call_matches_its_reply);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
