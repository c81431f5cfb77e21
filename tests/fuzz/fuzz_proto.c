/*
 * libFuzzer target: the decoder of the one control protocol, which the
 * agent and husk-vmm's control socket both read (husk-vmm through
 * proto_recv_ms, a proto_reader underneath). The input is a byte stream fed
 * in chunks (the first byte picks their size) to the incremental reader, as
 * the agent reads a connection; every message that comes out is looked into
 * as the agent, husk-vmm and their clients would and encoded again (it must
 * read back the same), and every error must make an error reply.
 */
#include <stdint.h>
#include <stdlib.h>

#include "husk/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encode a decoded message again: it must read back as the same header and payload. */
static void proto_reencode(const struct proto_msg *m)
{
	uint8_t *out;
	size_t outlen;
	struct proto_hdr h;
	json_t *back;

	if (proto_encode(m->hdr.type, m->hdr.id, m->payload, &out, &outlen) < 0)
		return; /* over the limit once re-encoded (1e5 becomes 100000.0) */
	if (proto_hdr_decode(out, &h, NULL) < 0 || h.type != m->hdr.type || h.id != m->hdr.id ||
	    h.len != outlen - PROTO_HDR_SIZE)
		__builtin_trap();
	if (proto_payload_decode(out + PROTO_HDR_SIZE, h.len, &back, NULL) < 0 ||
	    !json_equal(back, m->payload))
		__builtin_trap();
	json_decref(back);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_reader r;
	size_t chunk;

	if (size == 0)
		return 0;
	chunk = (size_t)(data[0] % 64) + 1;
	data++;
	size--;
	proto_reader_init(&r);
	while (size) {
		struct proto_msg m;
		struct husk_err e = { 0 };
		size_t used = 0, n = size < chunk ? size : chunk;
		int rc = proto_reader_feed(&r, data, n, &used, &m, &e);
		if (used > n || (rc == 0 && used != n))
			__builtin_trap(); /* past the chunk, or stopped short of a message's end */
		data += used;
		size -= used;
		if (rc > 0) {
			const char *s;
			long long v;
			int b;
			if (!json_is_object(m.payload))
				__builtin_trap();
			proto_get_string(m.payload, "id", 1, &s, &e);
			proto_get_string(m.payload, "exec", 0, &s, &e);
			proto_get_int(m.payload, "signal", 1, 1, 64, &v, &e);
			proto_get_int(m.payload, "rows", 0, 1, 65535, &v, &e);
			proto_get_bool(m.payload, "all", &b, &e);
			proto_get_string(m.payload, "state", 0, &s, &e);
			proto_get_string(m.payload, "error", 0, &s, &e);
			proto_get_int(m.payload, "errno", 0, 1, 4095, &v, &e);
			proto_reencode(&m);
		}
		if (rc < 0) {
			if (m.payload)
				__builtin_trap();
			/* every error must make a reply the other side can read */
			json_t *reply = proto_error_payload(&e);
			if (!reply)
				__builtin_trap();
			json_decref(reply);
		}
		proto_msg_free(&m);
		if (r.broken || (rc == 0 && used == 0))
			break;
	}
	proto_reader_free(&r);
	return 0;
}
