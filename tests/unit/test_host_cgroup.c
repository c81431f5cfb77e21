/*
 * The VM's host cgroup, against a fake host: a mountinfo file naming
 * directories of a temporary tree as cgroup v1 hierarchies and a cgroup2
 * mount. Writes to plain files stand for the kernel's cgroup files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_cgroup.h"
#include "resources.h"
#include "unit.h"

static char top[64], mountinfo[128];

static void put(const char *rel, const char *value)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", top, rel);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(value, f);
	fclose(f);
}

static const char *get(const char *rel)
{
	static char buf[256];
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", top, rel);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static bool exists(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", top, rel);
	return access(path, F_OK) == 0;
}

/* A hybrid host: memory, cpu,cpuacct, cpuset, a named hierarchy, and cgroup2 with no controllers. */
static void fake_host(void)
{
	static const char *const dirs[] = { "memory", "cpu,cpuacct", "cpuset", "systemd",
					    "unified" };
	snprintf(top, sizeof(top), "/tmp/husk-hcg-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	for (size_t i = 0; i < 5; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", top, dirs[i]);
		ck_assert_int_eq(mkdir(path, 0755), 0);
	}
	put("cpuset/cpuset.cpus", "0-1\n");
	put("cpuset/cpuset.mems", "0\n");
	snprintf(mountinfo, sizeof(mountinfo), "%s/mountinfo", top);
	FILE *f = fopen(mountinfo, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"22 1 0:20 / /proc rw - proc proc rw\n"
		"30 25 0:26 / %s/memory rw,relatime - cgroup cgroup rw,memory\n"
		"31 25 0:27 / %s/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
		"32 25 0:28 / %s/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
		"33 25 0:29 / %s/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
		"34 25 0:30 / %s/unified rw,relatime - cgroup2 cgroup2 rw\n"
		"35 25 0:26 / %s/memory rw,relatime - cgroup cgroup rw,memory\n"
		"this line is not a mount\n",
		top, top, top, top, top, top);
	fclose(f);
}

static void rm_tree(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(join_sets_limits_everywhere)
{
	struct husk_err e = { 0 };
	const struct hcg_limits l = {
		.memory = 300 << 20, .cpu_quota = 50000, .cpu_period = 100000, .cpu_shares = 512
	};
	fake_host();
	ck_assert_int_eq(hcg_join(mountinfo, "/engine/c1", 4242, &l, &e), 0);
	ck_assert_str_eq(get("memory/engine/c1/memory.limit_in_bytes"), "314572800");
	ck_assert_str_eq(get("cpu,cpuacct/engine/c1/cpu.cfs_quota_us"), "50000");
	ck_assert_str_eq(get("cpu,cpuacct/engine/c1/cpu.cfs_period_us"), "100000");
	ck_assert_str_eq(get("cpu,cpuacct/engine/c1/cpu.shares"), "512");
	/* a new cpuset gets its parent's CPUs and nodes, level by level */
	ck_assert_str_eq(get("cpuset/engine/cpuset.cpus"), "0-1");
	ck_assert_str_eq(get("cpuset/engine/c1/cpuset.mems"), "0");
	static const char *const procs[] = { "memory", "cpu,cpuacct", "cpuset", "systemd",
					     "unified" };
	for (size_t i = 0; i < 5; i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "%s/engine/c1/cgroup.procs", procs[i]);
		ck_assert_msg(get(rel) && !strcmp(get(rel), "4242"), "%s", rel);
	}
	/* cgroup2 without the memory controller: no memory.max written there */
	ck_assert(!exists("unified/engine/c1/memory.max"));

	/* update: only the CPU, the memory limit stays */
	const struct hcg_limits u = { .memory = 0, .cpu_quota = 80000 };
	ck_assert_int_eq(hcg_set(mountinfo, "/engine/c1", &u, &e), 0);
	ck_assert_str_eq(get("cpu,cpuacct/engine/c1/cpu.cfs_quota_us"), "80000");
	ck_assert_str_eq(get("memory/engine/c1/memory.limit_in_bytes"), "314572800");

	/* remove takes the last level only, as the parent is the engine's */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "find %s -path '*/engine/c1/*' -type f -delete", top);
	ck_assert_int_eq(system(cmd), 0);
	hcg_remove(mountinfo, "/engine/c1");
	ck_assert(!exists("memory/engine/c1") && !exists("unified/engine/c1"));
	ck_assert(exists("memory/engine") && exists("cpuset/engine"));
	rm_tree();
}
END_TEST

START_TEST(cgroup2_weight_and_max)
{
	struct husk_err e = { 0 };
	fake_host();
	ck_assert_int_eq(hcg_join(mountinfo, "/c2", 0, &(struct hcg_limits){ .cpu_quota = -1 }, &e),
			 0);
	/* as if the cpu and memory controllers were enabled for it */
	put("unified/c2/cpu.max", "max 100000");
	put("unified/c2/memory.max", "max");
	put("unified/c2/cpu.weight", "100");
	const struct hcg_limits l = { .memory = 1 << 30, .cpu_quota = 150000, .cpu_shares = 1024 };
	ck_assert_int_eq(hcg_set(mountinfo, "/c2", &l, &e), 0);
	ck_assert_str_eq(get("unified/c2/cpu.max"), "150000 100000");
	ck_assert_str_eq(get("unified/c2/memory.max"), "1073741824");
	ck_assert_str_eq(get("unified/c2/cpu.weight"), "39"); /* 1 + (1022 * 9999) / 262142 */
	ck_assert_int_eq(atoi(get("unified/c2/cgroup.procs")), getpid());
	rm_tree();
}
END_TEST

START_TEST(failure_removes_what_it_made)
{
	struct husk_err e = { 0 };
	fake_host();
	/* memory's cgroup.procs cannot be written: a directory stands in its way */
	char path[256];
	snprintf(path, sizeof(path), "%s/memory/x", top);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/memory/x/y", top);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/memory/x/y/z", top);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/memory/x/y/z/cgroup.procs", top);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_lt(
		hcg_join(mountinfo, "/x/y/z", 1, &(struct hcg_limits){ .cpu_quota = -1 }, &e), 0);
	ck_assert_msg(strstr(e.msg, "cgroup /x/y/z"), "%s", e.msg);
	ck_assert(!exists("systemd/x"));   /* made for this join, so removed again */
	ck_assert(exists("memory/x/y/z")); /* there before: left alone */

	/* a host without cgroups */
	snprintf(path, sizeof(path), "%s/empty", top);
	fclose(fopen(path, "w"));
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(hcg_join(path, "/a", 1, &(struct hcg_limits){ .cpu_quota = -1 }, &e),
			 -ENOENT);
	rm_tree();
}
END_TEST

START_TEST(paths)
{
	char out[256];
	struct husk_err e = { 0 };
	ck_assert_int_eq(hcg_path_from_spec("/libpod_parent/libpod-abc", out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, "/libpod_parent/libpod-abc");
	ck_assert_int_eq(hcg_path_from_spec("default/c1", out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, "/default/c1");
	ck_assert_int_eq(hcg_path_from_spec("system.slice:docker:abc", out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, "/system.slice/docker-abc.scope");
	ck_assert_int_eq(
		hcg_path_from_spec("machine-libpod_pod_1.slice:libpod:c", out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, "/machine.slice/machine-libpod_pod_1.slice/libpod-c.scope");
	ck_assert_int_eq(hcg_path_from_spec(":crio:c", out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, "/crio-c.scope");

	static const char *const bad[] = { "/a/../b",	   "/..",	    "a:b",
					   "a.slice:b:",   "x:b:c",	    "a--b.slice:p:n",
					   "-a.slice:p:n", "a.slice:p:n:m", "a/b.slice:p:n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		ck_assert_msg(hcg_path_from_spec(bad[i], out, sizeof(out), &e) < 0, "%s", bad[i]);
		ck_assert_msg(strstr(e.msg, "cgroupsPath"), "%s: %s", bad[i], e.msg);
	}
	char big[2048];
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(hcg_check_path(big, &e), -ENAMETOOLONG);
	ck_assert_int_lt(hcg_path_from_spec(big, out, sizeof(out), &e), 0);
}
END_TEST

START_TEST(vm_size_from_resources)
{
	uint64_t mem;
	unsigned cpus;
	struct spec_resources r = { .memory_limit = -1, .pids_limit = -1, .cpu_quota = -1 };
	res_vm_size(&r, 8, &mem, &cpus);
	ck_assert_uint_eq(mem, RES_MEM_DEFAULT);
	ck_assert_uint_eq(cpus, 1);
	r.memory_limit = 6 << 20; /* small limits: the guest still needs its own room */
	res_vm_size(&r, 8, &mem, &cpus);
	ck_assert_uint_eq(mem, RES_MEM_MIN);
	r.memory_limit = (512 << 20) + 1; /* rounded up to 2 MiB, plus the guest's reserve */
	res_vm_size(&r, 8, &mem, &cpus);
	ck_assert_uint_eq(mem, (514ULL << 20) + RES_GUEST_RESERVE);
	r.memory_limit = INT64_MAX; /* too big: husk-vmm refuses it by name */
	res_vm_size(&r, 8, &mem, &cpus);
	ck_assert_uint_gt(mem, RES_MEM_MAX);
	r.cpu_quota = 250000, r.cpu_period = 100000;
	res_vm_size(&r, 8, &mem, &cpus);
	ck_assert_uint_eq(cpus, 3);
	res_vm_size(&r, 2, &mem, &cpus); /* no more vCPUs than the host has */
	ck_assert_uint_eq(cpus, 2);
	r.cpu_period = 0;
	res_vm_size(&r, 8, &mem, &cpus);
	ck_assert_uint_eq(cpus, 1);

	struct hcg_limits l;
	r = (struct spec_resources){ .memory_limit = 100 << 20,
				     .cpu_quota = 50000,
				     .cpu_period = 100000,
				     .cpu_shares = 256 };
	res_vm_size(&r, 8, &mem, &cpus);
	res_host_limits(&r, mem, &l);
	ck_assert_uint_eq(l.memory, mem + RES_VM_OVERHEAD);
	ck_assert_int_eq(l.cpu_quota, 50000);
	ck_assert_uint_eq(l.cpu_shares, 256);
	r.memory_limit = -1;
	res_host_limits(&r, mem, &l);
	ck_assert_uint_eq(l.memory, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("host_cgroup");
	TCase *tc = tcase_create("host_cgroup");
	tcase_add_test(tc, join_sets_limits_everywhere);
	tcase_add_test(tc, cgroup2_weight_and_max);
	tcase_add_test(tc, failure_removes_what_it_made);
	tcase_add_test(tc, paths);
	tcase_add_test(tc, vm_size_from_resources);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
