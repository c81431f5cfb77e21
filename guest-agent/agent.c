/*
 * husk-agent: PID 1 of the guest's initramfs. For now it reports that the
 * guest is up (kernel release and seconds since boot) and ends the VM.
 * PID 1 must never exit: the kernel would panic.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "husk/agent.h"

static void agent_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

int main(void)
{
	struct utsname u;
	struct timespec boot;
	char line[256];

	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "unknown");
	clock_gettime(CLOCK_BOOTTIME, &boot);
	cpu_set_t cpus;
	int ncpus = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : 0;
	int n = snprintf(line, sizeof(line), "%s kernel=%s cpus=%d uptime=%ld.%03lds\n",
			 HUSK_AGENT_READY_MARKER, u.release, ncpus, (long)boot.tv_sec,
			 boot.tv_nsec / 1000000);
	if (n > 0)
		agent_write_all(STDOUT_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);

	/*
	 * Power off. The guest has no ACPI: husk-vmm boots it with halt_reset
	 * (kernel-config/patches/0005), so this ends in the keyboard
	 * controller's reset, which husk-vmm takes as the end of the VM.
	 */
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
