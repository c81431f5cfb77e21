/* husk's state store: one directory per container, written atomically. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "unit.h"

START_TEST(create_save_load_remove)
{
	char root[] = "/tmp/husk-state-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(root));
	struct husk_global g = { .root = root };
	struct husk_state st, back;
	struct husk_err e = { 0 };

	ck_assert_int_eq(state_create(&g, "c1", &st, &e), 0);
	/* an id being created has no state yet: others are told so */
	ck_assert_int_eq(state_load(&g, "c1", &back, &e), -ENOENT);
	ck_assert_msg(strstr(e.msg, "being created"), "%s", e.msg);
	memset(&e, 0, sizeof(e));
	snprintf(st.bundle, sizeof(st.bundle), "/some/bundle");
	snprintf(st.cgroup, sizeof(st.cgroup), "/engine/c1");
	st.mem_bytes = 232ULL << 20;
	st.pid = getpid();
	st.starttime = state_starttime(getpid());
	ck_assert_uint_ne(st.starttime, 0);
	ck_assert_int_eq(state_save(&st, &e), 0);
	ck_assert_int_eq(state_load(&g, "c1", &back, &e), 0);
	ck_assert_str_eq(back.bundle, "/some/bundle");
	ck_assert_str_eq(back.cgroup, "/engine/c1");
	ck_assert_uint_eq(back.mem_bytes, 232ULL << 20);
	ck_assert_int_eq(back.pid, getpid());
	ck_assert(state_alive(&back));
	back.starttime++; /* the same PID, another process: not ours */
	ck_assert(!state_alive(&back));

	ck_assert_int_eq(state_create(&g, "c1", &back, &e), -EEXIST);
	ck_assert_msg(strstr(e.msg, "already exists"), "%s", e.msg);
	state_remove(&st);
	struct stat sb;
	ck_assert_int_lt(stat(st.dir, &sb), 0);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(state_load(&g, "c1", &back, &e), -ENOENT);
	ck_assert_msg(strstr(e.msg, "does not exist"), "%s", e.msg);
	rmdir(root);
}
END_TEST

START_TEST(remove_takes_the_binds_staging)
{
	char root[] = "/tmp/husk-state-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(root));
	struct husk_global g = { .root = root };
	struct husk_state st;
	struct husk_err e = { 0 };
	char p[4200];

	ck_assert_int_eq(state_create(&g, "c1", &st, &e), 0);
	ck_assert_int_eq(state_save(&st, &e), 0);
	/* what a killed husk-vmm leaves: staged files and directories, unmounted with it */
	snprintf(p, sizeof(p), "%s/binds", st.dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/binds/0", st.dir);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/binds/1", st.dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	state_remove(&st);
	struct stat sb;
	ck_assert_int_lt(stat(st.dir, &sb), 0);
	ck_assert_int_eq(rmdir(root), 0); /* empty */
}
END_TEST

/* A deep --root works; one past PATH_MAX is refused by name, nothing made, nothing cut. */
START_TEST(deep_roots_work_or_are_refused)
{
	char top[] = "/tmp/husk-state-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(top));
	char comp[201];
	memset(comp, 'd', 200);
	comp[200] = '\0';
	char root[1024]; /* three components of 200 under /tmp */
	snprintf(root, sizeof(root), "%s/%s/%s/%s", top, comp, comp, comp);
	struct husk_global g = { .root = root };
	struct husk_state st, back;
	struct husk_err e = { 0 };

	ck_assert_int_eq(state_create(&g, "c1", &st, &e), 0); /* parents made as runc does */
	ck_assert_int_eq(strncmp(st.dir, root, strlen(root)), 0);
	ck_assert_str_eq(st.dir + strlen(root), "/c1");
	snprintf(st.bundle, sizeof(st.bundle), "%s/bundle", root);
	ck_assert_int_eq(state_save(&st, &e), 0);
	ck_assert_int_eq(state_load(&g, "c1", &back, &e), 0);
	ck_assert_str_eq(back.bundle, st.bundle);
	state_remove(&st);

	/* 4095 bytes and more: no state directory can be there */
	size_t n = strlen(root);
	char *huge = malloc(PATH_MAX + 2 * sizeof(comp));
	ck_assert_ptr_nonnull(huge);
	memcpy(huge, root, n);
	for (; n < PATH_MAX; n += sizeof(comp)) {
		huge[n] = '/';
		memcpy(huge + n + 1, comp, sizeof(comp) - 1);
	}
	huge[n] = '\0';
	g.root = huge;
	ck_assert_int_eq(state_create(&g, "c2", &st, &e), -ENAMETOOLONG);
	ck_assert_int_eq(e.code, ENAMETOOLONG);
	ck_assert_msg(strstr(e.msg, "--root: /tmp/husk-state-"), "%s", e.msg);
	ck_assert_msg(strstr(e.msg, "longer than the 4095 allowed here"), "%s", e.msg);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(state_load(&g, "c2", &back, &e), -ENAMETOOLONG);
	ck_assert_msg(strstr(e.msg, "dd/c2: a path of"), "%s", e.msg);
	free(huge);

	for (int i = 0; i < 3; i++) { /* the deep root, nothing else, is left: remove it */
		ck_assert_int_eq(rmdir(root), 0);
		*strrchr(root, '/') = '\0';
	}
	ck_assert_int_eq(rmdir(top), 0);
}
END_TEST

START_TEST(bad_ids_are_refused)
{
	struct husk_global g = { .root = "/tmp" };
	struct husk_state st;
	static const char *const bad[] = { "", "..", "a/b", "-x", "a b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct husk_err e = { 0 };
		ck_assert_int_eq(state_create(&g, bad[i], &st, &e), -EINVAL);
		ck_assert_int_eq(state_load(&g, bad[i], &st, &e), -EINVAL);
	}
}
END_TEST

START_TEST(a_dead_vmm_is_stopped)
{
	struct husk_state st = { .pid = 0 };
	ck_assert_str_eq(state_status(&st), "stopped");
	st.pid = 999999999; /* no such process */
	ck_assert_str_eq(state_status(&st), "stopped");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("state");
	tcase_add_test(tc, create_save_load_remove);
	tcase_add_test(tc, remove_takes_the_binds_staging);
	tcase_add_test(tc, deep_roots_work_or_are_refused);
	tcase_add_test(tc, bad_ids_are_refused);
	tcase_add_test(tc, a_dead_vmm_is_stopped);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
