/*
 * husk-agent's protocol server and request dispatch, over a socketpair:
 * replies, error replies, and a server that lives on after bad input.
 */
#include <stdlib.h>

#include "agent_harness.h"

/* Nothing in these tests reaches a container's set-up. */
static int no_prepare(struct container *c, const json_t *payload, struct husk_err *e)
{
	return husk_err_set(e, EPERM, "no containers in this test");
}

static void no_release(struct container *c)
{
}

static pid_t no_clone(struct agent *a, struct container *c, const struct child_args *ca,
		      struct husk_err *e)
{
	return husk_err_set(e, EPERM, "no processes in this test");
}

static const struct agent_ops no_ops = { no_prepare, no_release, no_clone, NULL, NULL, NULL };

/* What REFRESH handed the guest's side. */
static int64_t refreshed_ns;
static uint8_t refreshed_seed[REFRESH_SEED_MAX];
static size_t refreshed_len;

static int record_refresh(int64_t time_ns, const uint8_t *seed, size_t len, struct husk_err *e)
{
	refreshed_ns = time_ns;
	memcpy(refreshed_seed, seed, len);
	refreshed_len = len;
	return 0;
}

static const struct agent_ops refresh_ops = { no_prepare, no_release,	  no_clone,
					      NULL,	  record_refresh, NULL };

/* How many times SHUTDOWN had the guest's file systems written out. */
static int synced;

static void record_sync(void)
{
	synced++;
}

static const struct agent_ops sync_ops = {
	no_prepare, no_release, no_clone, NULL, NULL, record_sync
};

static void raw_send(int fd, uint32_t magic, uint16_t type, uint32_t id, const char *payload)
{
	uint8_t hdr[PROTO_HDR_SIZE];
	struct proto_hdr h = { magic, PROTO_VERSION, type, id, (uint32_t)strlen(payload) };
	proto_hdr_encode(&h, hdr);
	ck_assert_int_eq(write(fd, hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_int_eq(write(fd, payload, strlen(payload)), (ssize_t)strlen(payload));
}

static void assert_hello(struct harness *h, int fd)
{
	struct proto_msg m = { 0 };
	harness_send_on(fd, PROTO_HELLO, 77, "{\"version\": 1}");
	harness_recv_on(h, fd, &m);
	ck_assert_uint_eq(m.hdr.id, 77);
	ck_assert_uint_eq(m.hdr.type, PROTO_OK);
	ck_assert_int_eq(json_integer_value(json_object_get(m.payload, "version")), PROTO_VERSION);
	ck_assert(json_is_string(json_object_get(m.payload, "kernel")));
	proto_msg_free(&m);
}

START_TEST(hello_is_answered_with_the_version)
{
	struct harness h;
	harness_init(&h, &no_ops);
	assert_hello(&h, h.client);
	harness_fini(&h);
}
END_TEST

START_TEST(hello_without_a_version_is_refused)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &no_ops);
	harness_call(&h, PROTO_HELLO, "{}", &m);
	harness_assert_error(&m, "version");
	proto_msg_free(&m);
	harness_fini(&h);
}
END_TEST

START_TEST(an_unknown_type_is_named_and_the_connection_lives_on)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &no_ops);
	raw_send(h.client, PROTO_MAGIC, 0x77, 5, "{}");
	harness_recv_on(&h, h.client, &m);
	ck_assert_uint_eq(m.hdr.id, 5);
	harness_assert_error(&m, "unknown message type 119");
	proto_msg_free(&m);
	assert_hello(&h, h.client);
	harness_fini(&h);
}
END_TEST

START_TEST(a_reply_type_is_not_a_request)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &no_ops);
	harness_call(&h, PROTO_OK, "{}", &m);
	harness_assert_error(&m, "not a request");
	proto_msg_free(&m);
	harness_fini(&h);
}
END_TEST

START_TEST(malformed_json_gets_an_error_and_the_connection_lives_on)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &no_ops);
	raw_send(h.client, PROTO_MAGIC, PROTO_HELLO, 9, "{\"version\": ");
	harness_recv_on(&h, h.client, &m);
	ck_assert_uint_eq(m.hdr.id, 9);
	ck_assert_uint_eq(m.hdr.type, PROTO_ERROR);
	proto_msg_free(&m);
	raw_send(h.client, PROTO_MAGIC, PROTO_HELLO, 10, "[1]");
	harness_recv_on(&h, h.client, &m);
	ck_assert_uint_eq(m.hdr.id, 10);
	ck_assert_uint_eq(m.hdr.type, PROTO_ERROR);
	proto_msg_free(&m);
	assert_hello(&h, h.client);
	harness_fini(&h);
}
END_TEST

START_TEST(a_bad_header_ends_that_connection_only)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &no_ops);
	int other = harness_connect(&h);
	raw_send(h.client, 0x12345678, PROTO_HELLO, 3, "{}");
	harness_recv_on(&h, h.client, &m);
	ck_assert_uint_eq(m.hdr.type, PROTO_ERROR);
	proto_msg_free(&m);
	/* then the agent hangs up on it */
	char b;
	ck_assert(harness_until_readable(&h, h.client));
	ck_assert_int_le(read(h.client, &b, 1), 0); /* EOF, or a reset: it had unread bytes */
	/* and serves the others */
	assert_hello(&h, other);
	close(other);
	harness_fini(&h);
}
END_TEST

START_TEST(requests_for_an_unknown_container_say_it_does_not_exist)
{
	static const uint16_t types[] = { PROTO_START,	PROTO_EXEC, PROTO_SIGNAL, PROTO_WAIT,
					  PROTO_RESIZE, PROTO_PS,   PROTO_UPDATE, PROTO_DELETE };
	struct harness h;
	harness_init(&h, &no_ops);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct proto_msg m = { 0 };
		harness_call(&h, types[i], "{\"id\": \"nope\"}", &m);
		harness_assert_error(&m, "container nope does not exist");
		ck_assert_int_eq(json_integer_value(json_object_get(m.payload, "errno")), ENOENT);
		proto_msg_free(&m);
	}
	harness_fini(&h);
}
END_TEST

START_TEST(a_request_without_an_id_names_the_field)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &no_ops);
	harness_call(&h, PROTO_WAIT, "{}", &m);
	harness_assert_error(&m, "id");
	proto_msg_free(&m);
	harness_fini(&h);
}
END_TEST

START_TEST(create_refuses_bad_requests_and_keeps_nothing)
{
	static const struct {
		const char *payload, *words;
	} cases[] = {
		{ "{\"spec\": {}}", "id" },
		{ "{\"id\": \"../x\", \"spec\": {}}", "not a valid container id" },
		{ "{\"id\": \"c1\"}", "\"spec\": missing" },
		{ "{\"id\": \"c1\", \"spec\": {\"ociVersion\": \"1.0.2\"}}", "create c1" },
		{ "{\"id\": \"c1\", \"spec\": {\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/\"},"
		  " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}}}",
		  "no containers in this test" },
	};
	struct harness h;
	harness_init(&h, &no_ops);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_msg m = { 0 };
		harness_call(&h, PROTO_CREATE, cases[i].payload, &m);
		harness_assert_error(&m, cases[i].words);
		proto_msg_free(&m);
		ck_assert_ptr_null(h.a.containers);
	}
	harness_fini(&h);
}
END_TEST

START_TEST(shutdown_is_answered_and_recorded)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &no_ops);
	harness_call(&h, PROTO_SHUTDOWN, "{}", &m);
	ck_assert_uint_eq(m.hdr.type, PROTO_OK);
	ck_assert(h.a.shutdown);
	proto_msg_free(&m);
	harness_fini(&h);
}
END_TEST

/* The host may end the VM at SHUTDOWN's reply: the file systems are written out first. */
START_TEST(shutdown_syncs_before_its_reply)
{
	struct harness h;
	struct proto_msg m = { 0 };
	synced = 0;
	harness_init(&h, &sync_ops);
	harness_call(&h, PROTO_SHUTDOWN, "{}", &m);
	ck_assert_uint_eq(m.hdr.type, PROTO_OK);
	ck_assert_int_eq(synced, 1);
	proto_msg_free(&m);
	harness_fini(&h);
}
END_TEST

START_TEST(a_stream_is_attached_once_and_only_first)
{
	struct harness h;
	struct proto_msg m = { 0 };
	harness_init(&h, &no_ops);
	int s = harness_connect(&h);
	harness_send_on(s, PROTO_STREAM, 1, "{\"id\": \"c1\", \"stream\": \"stdout\"}");
	harness_recv_on(&h, s, &m);
	ck_assert_uint_eq(m.hdr.type, PROTO_OK);
	proto_msg_free(&m);
	/* the same stream again, on another connection */
	int again = harness_connect(&h);
	harness_send_on(again, PROTO_STREAM, 2, "{\"id\": \"c1\", \"stream\": \"stdout\"}");
	harness_recv_on(&h, again, &m);
	harness_assert_error(&m, "already attached");
	proto_msg_free(&m);
	/* a control connection cannot become a stream */
	harness_call(&h, PROTO_HELLO, "{\"version\": 1}", &m);
	proto_msg_free(&m);
	harness_call(&h, PROTO_STREAM, "{\"id\": \"c1\", \"stream\": \"stdin\"}", &m);
	harness_assert_error(&m, "only as the first message");
	proto_msg_free(&m);
	close(s);
	close(again);
	harness_fini(&h);
}
END_TEST

START_TEST(refresh_hands_on_the_time_and_the_seed)
{
	struct harness h;
	struct proto_msg m = { 0 };
	char req[256];
	harness_init(&h, &refresh_ops);
	snprintf(req, sizeof(req), "{\"time_ns\": 1764672000123456789, \"seed\": \"%s\"}",
		 "00112233445566778899aabbccddeeffFFEEDDCCBBAA99887766554433221100");
	harness_call(&h, PROTO_REFRESH, req, &m);
	ck_assert_uint_eq(m.hdr.type, PROTO_OK);
	proto_msg_free(&m);
	ck_assert_int_eq(refreshed_ns, 1764672000123456789LL);
	ck_assert_uint_eq(refreshed_len, 32);
	ck_assert_uint_eq(refreshed_seed[0], 0x00);
	ck_assert_uint_eq(refreshed_seed[15], 0xff);
	ck_assert_uint_eq(refreshed_seed[16], 0xff);
	ck_assert_uint_eq(refreshed_seed[31], 0x00);
	harness_fini(&h);
}
END_TEST

START_TEST(refresh_refuses_a_bad_seed_or_time)
{
	static const struct {
		const char *json, *words;
	} bad[] = {
		{ "{\"seed\": \"00\"}", "\"time_ns\"" },
		{ "{\"time_ns\": -1, \"seed\": \"00\"}", "\"time_ns\"" },
		{ "{\"time_ns\": 5}", "\"seed\"" },
		{ "{\"time_ns\": 5, \"seed\": \"0011\"}", "32 to 256 bytes" },
		{ "{\"time_ns\": 5, \"seed\": "
		  "\"0011223344556677889900112233445566778899001122334455667788990\"}",
		  "32 to 256 bytes" },
		{ "{\"time_ns\": 5, \"seed\": "
		  "\"00112233445566778899001122334455667788990011223344556677889900x0\"}",
		  "not hex at digit 62" },
	};
	struct harness h;
	harness_init(&h, &refresh_ops);
	refreshed_len = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct proto_msg m = { 0 };
		harness_call(&h, PROTO_REFRESH, bad[i].json, &m);
		harness_assert_error(&m, bad[i].words);
		proto_msg_free(&m);
	}
	ck_assert_uint_eq(refreshed_len, 0);
	/* an agent without the operation says so */
	harness_fini(&h);
	harness_init(&h, &no_ops);
	struct proto_msg m = { 0 };
	harness_call(&h, PROTO_REFRESH,
		     "{\"time_ns\": 5, \"seed\": "
		     "\"00112233445566778899001122334455667788990011223344556677889900ab\"}",
		     &m);
	harness_assert_error(&m, "not in this agent");
	proto_msg_free(&m);
	harness_fini(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent_server");
	TCase *tc = tcase_create("server");
	tcase_add_test(tc, hello_is_answered_with_the_version);
	tcase_add_test(tc, hello_without_a_version_is_refused);
	tcase_add_test(tc, an_unknown_type_is_named_and_the_connection_lives_on);
	tcase_add_test(tc, a_reply_type_is_not_a_request);
	tcase_add_test(tc, malformed_json_gets_an_error_and_the_connection_lives_on);
	tcase_add_test(tc, a_bad_header_ends_that_connection_only);
	tcase_add_test(tc, requests_for_an_unknown_container_say_it_does_not_exist);
	tcase_add_test(tc, a_request_without_an_id_names_the_field);
	tcase_add_test(tc, create_refuses_bad_requests_and_keeps_nothing);
	tcase_add_test(tc, shutdown_is_answered_and_recorded);
	tcase_add_test(tc, shutdown_syncs_before_its_reply);
	tcase_add_test(tc, a_stream_is_attached_once_and_only_first);
	tcase_add_test(tc, refresh_hands_on_the_time_and_the_seed);
	tcase_add_test(tc, refresh_refuses_a_bad_seed_or_time);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
