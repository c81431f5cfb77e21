/*
 * husk-agent: PID 1 of the guest's initramfs. It brings the guest up,
 * listens on vsock, reports that it is ready (kernel release, vCPUs,
 * seconds since boot), then serves the host on vsock (server.c) until told
 * to shut down, or in run-once mode until its container has ended; then it
 * powers off. A guest
 * without a vsock device has no host to serve: it powers off at once.
 * PID 1 must never exit (the kernel would panic): every path ends in
 * init_poweroff.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "husk/agent.h"
#include "cgroup.h"
#include "init.h"
#include "netcfg.h"
#include "setup.h"
#include "log.h"

static void agent_ready_line(void)
{
	struct utsname u;
	struct timespec boot;
	cpu_set_t cpus;

	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "unknown");
	clock_gettime(CLOCK_BOOTTIME, &boot);
	int ncpus = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : 0;
	printf("%s kernel=%s cpus=%d uptime=%ld.%03lds\n", HUSK_AGENT_READY_MARKER, u.release,
	       ncpus, (long)boot.tv_sec, boot.tv_nsec / 1000000);
	fflush(stdout);
}

int main(void)
{
	struct agent a;

	memset(&a, 0, sizeof(a));
	a.own_pidns = a.spare_netns = -1;
	setvbuf(stderr, NULL, _IOLBF, 0);
	/*
	 * Every signal's default disposition, once (the agent sets none and
	 * reads signals from a signalfd): the container's processes inherit
	 * them, and before the ready line this is in a template's memory.
	 */
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	init_filesystems();
	if (!init_entropy_ready())
		agent_log("the kernel's random pool is not ready yet");
	bool vsock = init_have_vsock();
	bool serving = false;
	if (vsock) {
		a.ops = &gops_guest;
		a.own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		struct husk_err e = { 0 };
		/* made ahead, for the first container; without them each makes its own */
		if ((a.spare_netns = netinit_spare(&e)) < 0)
			agent_log("%s", e.msg);
		if (cg_prepare(&e) < 0)
			agent_log("%s", e.msg);
		setup_init();
		serving = srv_init(&a) == 0 && srv_listen(&a) == 0;
	}
	/*
	 * Ready once listening: a VM saved as a template at this line restores
	 * with an agent that accepts at once.
	 */
	agent_ready_line();
	if (!vsock)
		init_poweroff();
	if (!serving) {
		agent_log("cannot serve the host: powering off");
		init_poweroff();
	}
	srv_run(&a);
	ctr_shutdown_all(&a);
	init_poweroff();
}
