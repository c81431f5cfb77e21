/*
 * husk-vmm's control socket: its refusals read as runc's, above all a kill
 * once the workload has ended (the VM still on its way down), which must
 * say "container not running" for containerd to take it as finished.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "husk/line_io.h"
#include "husk/proto.h"
#include "husk/uds.h"
#include "spec_control.h"
#include "unit.h"

struct ctl_fixture {
	struct spec_run sr;
	volatile int stopping;
	char dir[32];
	char control[64];
};

static void ctl_open(struct ctl_fixture *f, enum spec_state state, bool paused)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/husk-ctl-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->control, sizeof(f->control), "%s/control.sock", f->dir);
	snprintf(f->sr.uds, sizeof(f->sr.uds), "%s/vsock.sock", f->dir);
	pthread_mutex_init(&f->sr.lock, NULL);
	pthread_cond_init(&f->sr.cond, NULL);
	f->sr.opts.control = f->control;
	f->sr.opts.container_id = "c1";
	f->sr.opts.ready_fd = -1;
	f->sr.stopping = &f->stopping;
	f->sr.state = state;
	f->sr.paused = paused;
	f->sr.cancel_efd = eventfd(0, EFD_CLOEXEC);
	ck_assert_int_ge(f->sr.cancel_efd, 0);
	ck_assert_int_eq(spec_ctl_start(&f->sr), 0);
}

static void ctl_close(struct ctl_fixture *f)
{
	uint64_t one = 1;
	ck_assert_int_eq(write(f->sr.cancel_efd, &one, sizeof(one)), sizeof(one));
	spec_ctl_stop(&f->sr);
	close(f->sr.cancel_efd);
	unlink(f->sr.uds);
	rmdir(f->dir);
}

/*
 * One request (`req` consumed, NULL for {}), its answer as text: "ok", the
 * state for a STATE, or "error MSG". A "container not running" must come
 * with ESRCH: that is how the runtime knows it.
 */
static void ctl_ask(struct ctl_fixture *f, uint16_t type, json_t *req, char *reply, size_t len)
{
	struct husk_err e = { 0 };
	json_t *res = NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(uds_connect(fd, f->control), 0);
	int r = proto_call(fd, type, 1, req, 5000, "husk-vmm", &res, &e);
	close(fd);
	ck_assert_int_ge(r, 0);
	if (r > 0) {
		snprintf(reply, len, "error %s", e.msg);
		ck_assert_int_eq(e.code == ESRCH, !strcmp(e.msg, HUSK_ERR_NOT_RUNNING));
	} else {
		const char *state = json_string_value(json_object_get(res, "state"));
		snprintf(reply, len, "%s", state ? state : "ok");
	}
	json_decref(res);
}

#define KILL(sig, all) json_pack("{s:i,s:b}", "signal", (sig), "all", (all))

#define ck_reply(f, type, req, want)                                         \
	do {                                                                 \
		char r_[300];                                                \
		ctl_ask((f), (type), (req), r_, sizeof(r_));                 \
		ck_assert_msg(!strcmp(r_, (want)), "%s: \"%s\", not \"%s\"", \
			      proto_type_name(type), r_, (want));            \
	} while (0)

START_TEST(a_stopped_container_is_not_running)
{
	struct ctl_fixture f;
	ctl_open(&f, SPEC_STOPPED, false);
	ck_reply(&f, PROTO_SIGNAL, KILL(9, 0), "error container not running");
	ck_reply(&f, PROTO_SIGNAL, KILL(15, 0), "error container not running");
	ck_reply(&f, PROTO_SIGNAL, KILL(9, 1), "error container not running");
	ck_reply(&f, PROTO_START, NULL, "error cannot start a container that has stopped");
	ck_reply(&f, PROTO_PAUSE, NULL, "error container not running");
	ck_reply(&f, PROTO_RESUME, NULL, "error container not paused");
	ck_reply(&f, PROTO_STATE, NULL, "stopped");
	ctl_close(&f);
}
END_TEST

START_TEST(a_running_container_refuses_as_runc)
{
	struct ctl_fixture f;
	ctl_open(&f, SPEC_RUNNING, false);
	ck_reply(&f, PROTO_START, NULL, "error cannot start an already running container");
	ck_reply(&f, PROTO_RESUME, NULL, "error container not paused");
	ctl_close(&f);
	ctl_open(&f, SPEC_RUNNING, true);
	ck_reply(&f, PROTO_START, NULL, "error cannot start a container in the paused state");
	ck_reply(&f, PROTO_PAUSE, NULL, "error container not running");
	ck_reply(&f, PROTO_SIGNAL, KILL(15, 0), "error the container is paused: resume it first");
	ctl_close(&f);
}
END_TEST

/* The VM is going down: its agent is no longer there to take the signal. */
START_TEST(a_kill_while_the_vm_ends_is_not_running)
{
	struct ctl_fixture f;
	ctl_open(&f, SPEC_RUNNING, false);
	f.stopping = 1;
	ck_reply(&f, PROTO_SIGNAL, KILL(9, 0), "error container not running");
	ctl_close(&f);
}
END_TEST

/* A fake agent: the vsock handshake, HELLO, then ESRCH for the SIGNAL. */
static void *agent_esrch(void *arg)
{
	int lfd = *(int *)arg, fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	char line[64];
	struct proto_msg m;
	struct husk_err e = { 0 };
	if (fd < 0)
		return NULL;
	line_read(fd, line, sizeof(line), 5000);
	if (write(fd, "OK 1\n", 5) == 5) {
		for (int i = 0; i < 2 && proto_recv(fd, &m, &e) == 0; i++) {
			if (m.hdr.type == PROTO_HELLO) {
				json_t *ok = json_pack("{s:i,s:s}", "version", PROTO_VERSION,
						       "kernel", "test");
				proto_send(fd, PROTO_OK, m.hdr.id, ok);
				json_decref(ok);
			} else {
				struct husk_err gone = { 0 };
				husk_err_set(&gone, ESRCH, "c1 is not running");
				json_t *err = proto_error_payload(&gone);
				proto_send(fd, PROTO_ERROR, m.hdr.id, err);
				json_decref(err);
			}
			proto_msg_free(&m);
		}
	}
	close(fd);
	return NULL;
}

/* The workload has exited, the runner has not marked it yet: the agent's ESRCH. */
START_TEST(a_kill_of_an_exited_workload_is_not_running)
{
	struct ctl_fixture f;
	pthread_t t;
	ctl_open(&f, SPEC_RUNNING, false);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(uds_bind(lfd, f.sr.uds), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, agent_esrch, &lfd), 0);
	ck_reply(&f, PROTO_SIGNAL, KILL(9, 0), "error container not running");
	pthread_join(t, NULL);
	close(lfd);
	ctl_close(&f);
}
END_TEST

/* What is not this container's, or not a request husk-vmm serves, or not a message. */
START_TEST(other_requests_are_refused)
{
	struct ctl_fixture f;
	ctl_open(&f, SPEC_CREATED, false);
	ck_reply(&f, PROTO_STATE, json_pack("{s:s}", "id", "c1"), "created");
	ck_reply(&f, PROTO_STATE, json_pack("{s:s}", "id", "c2"),
		 "error state: container \"c2\" is not the one here (\"c1\")");
	ck_reply(&f, PROTO_SIGNAL, json_pack("{s:s}", "signal", "TERM"),
		 "error signal: \"signal\": not an integer");
	ck_reply(&f, PROTO_SIGNAL, KILL(65, 0),
		 "error signal: \"signal\": 65 is out of range 1..64");
	ck_reply(&f, PROTO_EXEC, NULL, "error exec: not a request husk-vmm serves");

	/* a line of text, as the control socket once took: an ERROR, and on it serves */
	struct proto_msg m;
	struct husk_err e = { 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(uds_connect(fd, f.control), 0);
	ck_assert_int_eq(write(fd, "kill 9 0 and then some\n", 23), 23);
	ck_assert_int_eq(proto_recv_ms(fd, 5000, &m, &e), 0);
	ck_assert_uint_eq(m.hdr.type, PROTO_ERROR);
	ck_assert_int_eq(json_integer_value(json_object_get(m.payload, "errno")), EPROTO);
	proto_msg_free(&m);
	close(fd);
	ck_reply(&f, PROTO_STATE, NULL, "created");
	ctl_close(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("spec_control");
	TCase *tc = tcase_create("replies");
	tcase_add_test(tc, a_stopped_container_is_not_running);
	tcase_add_test(tc, a_running_container_refuses_as_runc);
	tcase_add_test(tc, a_kill_while_the_vm_ends_is_not_running);
	tcase_add_test(tc, a_kill_of_an_exited_workload_is_not_running);
	tcase_add_test(tc, other_requests_are_refused);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
