/*
 * The start-up order, written out once: flavour, KVM, VM and RAM, guest
 * image, devices, vCPUs; then wait for the end and take it all down.
 */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "boot/boot.h"
#include "husk/agent.h"
#include "husk/deadline.h"
#include "kvm/flavour.h"
#include "log.h"
#include "seccomp/seccomp.h"
#include "vmm_priv.h"

/* --- what the vCPU threads and devices call ----------------------------- */

static void vmm_request_stop(struct vmm *m, int status, const char *reason)
{
	pthread_mutex_lock(&m->stop_lock);
	if (!m->stop_requested) {
		m->stop_requested = true;
		m->status = status;
		snprintf(m->reason, sizeof(m->reason), "%s", reason);
		m->stopping = 1;
		pthread_cond_broadcast(&m->ready_cond);
		uint64_t one = 1;
		if (write(m->stop_efd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow from one write; nothing to do */
		}
	}
	pthread_mutex_unlock(&m->stop_lock);
}

static void vmm_pio(void *ctx, uint16_t port, bool is_write, uint8_t *data, unsigned size)
{
	struct vmm *m = ctx;
	iobus_access(&m->iobus, port, is_write, data, size);
}

static void vmm_mmio(void *ctx, uint64_t addr, bool is_write, uint8_t *data, unsigned len)
{
	struct vmm *m = ctx;
	if (!devmgr_mmio(&m->dm, addr, is_write, data, len) && !is_write)
		memset(data, 0xff, len); /* nothing is mapped there */
}

static void vmm_first_run(void *ctx)
{
	struct vmm *m = ctx;
	timing_mark(m->timing, TIMING_FIRST_KVM_RUN);
}

static void vmm_vcpu_stop(void *ctx, int status, const char *reason)
{
	vmm_request_stop(ctx, status, reason);
}

static const struct vcpu_exit_ops vmm_exit_ops = {
	.pio = vmm_pio,
	.mmio = vmm_mmio,
	.first_run = vmm_first_run,
	.stop = vmm_vcpu_stop,
};

static void vmm_console_first_byte(void *ctx)
{
	struct vmm *m = ctx;
	timing_mark(m->timing, TIMING_FIRST_CONSOLE_BYTE);
}

static void vmm_console_line(void *ctx, const char *line, size_t len)
{
	struct vmm *m = ctx;
	size_t n = sizeof(HUSK_AGENT_READY_MARKER) - 1;
	if (len >= n && memcmp(line, HUSK_AGENT_READY_MARKER, n) == 0) {
		timing_mark(m->timing, TIMING_AGENT_READY);
		pthread_mutex_lock(&m->stop_lock);
		m->agent_ready = true;
		pthread_cond_broadcast(&m->ready_cond);
		pthread_mutex_unlock(&m->stop_lock);
	}
}

/* The console's output, from the virtio console or the platform's UART. */
static const struct console_hooks vmm_console_hooks = {
	.first_byte = vmm_console_first_byte,
	.line = vmm_console_line,
};

static void vmm_platform_reset(void *ctx)
{
	vmm_request_stop(ctx, 0, "guest reboot");
}

/* --- start-up and tear-down --------------------------------------------- */

static int vmm_check_memory(const struct vmm_config *cfg)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	if (pages > 0 && psz > 0 && cfg->mem_bytes > (uint64_t)pages * (uint64_t)psz) {
		log_err("config", "--mem %llu MiB is more than this host's %llu MiB of RAM",
			(unsigned long long)(cfg->mem_bytes >> 20),
			(unsigned long long)(((uint64_t)pages * (uint64_t)psz) >> 20));
		return -EINVAL;
	}
	return 0;
}

static int vmm_open_console(struct vmm *m)
{
	if (!m->cfg->console || !strcmp(m->cfg->console, "-")) {
		m->console_fd = STDOUT_FILENO;
		return 0;
	}
	m->console_fd = open(m->cfg->console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (m->console_fd < 0) {
		int e = -errno;
		log_err("console", "cannot open %s: %s", m->cfg->console, strerror(errno));
		return e;
	}
	sc_set_console_fd(m->console_fd); /* a forbidden call is reported there too */
	if (m->cfg->restore_dir)
		vmm_restore_console(m); /* the guest's boot, from its template */
	return 0;
}

static int vmm_setup_devices(struct vmm *m)
{
	int r = vmm_open_console(m);
	if (r < 0)
		return r;
	const struct arch_platform_env penv = { .vm = &m->vm,
						.io = &m->iobus,
						.console_fd = m->console_fd,
						.console = &vmm_console_hooks,
						.reset = vmm_platform_reset,
						.ctx = m };
	if ((r = arch_platform_create(&m->platform, &penv)) < 0)
		return r;

	if ((r = el_init(&m->el)) < 0)
		return r;
	m->el_ready = true;
	devmgr_init(&m->dm, &m->vm, &m->el);
	if (m->cfg->console_device == CONSOLE_VIRTIO) {
		console_out_init(&m->vconsole_out, m->console_fd, &vmm_console_hooks, m);
		m->vconsole_ready = true;
		m->vconsole.out = &m->vconsole_out;
		r = devmgr_add(&m->dm, &m->vconsole_transport, &virtio_console_ops, &m->vconsole);
		if (r < 0)
			return r;
	}
	/* the device modules' devices, in table order (device_modules.c) */
	const struct device_env env = { .dm = &m->dm, .el = &m->el, .mem = &m->vm.mem };
	for (unsigned i = 0; device_modules[i]; i++)
		if ((r = device_modules[i]->add(m->cfg, &env, &m->module_state[i])) < 0)
			return r;
	return 0;
}

static int vmm_setup_vcpus(struct vmm *m, uint64_t entry)
{
	if (m->cfg->vcpus > m->kvm.max_vcpus) {
		log_err("config", "--cpus %u is more than KVM allows here (%u)", m->cfg->vcpus,
			m->kvm.max_vcpus);
		return -EINVAL;
	}
	m->vcpus = calloc(m->cfg->vcpus, sizeof(*m->vcpus));
	if (!m->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < m->cfg->vcpus; i++) {
		struct vcpu *v = &m->vcpus[i];
		int r = vcpu_create(&m->kvm, &m->vm, i, v);
		if (r < 0)
			return r;
		m->nvcpus++;
		v->ops = &vmm_exit_ops;
		v->ctx = m;
		v->stopping = &m->stopping;
		v->gate = &m->gate;
		r = vcpu_setup(&m->kvm, v, m->cfg->vcpus, m->flavour, entry);
		if (r == 0 && m->restore)
			r = vmm_restore_vcpu(m, v);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Wait until a vCPU or device asks the VM to end, or a signal arrives. */
static void vmm_wait_stop(struct vmm *m)
{
	int sigfd = m->sigfd;
	struct pollfd pfd[2] = { { .fd = m->stop_efd, .events = POLLIN },
				 { .fd = sigfd, .events = POLLIN } };
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			vmm_request_stop(m, 1, "poll failed");
			return;
		}
		if (pfd[0].revents)
			return;
		if (pfd[1].revents) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				char why[64];
				snprintf(why, sizeof(why), "stopped by signal %u", si.ssi_signo);
				vmm_request_stop(m, 128 + (int)si.ssi_signo, why);
				return;
			}
		}
	}
}

/* Take the VM down: every thread joined, every device and descriptor released. */
static void vmm_teardown(struct vmm *m)
{
	if (m->torn_down)
		return;
	m->torn_down = true;
	m->stopping = 1;
	for (unsigned i = 0; i < m->nvcpus; i++)
		vcpu_kick_and_join(&m->vcpus[i]);
	for (unsigned i = 0; i < m->nvcpus; i++)
		vcpu_destroy(&m->vcpus[i]);
	free(m->vcpus);
	if (m->el_ready)
		el_stop(&m->el); /* no device work runs after this */
	for (unsigned i = 0; device_modules[i]; i++)
		if (m->module_state[i] && device_modules[i]->stop)
			device_modules[i]->stop(m->module_state[i]);
	if (m->el_ready) {
		devmgr_destroy(&m->dm);
		el_destroy(&m->el);
	}
	for (unsigned i = 0; device_modules[i]; i++)
		if (m->module_state[i] && device_modules[i]->destroy)
			device_modules[i]->destroy(m->module_state[i]);
	if (m->vconsole_ready)
		console_out_destroy(&m->vconsole_out);
	arch_platform_destroy(m->platform);
	if (m->console_fd >= 0 && m->console_fd != STDOUT_FILENO) {
		sc_set_console_fd(-1);
		close(m->console_fd);
	}
	vm_destroy(&m->vm);
	kvm_close(&m->kvm);
}

int vmm_create(struct vmm **out, const struct vmm_config *cfg, struct timing *t)
{
	struct vmm *m = calloc(1, sizeof(*m));
	uint64_t entry = 0;
	struct boot_loaded loaded;
	struct cmdline *devices = NULL;
	int r;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->cfg = cfg;
	m->timing = t;
	m->console_fd = -1;
	m->stop_efd = -1;
	m->sigfd = -1;
	m->kvm.fd = -1;
	m->vm.fd = -1;
	m->vm.mem.memfd = -1;
	pthread_mutex_init(&m->stop_lock, NULL);
	pthread_cond_init(&m->ready_cond, NULL);
	vcpu_gate_init(&m->gate);

	/*
	 * Signals that end the VM go to a signalfd from the start, so that the
	 * teardown always runs (no socket or file is left behind); the vCPU and
	 * event threads inherit the mask.
	 */
	sigset_t stop_sigs;
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGHUP);
	/* SIGWINCH too, for the terminal relay's own signalfd (relay.h) */
	sigset_t blocked = stop_sigs;
	sigaddset(&blocked, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &blocked, &m->old_sigs);
	m->sigs_blocked = true;
	m->sigfd = signalfd(-1, &stop_sigs, SFD_CLOEXEC);
	m->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (m->stop_efd < 0 || m->sigfd < 0) {
		r = -errno;
		log_err("vmm", "cannot create eventfd/signalfd: %s", strerror(errno));
		goto fail;
	}

	m->flavour = flavour_detect(cfg->flavour, "/sys");
	if ((r = vmm_check_memory(cfg)) < 0)
		goto fail;
	if (cfg->restore_dir && (r = vmm_restore_open(m)) < 0)
		goto fail;
	if ((r = kvm_open(&m->kvm, cfg->kvm_device)) < 0)
		goto fail;
	if ((r = vm_create(&m->kvm, &m->vm, cfg->mem_bytes)) < 0)
		goto fail;
	/*
	 * The kernel and initramfs (or the saved RAM) go into guest RAM while
	 * the VM's own set-up runs.
	 */
	r = cfg->restore_dir ? vmm_restore_memory(m) : boot_load(&m->vm.mem, cfg, &loaded);
	int ready = vm_ready(&m->vm);
	if (r == 0)
		r = ready;
	if (r < 0)
		goto fail;
	if ((r = vmm_setup_devices(m)) < 0)
		goto fail;
	if (cfg->restore_dir) {
		/*
		 * The VM's own state first (as Firecracker does), the devices last:
		 * an interrupt they raise again lands in the restored irqchip.
		 */
		if ((r = vmm_restore_vm(m)) < 0 || (r = vmm_setup_vcpus(m, 0)) < 0 ||
		    (r = vmm_restore_devices(m)) < 0)
			goto fail;
		vmm_restore_close(m);
		m->agent_ready = true; /* it was when the VM was saved */
		*out = m;
		return 0;
	}
	devices = malloc(sizeof(*devices));
	if (!devices) {
		r = -ENOMEM;
		goto fail;
	}
	cmdline_init(devices);
	if ((r = devmgr_cmdline(&m->dm, devices)) < 0)
		goto fail;
	if ((r = boot_finish(&m->vm.mem, cfg, m->flavour, devices->buf, devmgr_irq_end(&m->dm),
			     &loaded, &entry)) < 0)
		goto fail;
	if ((r = vmm_setup_vcpus(m, entry)) < 0)
		goto fail;
	free(devices);
	*out = m;
	return 0;
fail:
	free(devices);
	vmm_destroy(m);
	return r;
}

int vmm_start(struct vmm *m)
{
	int r = el_start(&m->el);
	if (r < 0)
		return r;
	m->started = true;
	for (unsigned i = 0; i < m->nvcpus; i++)
		if (vcpu_start(&m->vcpus[i]) < 0) {
			vmm_request_stop(m, 1, "vCPU thread failed to start");
			break;
		}
	return 0;
}

int vmm_wait_ready(struct vmm *m, int timeout_ms)
{
	struct timespec until = deadline_after_ms(timeout_ms);
	int r = 0;
	pthread_mutex_lock(&m->stop_lock);
	while (!m->agent_ready && !m->stopping && r == 0)
		r = pthread_cond_timedwait(&m->ready_cond, &m->stop_lock, &until);
	r = m->agent_ready ? 0 : m->stopping ? -ECANCELED : -ETIMEDOUT;
	pthread_mutex_unlock(&m->stop_lock);
	return r;
}

int vmm_pause(struct vmm *m)
{
	return vcpu_gate_close(&m->gate, m->vcpus, m->nvcpus, VMM_PAUSE_MS);
}

int vmm_resume(struct vmm *m)
{
	return vcpu_gate_open(&m->gate);
}

void vmm_seccomp_main(struct vmm *m)
{
	if (sc_enter(SC_MAIN) < 0)
		vmm_request_stop(m, 1, "the main thread's seccomp filter could not be installed");
}

void vmm_stop(struct vmm *m, int status, const char *reason)
{
	vmm_request_stop(m, status, reason);
}

const volatile int *vmm_stopping(const struct vmm *m)
{
	return &m->stopping;
}

int vmm_wait(struct vmm *m, const char **reason)
{
	if (m->started)
		vmm_wait_stop(m);
	vmm_teardown(m);
	*reason = m->reason;
	return m->status;
}

void vmm_destroy(struct vmm *m)
{
	if (!m)
		return;
	vmm_teardown(m);
	if (m->stop_efd >= 0)
		close(m->stop_efd);
	if (m->sigfd >= 0)
		close(m->sigfd);
	vmm_restore_close(m);
	pthread_mutex_destroy(&m->stop_lock);
	pthread_cond_destroy(&m->ready_cond);
	vcpu_gate_destroy(&m->gate);
	if (m->sigs_blocked)
		pthread_sigmask(SIG_SETMASK, &m->old_sigs, NULL);
	free(m);
}

int vmm_run(const struct vmm_config *cfg, struct timing *t)
{
	struct vmm *m;
	const char *reason;
	int r = vmm_create(&m, cfg, t);
	if (r < 0)
		return r;
	if ((r = vmm_start(m)) == 0) {
		vmm_seccomp_main(m);
		r = vmm_wait(m, &reason);
		if (r != 0)
			log_err("vmm", "%s", reason);
	}
	vmm_destroy(m);
	return r;
}
