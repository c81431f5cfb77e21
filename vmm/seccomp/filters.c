/*
 * husk-vmm's system call allow-lists, one per thread class (seccomp.h).
 * Everything not listed traps (SECCOMP_RET_TRAP): seccomp.c reports the
 * call and ends the VMM. Each entry says why the class needs it; the lists
 * were taken from strace -f of real runs (a boot, --snapshot, --restore,
 * husk create/start/pause/resume/exec/kill/delete and run, from a template
 * and cold, with a directory and an ext4 root) plus what glibc does inside.
 *
 * A thread's filter is installed once its part of the set-up is done: no
 * list has open() for reading, KVM_CREATE_*, fork or exec. Threads that
 * a filtered thread makes (the runner's stdio relays) inherit its filter.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>

#include "seccomp/seccomp.h"

/* clang-format off */
#define ALLOW(name, w) { .nr = SCMP_SYS(name), .why = w }
/* argument a equals v */
#define ALLOW_EQ(name, a, v, w) \
	{ .nr = SCMP_SYS(name), .test = SC_ARG_EQ, .arg = a, .value = (uint64_t)(v), .why = w }
/* (argument a & m) == v */
#define ALLOW_MASK(name, a, m, v, w) \
	{ .nr = SCMP_SYS(name), .test = SC_ARG_MASK, .arg = a, .mask = (uint64_t)(m), \
	  .value = (uint64_t)(v), .why = w }
/* the call fails with errno e instead of trapping */
#define FAIL(name, e, w) { .nr = SCMP_SYS(name), .err = e, .why = w }
/* the same, when (argument a & m) == v */
#define FAIL_MASK(name, a, m, v, e, w) \
	{ .nr = SCMP_SYS(name), .err = e, .test = SC_ARG_MASK, .arg = a, .mask = (uint64_t)(m), \
	  .value = (uint64_t)(v), .why = w }
/* ioctl(fd, req, ...) for this req only */
#define IOCTL(req, w) ALLOW_EQ(ioctl, 1, req, w)
/* socket(AF_UNIX, ...) only */
#define UNIX_SOCKET(w) ALLOW_EQ(socket, 0, AF_UNIX, w)
/* mmap, mprotect: never PROT_EXEC */
#define NO_EXEC(name, w) ALLOW_MASK(name, 2, PROT_EXEC, 0, w)
#define TABLE(t) { t, sizeof(t) / sizeof(t[0]) }
/* clang-format on */

/* Every thread: glibc's threads and memory, and the SIGSYS report itself. */
static const struct sc_rule sc_thread[] = {
	ALLOW(futex, "mutexes, condition variables, pthread_join"),
	ALLOW(rt_sigprocmask, "glibc masks signals in pthread_create and at a thread's end"),
	ALLOW(rt_sigreturn, "the return from a signal handler (the vCPU kick, SIGUSR1)"),
	ALLOW(restart_syscall, "a sleep interrupted by a signal (SIGCHLD) goes on"),
	/*
	 * glibc's malloc reads /proc/sys/vm/overcommit_memory once, when a
	 * thread's arena first shrinks; refused, it frees with madvise instead.
	 * No thread reads a file once set up.
	 */
	FAIL_MASK(openat, 2, O_ACCMODE | O_PATH | O_CREAT, O_RDONLY, EACCES,
		  "refused: a read-only open, glibc's overcommit check"),
	ALLOW_EQ(madvise, 2, MADV_DONTNEED, "glibc frees an ended thread's stack, trims arenas"),
	NO_EXEC(mmap, "malloc's arenas and large blocks; never executable"),
	NO_EXEC(mprotect, "malloc grows a thread's arena; never executable"),
	ALLOW(munmap, "free() of large blocks, an arena or a stack"),
	ALLOW(brk, "malloc in the main arena"),
	ALLOW(write, "log lines to stderr, eventfd signals, the SIGSYS report"),
	ALLOW(exit, "a thread's end"),
	ALLOW(exit_group, "the process's end, and the SIGSYS report's _exit"),
};

/*
 * Threads that make threads: pthread_create. clone3's flags are in memory
 * that a filter cannot read, so it fails with ENOSYS and glibc falls back to
 * clone, allowed for threads only (no new process).
 */
static const struct sc_rule sc_threads_make[] = {
	FAIL(clone3, ENOSYS, "glibc then uses clone, whose flags a filter sees"),
	ALLOW_MASK(clone, 0, CLONE_THREAD, CLONE_THREAD, "pthread_create: threads, not processes"),
	ALLOW(set_robust_list, "a new thread's robust mutex list (glibc)"),
	ALLOW(rseq, "a new thread's restartable sequences (glibc)"),
};

/* The main thread from the VM's start: wait for the end, take it all down. */
static const struct sc_rule sc_main[] = {
	ALLOW(poll, "vmm_wait: the stop eventfd and the signalfd"),
	ALLOW(read, "the stop eventfd, a signal from the signalfd"),
	ALLOW(getpid, "pthread_kill's tgkill needs the process id"),
	ALLOW(tgkill, "the kick that takes a vCPU out of KVM_RUN at the end"),
	ALLOW(close, "every device, socket and descriptor at the teardown"),
	ALLOW(epoll_ctl, "devices leave the event loop at the teardown"),
	ALLOW(shutdown, "vsock connections closed at the teardown"),
	ALLOW(kill, "virtiofsd: SIGTERM, SIGKILL after a grace time"),
	ALLOW(wait4, "virtiofsd reaped"),
	ALLOW(clock_nanosleep, "the grace time for virtiofsd, in steps (nanosleep)"),
	ALLOW(unlink, "the vsock and control sockets, the temporary directory's files"),
	ALLOW(rmdir, "the temporary directory and the binds staging"),
	ALLOW_EQ(umount2, 1, MNT_DETACH, "the staged host binds, detached"),
	ALLOW_MASK(openat, 2, O_ACCMODE, O_WRONLY,
		   "--timings and --steps files: written, never read"),
	ALLOW(newfstatat, "stdio's look at a file it writes (fopen)"),
	IOCTL(KVM_GET_REGS, "HUSK_VMM_DEBUG: where each vCPU stopped, at the teardown"),
	IOCTL(KVM_TRANSLATE, "the same: the code there"),
};

/* The VM's parallel set-up steps (vmm/kvm/kvm.c): their ioctls only. */
static const struct sc_rule sc_setup[] = {
	IOCTL(KVM_SET_USER_MEMORY_REGION, "the RAM's memory slots"),
	IOCTL(KVM_CREATE_IRQCHIP, "the in-kernel PIC and IO-APIC"),
	IOCTL(KVM_CREATE_PIT2, "the in-kernel PIT"),
	IOCTL(KVM_SET_TSS_ADDR, "the TSS pages VMX needs"),
	IOCTL(KVM_SET_IDENTITY_MAP_ADDR, "the identity map page VMX needs"),
	IOCTL(KVM_CHECK_EXTENSION, "what this KVM has, asked on the VM"),
};

/* A vCPU: the guest, and the device registers its exits land in. */
static const struct sc_rule sc_vcpu[] = {
	IOCTL(KVM_RUN, "the guest runs; an I/O exit completes (immediate_exit)"),
	IOCTL(KVM_IRQ_LINE, "the UART's and platform's interrupt line"),
	IOCTL(KVM_GET_REGS, "a crash report: where the guest was"),
	IOCTL(KVM_TRANSLATE, "a crash report: the code at RIP"),
	IOCTL(KVM_IRQFD, "a device activated by the driver gets its interrupt eventfd"),
	IOCTL(KVM_IOEVENTFD, "and its queue notification eventfds"),
	IOCTL(TUNSETOFFLOAD, "virtio-net: the offloads the driver accepted, on the tap"),
	ALLOW(eventfd2, "a device's eventfds at its activation"),
	ALLOW(epoll_ctl, "which the event thread then watches"),
	ALLOW(close, "a device reset by the driver closes its eventfds"),
	ALLOW(read, "a vhost-user reply from virtiofsd at a virtio-fs activation"),
	ALLOW(sendmsg, "vhost-user messages to virtiofsd: rings, memfd, eventfds"),
};

/* The event thread: ioeventfds, the devices' host sockets and files. */
static const struct sc_rule sc_event[] = {
	ALLOW(epoll_wait, "the loop itself"),
	ALLOW(epoll_ctl, "connections and descriptors come and go"),
	ALLOW(read, "eventfds, sockets, the tap, virtiofsd's call eventfds"),
	ALLOW(readv, "a tap frame into a chain"),
	ALLOW(writev, "a chain's frame to the tap"),
	ALLOW(recvfrom, "vsock: a host connection's bytes (recv)"),
	ALLOW(sendto, "vsock: to a host connection (send)"),
	ALLOW(accept4, "vsock: a host client on the hybrid socket"),
	UNIX_SOCKET("vsock: a guest connection to a host listener <socket>_PORT"),
	ALLOW(connect, "the same"),
	ALLOW(shutdown, "vsock: half-closes and resets passed on"),
	ALLOW(close, "ended connections"),
	ALLOW(getrandom, "virtio-rng"),
	ALLOW(preadv, "virtio-blk: a chain's buffers at once"),
	ALLOW(pwritev, "the same, out"),
	ALLOW(fsync, "virtio-blk: flush"),
	ALLOW(fdatasync, "the same"),
};

/* The control socket's thread: husk's START, SIGNAL, PAUSE, RESUME, STATE. */
static const struct sc_rule sc_control[] = {
	ALLOW(poll, "the listening socket and the cancel eventfd; a request's time limit"),
	ALLOW(accept4, "husk's connection"),
	ALLOW(read, "its request"),
	ALLOW(sendto, "the answer"),
	ALLOW(close, "the connection"),
	UNIX_SOCKET("SIGNAL: a connection to the agent over the vsock socket"),
	ALLOW(connect, "the same"),
	ALLOW_MASK(openat, 2, O_PATH, O_PATH, "a long socket path reached by its directory"),
	ALLOW(clock_nanosleep, "retries while the agent cannot be reached"),
	ALLOW(getpid, "PAUSE kicks the vCPUs: pthread_kill's tgkill"),
	ALLOW(tgkill, "the kick"),
};

/* The runner, which drives the agent, and the stdio relay threads it starts. */
static const struct sc_rule sc_runner[] = {
	UNIX_SOCKET("the agent and the stdio streams over the vsock socket"),
	ALLOW(connect, "the same"),
	ALLOW_MASK(openat, 2, O_PATH, O_PATH, "a long socket path reached by its directory"),
	ALLOW(read, "the agent's answers, a stream's bytes, stdin, the cancel eventfd"),
	ALLOW(sendto, "requests and stream bytes"),
	ALLOW(poll, "a time limit or a cancel for every wait"),
	ALLOW(shutdown, "a stream's end passed on (stdin closed)"),
	ALLOW(close, "connections and streams"),
	ALLOW(clock_nanosleep, "retries while the guest boots"),
	ALLOW(getrandom, "REFRESH: the seed for a guest restored from a template"),
	ALLOW(signalfd4, "the terminal's SIGWINCH, passed on as RESIZE"),
	IOCTL(TIOCGWINSZ, "the terminal's size"),
	IOCTL(TCGETS, "the terminal's mode (isatty, tcgetattr)"),
	IOCTL(TCSETS, "the terminal raw while the workload runs, and back"),
};

const struct sc_class_def sc_classes[SC_CLASSES] = {
	[SC_MAIN] = { "main", { TABLE(sc_thread), TABLE(sc_main) } },
	[SC_SETUP] = { "setup", { TABLE(sc_thread), TABLE(sc_setup) } },
	[SC_VCPU] = { "vcpu", { TABLE(sc_thread), TABLE(sc_vcpu) } },
	[SC_EVENT] = { "event", { TABLE(sc_thread), TABLE(sc_event) } },
	[SC_CONTROL] = { "control", { TABLE(sc_thread), TABLE(sc_control) } },
	[SC_RUNNER] = { "runner", { TABLE(sc_thread), TABLE(sc_threads_make), TABLE(sc_runner) } },
};
