/*
 * The template cache (client/template.h) with fake builds and checks, no
 * KVM: key names, the cache directory, one build per key (across
 * processes too), nothing left of a failed build, a bad template rebuilt
 * with its log line, leftovers cleaned, listing and removal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "template.h"
#include "unit.h"

/* What the fake build and check see and count. */
struct fake {
	char cache[64];
	const char *counter; /* NULL, or a file the build appends one line to (across processes) */
	const char *started; /* NULL, or a file the build makes before it sleeps */
	unsigned sleep_ms;
	int builds;
	int fail_build; /* the build writes part of a template, then fails */
	bool build_bad; /* the build writes a template its check refuses */
	char log[512];	/* the last line logged */
	int logs;
	int uses;
	int fail_use;		 /* use fails with this errno */
	const char *use_started; /* NULL, or a file use makes before it sleeps */
	unsigned use_sleep_ms;
	bool use_saw_gone; /* use found the template's state gone after its sleep */
};

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static int fake_build(void *ctx, const char *tmpdir, struct husk_err *e)
{
	struct fake *f = ctx;
	static char mem[64 * 1024];

	f->builds++;
	if (f->started) {
		int fd = open(f->started, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		close(fd);
	}
	if (f->sleep_ms) {
		struct timespec ts = { f->sleep_ms / 1000, (long)(f->sleep_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (f->counter) {
		int fd = open(f->counter, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, "built\n", 6), 6);
		close(fd);
	}
	write_file(tmpdir, "state", f->build_bad ? "bad" : "good", f->build_bad ? 3 : 4);
	if (f->fail_build)
		return husk_err_set(e, f->fail_build, "the guest did not come up");
	memset(mem, 0x5a, sizeof(mem));
	write_file(tmpdir, "memory", mem, sizeof(mem));
	return 0;
}

/* Good when state says "good". */
static int fake_check(void *ctx, const char *dir, struct husk_err *e)
{
	char path[PATH_MAX], buf[16] = { 0 };
	(void)ctx;
	snprintf(path, sizeof(path), "%s/state", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return husk_err_set(e, errno, "state: %s", strerror(errno));
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (strcmp(buf, "good"))
		return husk_err_set(e, EINVAL, "state: bad magic");
	return 0;
}

static void fake_log(void *ctx, const char *line)
{
	struct fake *f = ctx;
	snprintf(f->log, sizeof(f->log), "%s", line);
	f->logs++;
}

/* Open the template's state, as a restore would; it must stay there meanwhile. */
static int fake_use(void *ctx, const char *dir, struct husk_err *e)
{
	struct fake *f = ctx;
	char path[PATH_MAX];

	f->uses++;
	if (f->fail_use)
		return husk_err_set(e, f->fail_use, "restore: no such vCPU state");
	if (f->use_started) {
		int fd = open(f->use_started, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		close(fd);
	}
	if (f->use_sleep_ms)
		usleep(f->use_sleep_ms * 1000);
	snprintf(path, sizeof(path), "%s/state", dir);
	f->use_saw_gone = access(path, F_OK) < 0;
	return 0;
}

static const struct tpl_ops fake_ops = {
	.build = fake_build, .check = fake_check, .use = fake_use, .log = fake_log
};

static void setup_cache(struct fake *f)
{
	*f = (struct fake){ 0 };
	snprintf(f->cache, sizeof(f->cache), "/tmp/husk-tpl-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->cache));
}

static void teardown_cache(struct fake *f)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->cache);
	ck_assert_int_eq(system(cmd), 0);
}

/* The entries of the cache directory, sorted, joined by spaces. */
static const char *ls(const struct fake *f)
{
	static char out[1024];
	struct dirent **list;
	int n = scandir(f->cache, &list, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.') {
			if (out[0])
				strcat(out, " ");
			strcat(out, list[i]->d_name);
		}
		free(list[i]);
	}
	free(list);
	return out;
}

static int counted(const char *path)
{
	char buf[256] = { 0 };
	int lines = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f))
		lines++;
	fclose(f);
	return lines;
}

static const struct tpl_key base_key = {
	.kernel_hash = 0x1111,
	.initrd_hash = 0x2222,
	.version = "0.1.0",
	.vcpus = 1,
	.ram_bytes = 128ULL << 20,
	.cmdline_hash = 0x3333,
	.layout_hash = 0x4444,
};

START_TEST(key_names)
{
	char a[32], b[32];
	struct tpl_key k = base_key;

	ck_assert_int_eq(tpl_key_name(&k, a, sizeof(a)), 0);
	ck_assert_uint_eq(strlen(a), 16);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 16);
	ck_assert(tpl_name_valid(a));
	/* stable: the same key, the same name, on every host and build (the text of
	 * template.h through FNV-1a 64, as Python computes it too) */
	ck_assert_str_eq(a, "24e68ef9d4c6d18e");
	ck_assert_int_eq(tpl_key_name(&base_key, b, sizeof(b)), 0);
	ck_assert_str_eq(a, b);
	/* 16 digits and the NUL, or refused */
	ck_assert_int_eq(tpl_key_name(&k, b, 16), -ENAMETOOLONG);
	ck_assert_str_eq(b, "");
	ck_assert_int_eq(tpl_key_name(&k, b, 17), 0);
	ck_assert_str_eq(a, b);

	/* every field counts */
	char names[9][32];
	struct tpl_key v[9];
	for (int i = 0; i < 9; i++)
		v[i] = base_key;
	v[1].kernel_hash++;
	v[2].initrd_hash++;
	v[3].version = "0.1.1";
	v[4].vcpus = 2;
	v[5].ram_bytes <<= 1;
	v[6].cmdline_hash++;
	v[7].layout_hash++;
	v[8].version = NULL; /* "" */
	for (int i = 0; i < 9; i++) {
		ck_assert_int_eq(tpl_key_name(&v[i], names[i], sizeof(names[i])), 0);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(names[i], names[j]);
	}
	/* values that swap between fields do not meet */
	struct tpl_key s = base_key;
	s.kernel_hash = base_key.initrd_hash;
	s.initrd_hash = base_key.kernel_hash;
	ck_assert_int_eq(tpl_key_name(&s, b, sizeof(b)), 0);
	ck_assert_str_ne(a, b);

	ck_assert(!tpl_name_valid(""));
	ck_assert(!tpl_name_valid("a.lock"));
	ck_assert(!tpl_name_valid("../x"));
	ck_assert(tpl_name_valid("a-b_C9"));
	/* FNV-1a 64's own test vector */
	ck_assert_uint_eq(tpl_hash(TPL_HASH_INIT, "a", 1), 0xaf63dc4c8601ec8cULL);
}
END_TEST

START_TEST(cache_dir)
{
	struct fake f;
	char out[PATH_MAX], want[PATH_MAX], cwd[PATH_MAX];
	struct husk_err e = { 0 };
	struct stat st;

	setup_cache(&f);
	/* the option first, made with its parents; 0700 */
	snprintf(want, sizeof(want), "%s/opt/a/b", f.cache);
	setenv(TPL_DIR_ENV, "/nonexistent-env", 1);
	ck_assert_int_eq(tpl_cache_dir(out, sizeof(out), want, &e), 0);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(stat(out, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	/* then the environment */
	snprintf(want, sizeof(want), "%s/env", f.cache);
	setenv(TPL_DIR_ENV, want, 1);
	ck_assert_int_eq(tpl_cache_dir(out, sizeof(out), NULL, &e), 0);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(tpl_cache_dir(out, sizeof(out), "", &e), 0);
	ck_assert_str_eq(out, want);
	/* a relative one becomes absolute; a trailing slash goes */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(f.cache), 0);
	ck_assert_int_eq(tpl_cache_dir(out, sizeof(out), "rel/", &e), 0);
	snprintf(want, sizeof(want), "%s/rel", f.cache);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(chdir(cwd), 0);
	/* a file in the way: refused, and said */
	snprintf(want, sizeof(want), "%s/file", f.cache);
	write_file(f.cache, "file", "x", 1);
	ck_assert_int_eq(tpl_cache_dir(out, sizeof(out), want, &e), -ENOTDIR);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a directory"));
	/* a path that does not fit */
	e = (struct husk_err){ 0 };
	ck_assert_int_eq(tpl_cache_dir(out, 8, "/var/cache/x", &e), -ENAMETOOLONG);
	unsetenv(TPL_DIR_ENV);
	teardown_cache(&f);
}
END_TEST

START_TEST(acquire_builds_once)
{
	struct fake f;
	char dir[PATH_MAX], want[PATH_MAX];
	struct husk_err e = { 0 };
	bool built;

	setup_cache(&f);
	ck_assert_int_eq(tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 0);
	snprintf(want, sizeof(want), "%s/k1", f.cache);
	ck_assert_str_eq(dir, want);
	ck_assert(built);
	ck_assert_int_eq(f.builds, 1);
	ck_assert_int_eq(fake_check(NULL, dir, &e), 0);
	ck_assert_str_eq(ls(&f), "k1 k1.lock");
	/* used as it is from now on */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(
			tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), &built, &e), 0);
		ck_assert(!built);
	}
	ck_assert_int_eq(f.builds, 1);
	ck_assert_int_eq(f.logs, 0);
	/* a bad name is refused before anything is made */
	ck_assert_int_eq(tpl_acquire(f.cache, "../k", &fake_ops, &f, dir, sizeof(dir), NULL, &e),
			 -EINVAL);
	ck_assert_str_eq(ls(&f), "k1 k1.lock");
	teardown_cache(&f);
}
END_TEST

/*
 * Several processes acquire one key at once: one builds, all use it. Run
 * twice: as they come (the others wait on the shared lock while one
 * builds), and (_i = 1) with a shared hold on the key's lock that keeps
 * them all past their first look and waiting for the exclusive lock
 * together, so that all but the first find the template built while they
 * waited.
 */
START_TEST(acquire_concurrent)
{
	enum { N = 4 };
	struct fake f;
	char counter[PATH_MAX], lock[PATH_MAX];
	pid_t pids[N];

	setup_cache(&f);
	snprintf(lock, sizeof(lock), "%s/k1.lock", f.cache);
	int hold = _i ? open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
	ck_assert(!_i || hold >= 0);
	ck_assert(!_i || flock(hold, LOCK_SH) == 0);
	snprintf(counter, sizeof(counter), "%s.count", f.cache);
	unlink(counter);
	f.counter = counter;
	f.sleep_ms = 300; /* long enough for the others to come while it builds */
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			char dir[PATH_MAX];
			if (hold >= 0)
				close(hold); /* the parent's (a flock is its open file's), not ours */
			struct husk_err e = { 0 };
			int r = tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), NULL,
					    &e);
			_exit(r == 0 && fake_check(NULL, dir, &e) == 0 ? 0 : 1);
		}
	}
	if (hold >= 0) {
		usleep(300 * 1000);
		ck_assert_int_eq(access(counter, F_OK), -1); /* none could build yet */
		close(hold);
	}
	for (int i = 0; i < N; i++) {
		int status;
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	ck_assert_int_eq(counted(counter), 1);
	ck_assert_str_eq(ls(&f), "k1 k1.lock");
	unlink(counter);
	teardown_cache(&f);
}
END_TEST

START_TEST(failed_build_leaves_nothing)
{
	struct fake f;
	char dir[PATH_MAX];
	struct husk_err e = { 0 };
	bool built = true;

	setup_cache(&f);
	f.fail_build = EIO;
	ck_assert_int_eq(tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 -EIO);
	ck_assert(!built);
	ck_assert_str_eq(e.msg, "template k1: build: the guest did not come up");
	ck_assert_str_eq(ls(&f), "k1.lock");
	/* a build its own check refuses is not put in place either */
	f.fail_build = 0;
	f.build_bad = true;
	e = (struct husk_err){ 0 };
	ck_assert_int_eq(tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 -EINVAL);
	ck_assert_str_eq(e.msg, "template k1: the new build fails its check: state: bad magic");
	ck_assert_str_eq(ls(&f), "k1.lock");
	/* and the next one that works is used */
	f.build_bad = false;
	ck_assert_int_eq(tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 0);
	ck_assert(built);
	ck_assert_int_eq(f.builds, 3);
	teardown_cache(&f);
}
END_TEST

START_TEST(bad_template_rebuilt)
{
	struct fake f;
	char dir[PATH_MAX], path[PATH_MAX];
	struct husk_err e = { 0 };
	bool built;

	setup_cache(&f);
	/* one the caller's check refuses */
	snprintf(path, sizeof(path), "%s/k1", f.cache);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	write_file(path, "state", "old!", 4);
	write_file(path, "memory", "", 0);
	ck_assert_int_eq(tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 0);
	ck_assert(built);
	ck_assert_int_eq(f.logs, 1);
	ck_assert_str_eq(f.log, "template k1: state: bad magic; rebuilding");
	ck_assert_int_eq(fake_check(NULL, dir, &e), 0);
	ck_assert_str_eq(ls(&f), "k1 k1.lock");

	/* one half there: no memory file */
	snprintf(path, sizeof(path), "%s/k1/memory", f.cache);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 0);
	ck_assert(built);
	ck_assert_int_eq(f.logs, 2);
	ck_assert_str_eq(f.log, "template k1: memory: No such file or directory; rebuilding");

	/* not even a directory */
	snprintf(path, sizeof(path), "%s/k2", f.cache);
	write_file(f.cache, "k2", "junk", 4);
	ck_assert_int_eq(tpl_acquire(f.cache, "k2", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 0);
	ck_assert(built);
	ck_assert_str_eq(f.log, "template k2: not a directory; rebuilding");
	ck_assert_int_eq(f.builds, 3);
	ck_assert_str_eq(ls(&f), "k1 k1.lock k2 k2.lock");
	teardown_cache(&f);
}
END_TEST

/* The lock file's mtime, as a use leaves it, set to t seconds after the epoch. */
static void set_used(const struct fake *f, const char *name, time_t t)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s.lock", f->cache, name);
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/*
 * The cache pruned to its size: the templates used least lately go, never
 * the one spared nor one in use; a use marks a template used now; a build
 * prunes to TPL_KEEP.
 */
START_TEST(pruned_least_lately_used)
{
	struct fake f;
	char dir[PATH_MAX], path[PATH_MAX], name[8];
	struct husk_err e = { 0 };
	bool built;

	setup_cache(&f);
	for (int i = 1; i <= 4; i++) {
		snprintf(name, sizeof(name), "k%d", i);
		ck_assert_int_eq(
			tpl_acquire(f.cache, name, &fake_ops, &f, dir, sizeof(dir), &built, &e), 0);
		set_used(&f, name, 1000 + i);
	}
	set_used(&f, "k1", 2000); /* k1 is the latest used now; k2 the least lately */
	ck_assert_uint_eq(tpl_prune(f.cache, 3, NULL), 1);
	ck_assert_str_eq(ls(&f), "k1 k1.lock k3 k3.lock k4 k4.lock");

	/* k3 in use (its shared lock held): k4 goes in its place; k3 spared by name next */
	snprintf(path, sizeof(path), "%s/k3.lock", f.cache);
	int held = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(held, 0);
	ck_assert_int_eq(flock(held, LOCK_SH), 0);
	ck_assert_uint_eq(tpl_prune(f.cache, 2, NULL), 1);
	ck_assert_str_eq(ls(&f), "k1 k1.lock k3 k3.lock");
	close(held);
	ck_assert_uint_eq(tpl_prune(f.cache, 1, "k3"), 1);
	ck_assert_str_eq(ls(&f), "k3 k3.lock");
	ck_assert_uint_eq(tpl_prune(f.cache, 1, "k3"), 0);

	/* a use marks the template: k3 used now, after k5 was built */
	ck_assert_int_eq(tpl_acquire(f.cache, "k5", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 0);
	set_used(&f, "k5", 1000);
	set_used(&f, "k3", 1000);
	ck_assert_int_eq(tpl_acquire(f.cache, "k3", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 0);
	ck_assert(!built);
	ck_assert_uint_eq(tpl_prune(f.cache, 1, NULL), 1);
	ck_assert_str_eq(ls(&f), "k3 k3.lock");

	/* a build keeps TPL_KEEP: the one built and the latest used before it */
	set_used(&f, "k3", 1);
	for (int i = 0; i < TPL_KEEP + 2; i++) {
		snprintf(name, sizeof(name), "b%d", i);
		ck_assert_int_eq(
			tpl_acquire(f.cache, name, &fake_ops, &f, dir, sizeof(dir), &built, &e), 0);
		ck_assert(built);
		set_used(&f, name, 3000 + i);
	}
	unsigned n = 0;
	DIR *d = opendir(f.cache);
	ck_assert_ptr_nonnull(d);
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.' && !strchr(de->d_name, '.');
	closedir(d);
	ck_assert_uint_eq(n, TPL_KEEP);
	snprintf(path, sizeof(path), "%s/b%d", f.cache, TPL_KEEP + 1);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/k3", f.cache);
	ck_assert_int_eq(access(path, F_OK), -1);
	teardown_cache(&f);
}
END_TEST

START_TEST(leftovers_cleaned)
{
	struct fake f;
	char dir[PATH_MAX], path[PATH_MAX];
	struct husk_err e = { 0 };
	bool built;

	setup_cache(&f);
	/* a crashed build (half a template), a removal cut short; another key's stays */
	snprintf(path, sizeof(path), "%s/k1.tmp-99999", f.cache);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	write_file(path, "state", "good", 4);
	snprintf(path, sizeof(path), "%s/k1.tmp-99999/sub", f.cache);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	write_file(path, "x", "x", 1);
	snprintf(path, sizeof(path), "%s/k1.old-12", f.cache);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/k2.tmp-1", f.cache);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 0);
	ck_assert(built);
	ck_assert_int_eq(f.logs, 0);
	ck_assert_str_eq(ls(&f), "k1 k1.lock k2.tmp-1");
	teardown_cache(&f);
}
END_TEST

static int collect(void *ctx, const struct tpl_entry *t)
{
	char *out = ctx;
	char one[128];
	time_t now = time(NULL);
	ck_assert(t->bytes >= 64 * 1024); /* the memory file's blocks at least */
	ck_assert(t->mtime <= now && t->mtime > now - 60);
	snprintf(one, sizeof(one), "%s%s", out[0] ? " " : "", t->name);
	strcat(out, one);
	return 0;
}

static int stop_at_first(void *ctx, const struct tpl_entry *t)
{
	(void)t;
	(*(int *)ctx)++;
	return 7;
}

START_TEST(list_and_remove)
{
	struct fake f;
	char dir[PATH_MAX], out[256] = { 0 }, path[PATH_MAX];
	struct husk_err e = { 0 };
	unsigned removed;
	int calls = 0;

	setup_cache(&f);
	ck_assert_int_eq(tpl_acquire(f.cache, "kb", &fake_ops, &f, dir, sizeof(dir), NULL, &e), 0);
	ck_assert_int_eq(tpl_acquire(f.cache, "ka", &fake_ops, &f, dir, sizeof(dir), NULL, &e), 0);
	snprintf(path, sizeof(path), "%s/kc.tmp-5", f.cache); /* not a template yet */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(tpl_list(f.cache, collect, out, &e), 0);
	ck_assert_str_eq(out, "ka kb");
	ck_assert_int_eq(tpl_list(f.cache, stop_at_first, &calls, &e), 7);
	ck_assert_int_eq(calls, 1);

	ck_assert_int_eq(tpl_remove(f.cache, "ka", &e), 0);
	ck_assert_str_eq(ls(&f), "kb kb.lock kc.tmp-5");
	ck_assert_int_eq(tpl_remove(f.cache, "ka", &e), -ENOENT);
	ck_assert_str_eq(e.msg, "no template ka");
	e = (struct husk_err){ 0 };
	ck_assert_int_eq(tpl_remove(f.cache, "../etc", &e), -ENOENT);
	ck_assert_str_eq(e.msg, "no template ../etc");
	ck_assert_str_eq(ls(&f), "kb kb.lock kc.tmp-5");

	ck_assert_int_eq(tpl_acquire(f.cache, "ka", &fake_ops, &f, dir, sizeof(dir), NULL, &e), 0);
	ck_assert_int_eq(tpl_remove_all(f.cache, &removed, &e), 0);
	ck_assert_uint_eq(removed, 2);
	ck_assert_str_eq(ls(&f), "");
	out[0] = '\0';
	ck_assert_int_eq(tpl_list(f.cache, collect, out, &e), 0);
	ck_assert_str_eq(out, "");
	teardown_cache(&f);
}
END_TEST

/* A removal waits for the build in progress, and then removes what it made. */
START_TEST(remove_waits_for_build)
{
	struct fake f;
	char started[PATH_MAX];
	struct husk_err e = { 0 };
	int status;

	setup_cache(&f);
	snprintf(started, sizeof(started), "%s.started", f.cache);
	unlink(started);
	f.started = started;
	f.sleep_ms = 400;
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char dir[PATH_MAX];
		bool built = false;
		int r = tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), &built, &e);
		_exit(r == 0 && built ? 0 : 1);
	}
	for (int i = 0; i < 500 && access(started, F_OK) < 0; i++)
		usleep(10000);
	ck_assert_int_eq(access(started, F_OK), 0);
	/* the build is under way: the removal waits for it, then finds the template */
	ck_assert_int_eq(tpl_remove(f.cache, "k1", &e), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_str_eq(ls(&f), "");
	unlink(started);
	teardown_cache(&f);
}
END_TEST

/* use runs with the lock held: a removal waits for it; its failure is returned, nothing rebuilt. */
START_TEST(use_under_the_lock)
{
	struct fake f;
	char dir[PATH_MAX], started[PATH_MAX];
	struct husk_err e = { 0 };
	bool built;
	int status;

	setup_cache(&f);
	ck_assert_int_eq(tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 0);
	ck_assert(built);
	ck_assert_int_eq(f.uses, 1);
	ck_assert_int_eq(tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 0);
	ck_assert(!built);
	ck_assert_int_eq(f.uses, 2);
	f.fail_use = EINVAL;
	ck_assert_int_eq(tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), &built, &e),
			 -EINVAL);
	ck_assert_str_eq(e.msg, "template k1: restore: no such vCPU state");
	ck_assert_int_eq(f.builds, 1);
	ck_assert_str_eq(ls(&f), "k1 k1.lock");
	f.fail_use = 0;

	snprintf(started, sizeof(started), "%s.used", f.cache);
	unlink(started);
	f.use_started = started;
	f.use_sleep_ms = 400;
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		e = (struct husk_err){ 0 };
		int r = tpl_acquire(f.cache, "k1", &fake_ops, &f, dir, sizeof(dir), NULL, &e);
		_exit(r == 0 && !f.use_saw_gone ? 0 : 1);
	}
	for (int i = 0; i < 500 && access(started, F_OK) < 0; i++)
		usleep(10000);
	ck_assert_int_eq(access(started, F_OK), 0);
	ck_assert_int_eq(tpl_remove(f.cache, "k1", &e), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_str_eq(ls(&f), "");
	unlink(started);
	teardown_cache(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("cache");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, key_names);
	tcase_add_test(tc, cache_dir);
	tcase_add_test(tc, acquire_builds_once);
	tcase_add_loop_test(tc, acquire_concurrent, 0, 2);
	tcase_add_test(tc, failed_build_leaves_nothing);
	tcase_add_test(tc, bad_template_rebuilt);
	tcase_add_test(tc, leftovers_cleaned);
	tcase_add_test(tc, pruned_least_lately_used);
	tcase_add_test(tc, list_and_remove);
	tcase_add_test(tc, remove_waits_for_build);
	tcase_add_test(tc, use_under_the_lock);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
