/* The agent protocol's codec: headers, payloads, the incremental reader, blocking I/O. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "husk/proto.h"
#include "unit.h"

static void hdr_bytes(uint8_t out[PROTO_HDR_SIZE], uint32_t magic, uint16_t version,
		      uint16_t type, uint32_t id, uint32_t len)
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
		{ PROTO_MAGIC, PROTO_VERSION, PROTO_HELLO, PROTO_MAX_PAYLOAD + 1, EMSGSIZE, "limit" },
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
		} else {
			ck_assert_uint_eq(m.hdr.id, (uint32_t)n);
			ck_assert(json_is_object(m.payload));
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
	suite_add_tcase(s, tc);
	return unit_run(s);
}
