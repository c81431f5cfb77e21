/*
 * The host side of the agent protocol (include/husk/proto.h): reach the
 * agent through husk-vmm's vsock Unix socket ("CONNECT <port>\n", answered
 * "OK <port>\n"), make requests, attach stdio streams. Blocking calls, for
 * husk-vmm's runner thread, the runtime and the tests.
 */
#ifndef HUSK_AGENT_CLIENT_H
#define HUSK_AGENT_CLIENT_H

#include <stdint.h>

#include <jansson.h>

#include "husk/error.h"
#include "husk/proto.h"

struct ac_conn {
	int fd;
	uint32_t next_id;
};

/*
 * Connect to the agent, retrying while it is not listening yet (the guest
 * is still booting) until timeout_ms has passed or *cancel becomes non-zero
 * (cancel may be NULL). Returns the connected fd.
 */
int ac_dial(const char *uds, unsigned port, int timeout_ms, const volatile int *cancel,
	    struct husk_err *e);

/* Dial and say HELLO; the agent's kernel release goes to kernel (may be NULL). */
int ac_open(struct ac_conn *c, const char *uds, int timeout_ms, const volatile int *cancel,
	    char *kernel, size_t kernel_len, struct husk_err *e);
void ac_close(struct ac_conn *c);

/*
 * One request and its reply. `req` is consumed (NULL for {}); on success
 * *result (if result is non-NULL) is the reply's payload. An ERROR reply
 * fills `e` with the agent's message and errno.
 */
int ac_call(struct ac_conn *c, uint16_t type, json_t *req, json_t **result, struct husk_err *e);

/* A stream connection for process (cid, eid) ("" = the container's own); returns its fd. */
int ac_stream(const char *uds, const char *cid, const char *eid, const char *stream,
	      struct husk_err *e);

/*
 * n stream connections for process (cid, eid) at once, names[i] ("stdin",
 * ...) into fds[i]: each STREAM request is sent behind its connection's
 * CONNECT line, then the answers are read, so that the round trips to the
 * guest overlap. On failure every fd is closed (and -1).
 */
int ac_streams(const char *uds, const char *cid, const char *eid, const char *const *names, int n,
	       int *fds, struct husk_err *e);

/* An exit as a shell reports it: the code, or 128 + the signal. -1 if result holds neither. */
int ac_exit_status(const json_t *wait_result);

#endif
