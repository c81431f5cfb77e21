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
	f->sr.cfg.control = f->control;
	f->sr.cfg.container_id = "c1";
	f->sr.cfg.ready_fd = -1;
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

/* One request, its one-line answer. */
static void ctl_ask(struct ctl_fixture *f, const char *req, char *reply, size_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(uds_connect(fd, f->control), 0);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	ck_assert_int_eq(write(fd, "\n", 1), 1);
	reply[0] = '\0';
	line_read(fd, reply, len, 5000);
	close(fd);
}

#define ck_reply(f, req, want)                                                     \
	do {                                                                       \
		char r_[300];                                                      \
		ctl_ask((f), (req), r_, sizeof(r_));                               \
		ck_assert_msg(!strcmp(r_, (want)), "%s: \"%s\", not \"%s\"", (req), \
			      r_, (want));                                         \
	} while (0)

START_TEST(a_stopped_container_is_not_running)
{
	struct ctl_fixture f;
	ctl_open(&f, SPEC_STOPPED, false);
	ck_reply(&f, "kill 9 0", "error container not running");
	ck_reply(&f, "kill 15 0", "error container not running");
	ck_reply(&f, "kill 9 1", "error container not running");
	ck_reply(&f, "start", "error cannot start a container that has stopped");
	ck_reply(&f, "pause", "error container not running");
	ck_reply(&f, "resume", "error container not paused");
	ck_reply(&f, "state", "stopped");
	ctl_close(&f);
}
END_TEST

START_TEST(a_running_container_refuses_as_runc)
{
	struct ctl_fixture f;
	ctl_open(&f, SPEC_RUNNING, false);
	ck_reply(&f, "start", "error cannot start an already running container");
	ck_reply(&f, "resume", "error container not paused");
	ctl_close(&f);
	ctl_open(&f, SPEC_RUNNING, true);
	ck_reply(&f, "start", "error cannot start a container in the paused state");
	ck_reply(&f, "pause", "error container not running");
	ck_reply(&f, "kill 15 0", "error the container is paused: resume it first");
	ctl_close(&f);
}
END_TEST

/* The VM is going down: its agent is no longer there to take the signal. */
START_TEST(a_kill_while_the_vm_ends_is_not_running)
{
	struct ctl_fixture f;
	ctl_open(&f, SPEC_RUNNING, false);
	f.stopping = 1;
	ck_reply(&f, "kill 9 0", "error container not running");
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
	ck_reply(&f, "kill 9 0", "error container not running");
	pthread_join(t, NULL);
	close(lfd);
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
	suite_add_tcase(s, tc);
	return unit_run(s);
}
