/* The host side of the agent protocol (see agent_client.h). */
#include "agent_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "husk/uds.h"

#define AC_RETRY_MS 50

static int64_t ac_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connect to the VM's socket and send the hybrid vsock line: the fd, or a negative errno. */
static int ac_connect(const char *uds, unsigned port, struct husk_err *e)
{
	char line[64];

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return husk_err_set(e, errno, "socket: %s", strerror(errno));
	int err = uds_connect(fd, uds);
	if (err == -ENAMETOOLONG) {
		close(fd);
		return husk_err_set(e, ENAMETOOLONG, "%s: path too long for a socket", uds);
	}
	if (err < 0) {
		close(fd);
		return err; /* not there yet: the caller retries */
	}
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
		close(fd);
		return -ECONNRESET;
	}
	return fd;
}

/* The handshake's answer, "OK <port>\n": 0, or the fd is closed and a negative errno. */
static int ac_handshake(int fd, const char *uds, struct husk_err *e)
{
	char line[64];
	size_t got = 0;

	/* byte by byte: what follows the line belongs to the stream */
	while (got < sizeof(line) - 1) {
		ssize_t r = read(fd, line + got, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			return -ECONNREFUSED; /* the guest refused: nobody listens yet */
		}
		if (line[got++] == '\n')
			break;
	}
	line[got] = '\0';
	if (strncmp(line, "OK ", 3)) {
		close(fd);
		return husk_err_set(e, EPROTO, "vsock %s: unexpected answer \"%.*s\"", uds,
				    (int)strcspn(line, "\n"), line);
	}
	return 0;
}

/* One attempt: connect and do the hybrid vsock handshake. */
static int ac_try(const char *uds, unsigned port, struct husk_err *e)
{
	int fd = ac_connect(uds, port, e);
	if (fd < 0)
		return fd;
	int r = ac_handshake(fd, uds, e);
	return r < 0 ? r : fd;
}

int ac_dial(const char *uds, unsigned port, int timeout_ms, const volatile int *cancel,
	    struct husk_err *e)
{
	int64_t deadline = ac_now_ms() + timeout_ms;
	for (;;) {
		int fd = ac_try(uds, port, e);
		if (fd >= 0 || e->code)
			return fd;
		if (ac_now_ms() >= deadline)
			return husk_err_set(
				e, ETIMEDOUT,
				"the agent did not answer on vsock port %u within %d ms", port,
				timeout_ms);
		if (cancel && *cancel)
			return husk_err_set(e, ECANCELED, "the VM ended");
		struct timespec ts = { 0, AC_RETRY_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
}

int ac_call(struct ac_conn *c, uint16_t type, json_t *req, json_t **result, struct husk_err *e)
{
	int r = proto_call(c->fd, type, ++c->next_id, req, -1, "the agent", result, e);
	return r > 0 ? -(e && e->code ? e->code : EIO) : r;
}

int ac_open(struct ac_conn *c, const char *uds, int timeout_ms, const volatile int *cancel,
	    char *kernel, size_t kernel_len, struct husk_err *e)
{
	json_t *res = NULL;
	c->next_id = 0;
	c->fd = ac_dial(uds, PROTO_AGENT_PORT, timeout_ms, cancel, e);
	if (c->fd < 0)
		return c->fd;
	int r = ac_call(c, PROTO_HELLO, json_pack("{s:i}", "version", PROTO_VERSION), &res, e);
	if (r < 0) {
		ac_close(c);
		return r;
	}
	const char *k = json_string_value(json_object_get(res, "kernel"));
	if (kernel && kernel_len)
		snprintf(kernel, kernel_len, "%s", k ? k : "");
	json_decref(res);
	return 0;
}

void ac_close(struct ac_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int ac_stream(const char *uds, const char *cid, const char *eid, const char *stream,
	      struct husk_err *e)
{
	struct ac_conn c = { .fd = -1 };
	c.fd = ac_dial(uds, PROTO_AGENT_PORT, 0, NULL, e);
	if (c.fd < 0)
		return c.fd;
	int r = ac_call(&c, PROTO_STREAM,
			json_pack("{s:s,s:s,s:s}", "id", cid, "exec", eid, "stream", stream), NULL,
			e);
	if (r < 0) {
		ac_close(&c);
		return husk_err_wrap(e, "attach %s", stream);
	}
	return c.fd;
}

int ac_streams(const char *uds, const char *cid, const char *eid, const char *const *names, int n,
	       int *fds, struct husk_err *e)
{
	int r = 0, i;

	for (i = 0; i < n; i++)
		fds[i] = -1;
	/* each connection's STREAM goes right behind its CONNECT line, all at once */
	for (i = 0; i < n && r == 0; i++) {
		if ((fds[i] = ac_connect(uds, PROTO_AGENT_PORT, e)) < 0) {
			r = e->code ?
				    -e->code :
				    husk_err_set(e, -fds[i], "the agent does not answer on %s: %s",
						 uds, strerror(-fds[i]));
			fds[i] = -1;
			break;
		}
		json_t *req =
			json_pack("{s:s,s:s,s:s}", "id", cid, "exec", eid, "stream", names[i]);
		int s = req ? proto_send(fds[i], PROTO_STREAM, 1, req) : -ENOMEM;
		json_decref(req);
		if (s < 0)
			r = husk_err_set(e, -s, "attach %s: %s", names[i], strerror(-s));
	}
	for (i = 0; i < n && r == 0; i++) {
		struct proto_msg m = { 0 };
		if ((r = ac_handshake(fds[i], uds, e)) < 0) {
			fds[i] = -1; /* closed */
			if (!e->code)
				r = husk_err_set(e, -r,
						 "attach %s: the agent refused the connection",
						 names[i]);
		} else if ((r = proto_recv(fds[i], &m, e)) < 0) {
			husk_err_wrap(e, "attach %s", names[i]);
		} else if (m.hdr.id != 1 || m.hdr.type != PROTO_OK) {
			const char *msg = json_string_value(json_object_get(m.payload, "error"));
			r = husk_err_set(e, EPROTO, "attach %s: %s", names[i],
					 msg ? msg : "not answered OK");
		}
		proto_msg_free(&m);
	}
	if (r < 0)
		for (i = 0; i < n; i++)
			if (fds[i] >= 0) {
				close(fds[i]);
				fds[i] = -1;
			}
	return r;
}

int ac_exit_status(const json_t *res)
{
	const json_t *code = json_object_get(res, "exit_code");
	const json_t *sig = json_object_get(res, "signal");
	if (json_is_integer(code))
		return (int)(json_integer_value(code) & 0xff);
	if (json_is_integer(sig))
		return 128 + (int)(json_integer_value(sig) & 0x7f);
	return -1;
}
