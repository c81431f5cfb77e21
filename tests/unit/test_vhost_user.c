/* The vhost-user front end against a scripted back end on a socket pair. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/vhost_user.h"
#include "guest_mem.h"
#include "unit.h"
#include "vhost_user_fake.h"

struct fake {
	int fd;
	uint64_t features;
	bool bad_reply; /* answer GET_FEATURES with the wrong size */
	uint32_t seen[32];
	unsigned nseen;
	int fds_seen;
	uint32_t vring_base[2]; /* the last SET_VRING_BASE: index, next */
};

/* Read requests; answer the ones that want a reply, as a back end would. */
static void *fake_backend(void *arg)
{
	struct fake *f = arg;
	for (;;) {
		struct vu_fake_msg m;
		bool ok = vu_fake_recv(f->fd, &m);
		for (int i = 0; i < m.nfds; i++)
			close(m.fds[i]);
		f->fds_seen += m.nfds;
		if (!ok)
			break;
		const struct vu_hdr h = m.h;
		const uint8_t *body = m.body;
		if (f->nseen < 32)
			f->seen[f->nseen++] = h.request;
		if (h.request == 10 && h.size == 8) /* SET_VRING_BASE */
			memcpy(f->vring_base, body, 8);
		if (h.request == 1 || h.request == 15) { /* GET_FEATURES, GET_PROTOCOL_FEATURES */
			uint64_t v = h.request == 1 ? f->features : 0;
			struct vu_hdr r = { h.request, 0x5, f->bad_reply ? 4 : 8 };
			if (write(f->fd, &r, sizeof(r)) < 0 || write(f->fd, &v, sizeof(v)) < 0)
				break;
		} else if (h.request == 11) { /* GET_VRING_BASE */
			struct vu_hdr r = { h.request, 0x5, 8 };
			if (write(f->fd, &r, sizeof(r)) < 0 || write(f->fd, body, 8) < 0)
				break;
		}
	}
	return NULL;
}

static void start(struct fake *f, int *front, pthread_t *t)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->fd = sv[1];
	*front = sv[0];
	ck_assert_int_eq(pthread_create(t, NULL, fake_backend, f), 0);
}

START_TEST(handshake_rings_and_memory)
{
	struct fake f = { .features = (1ULL << 32) | (1ULL << VHOST_USER_F_PROTOCOL_FEATURES) };
	struct vu_conn c;
	struct guest_mem gm;
	pthread_t t;
	int front;

	start(&f, &front, &t);
	ck_assert_int_eq(vu_open(&c, front), 0);
	ck_assert_uint_eq(c.features, f.features);
	ck_assert_int_eq(vu_set_features(&c, 1ULL << 32), 0);
	ck_assert_int_eq(gm_init(&gm, 64 << 20), 0);
	ck_assert_int_eq(vu_set_mem_table(&c, &gm), 0);
	ck_assert_int_eq(vu_setup_ring(&c, 1, 128, 0x1000, 0x2000, 0x3000, 77, front, front), 0);
	ck_assert_int_eq(vu_stop_ring(&c, 1), 0);
	vu_close(&c);
	pthread_join(t, NULL);
	close(f.fd);
	gm_destroy(&gm);

	/* owner, features, protocol features both ways, features, memory, the ring */
	static const uint32_t want[] = { 3, 1, 15, 16, 2, 5, 8, 10, 9, 13, 12, 18, 11 };
	ck_assert_uint_eq(f.nseen, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < f.nseen; i++)
		ck_assert_uint_eq(f.seen[i], want[i]);
	ck_assert_int_eq(f.fds_seen, 1 + 2); /* the memfd, the call and kick eventfds */
	ck_assert_uint_eq(f.vring_base[0], 1);
	ck_assert_uint_eq(f.vring_base[1], 77); /* where the ring goes on from */
}
END_TEST

START_TEST(a_wrong_reply_is_an_error_not_a_crash)
{
	struct fake f = { .features = 1ULL << 32, .bad_reply = true };
	struct vu_conn c;
	pthread_t t;
	int front;

	start(&f, &front, &t);
	ck_assert_int_eq(vu_open(&c, front), -EPROTO);
	vu_close(&c);
	pthread_join(t, NULL);
	close(f.fd);

	/* a back end that is gone */
	f = (struct fake){ .features = 0 };
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	ck_assert_int_lt(vu_open(&c, sv[0]), 0);
	vu_close(&c);
}
END_TEST

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* the fake back end may answer a closed front end */
	Suite *s = suite_create("vhost_user");
	TCase *tc = tcase_create("vhost_user");
	tcase_set_timeout(tc, 30); /* each test maps guest RAM: slow under ASan on a busy host */
	tcase_add_test(tc, handshake_rings_and_memory);
	tcase_add_test(tc, a_wrong_reply_is_an_error_not_a_crash);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
