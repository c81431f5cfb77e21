/* The event loop runs handlers on its own thread and stops cleanly. */
#include <errno.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "event_loop.h"
#include "unit.h"

static atomic_int calls;

static void on_event(void *ctx, uint32_t events)
{
	int fd = *(int *)ctx;
	uint64_t v;
	if ((events & EPOLLIN) && read(fd, &v, sizeof(v)) == sizeof(v))
		atomic_fetch_add(&calls, (int)v);
}

START_TEST(handlers_run_and_stop)
{
	struct event_loop el;
	int fd = eventfd(0, EFD_NONBLOCK);
	atomic_store(&calls, 0);
	ck_assert_int_eq(el_init(&el), 0);
	ck_assert_int_eq(el_add(&el, fd, EPOLLIN, on_event, &fd), 0);
	ck_assert_int_lt(el_add(&el, -1, EPOLLIN, on_event, &fd), 0);
	ck_assert_int_eq(el_start(&el), 0);
	uint64_t three = 3;
	ck_assert_int_eq(write(fd, &three, sizeof(three)), 8);
	for (int i = 0; i < 200 && atomic_load(&calls) != 3; i++)
		usleep(10000);
	ck_assert_int_eq(atomic_load(&calls), 3);
	el_stop(&el);
	ck_assert_int_eq(el_remove(&el, fd), 0);
	ck_assert_int_eq(el_remove(&el, fd), -ENOENT);
	el_destroy(&el);
	close(fd);
}
END_TEST

START_TEST(destroy_without_start)
{
	struct event_loop el;
	ck_assert_int_eq(el_init(&el), 0);
	el_destroy(&el);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("event_loop");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, handlers_run_and_stop);
	tcase_add_test(tc, destroy_without_start);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
