/*
 * libFuzzer target: the agent protocol's decoder. The input is a byte
 * stream fed in chunks (the first byte picks their size) to the
 * incremental reader, as the agent reads a connection; every message that
 * comes out is looked into as the agent would and encoded again.
 */
#include <stdint.h>
#include <stdlib.h>

#include "husk/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		if (used > n)
			abort();
		data += used;
		size -= used;
		if (rc > 0) {
			const char *s;
			long long v;
			int b;
			uint8_t *out;
			size_t outlen;
			proto_get_string(m.payload, "id", 1, &s, &e);
			proto_get_string(m.payload, "exec", 0, &s, &e);
			proto_get_int(m.payload, "signal", 1, 1, 64, &v, &e);
			proto_get_int(m.payload, "rows", 0, 1, 65535, &v, &e);
			proto_get_bool(m.payload, "all", &b, &e);
			if (proto_encode(m.hdr.type, m.hdr.id, m.payload, &out, &outlen) == 0)
				free(out);
		}
		proto_msg_free(&m);
		if (r.broken || (rc == 0 && used == 0))
			break;
	}
	proto_reader_free(&r);
	return 0;
}
