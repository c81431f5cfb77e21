/*
 * KVM test of the x86 VM and vCPU state blobs (arch_vm_save and friends)
 * and of the pause gate's settled I/O, with no kernel: a tiny 64-bit guest
 * counts in guest RAM and in r12, and every 256 counts reads MMIO (into
 * r13; the host answers a base plus the read's number), writes its
 * count / 256 to port 0x510 and reads that port (the host answers 0xa5).
 * The first VM is paused while its vCPU is inside such an IN exit, saved,
 * and a second VM (guest RAM copied) restores the state and runs on from
 * the same count, with the same registers and the marks set in the first
 * VM's FPU, debug registers, MSRs, LAPIC and interrupt controllers. A VM
 * paused inside an MMIO exit has it completed too, and resumes. A vCPU
 * with another CPUID refuses the state. With two vCPUs, each state goes
 * back into its own vCPU and into no other. Skipped (exit 77) only where
 * /dev/kvm does not exist.
 */
#include <check.h>
#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "arch/x86_64/cpu_boot.h"
#include "kvm/flavour.h"
#include "kvm/kvm.h"
#include "kvm/vcpu.h"
#include "kvm/vcpu_gate.h"

#define RAM	     (64ULL << 20)
#define ENTRY	     0x1000000ULL
#define COUNTER	     0x200000ULL
#define MMIO_ADDR    0x8000000ULL	   /* above RAM: an MMIO exit */
#define MMIO_BASE    0x1122334455660000ULL /* + the read's number */
#define PORT	     0x510
#define IN_VALUE     0xa5
#define AFTER_MMIO   (ENTRY + 0x1d)
#define AFTER_IN     (ENTRY + 0x2a)
#define TIMEOUT_MS   30000
#define FIRST_PAUSE  40 /* the first VM is paused in its 40th IN */
#define SECOND_PAUSE 3	/* the restored one in its 3rd */

static const uint8_t guest_code[] = {
	0xbb, 0x00, 0x00, 0x20, 0x00, /* mov $0x200000, %ebx */
	0xb9, 0x00, 0x00, 0x00, 0x08, /* mov $0x8000000, %ecx */
	0x48, 0xff, 0x03,	      /* loop: incq (%rbx) */
	0x49, 0xff, 0xc4,	      /* inc %r12 */
	0x44, 0x89, 0xe0,	      /* mov %r12d, %eax */
	0x25, 0xff, 0x00, 0x00, 0x00, /* and $0xff, %eax */
	0x75, 0xf0,		      /* jnz loop */
	0x4c, 0x8b, 0x29,	      /* mov (%rcx), %r13: MMIO read */
	0x66, 0xba, 0x10, 0x05,	      /* mov $0x510, %dx */
	0x4c, 0x89, 0xe0,	      /* mov %r12, %rax */
	0x48, 0xc1, 0xe8, 0x08,	      /* shr $8, %rax */
	0xee,			      /* out %al, (%dx) */
	0xec,			      /* in (%dx), %al */
	0x48, 0x89, 0x43, 0x08,	      /* after_in: mov %rax, 8(%rbx) */
	0xeb, 0xda,		      /* jmp loop */
};

/* One VM with one vCPU, and what its exits told the host. */
struct tvm {
	struct vm vm;
	struct vcpu vcpu[2];
	unsigned nvcpus;
	struct vcpu_gate gate;
	volatile int stopping;
	unsigned pause_in, pause_mmio; /* the exit that waits for the gate to close (0: none) */
	unsigned ins, outs, mmio_reads;
	uint8_t last_out;
	sem_t at_in;
	char failed[512];
};

static struct kvm kvm;
static const struct kvm_flavour *flavour;

/* Stay in the exit until the gate is closed: the vCPU parks with this exit pending. */
static void tvm_hold(struct tvm *t)
{
	sem_post(&t->at_in);
	for (int i = 0; i < TIMEOUT_MS && !vcpu_gate_is_closed(&t->gate); i++)
		usleep(1000);
}

static void tvm_pio(void *ctx, uint16_t port, bool is_write, uint8_t *data, unsigned size)
{
	struct tvm *t = ctx;
	if (port != PORT || size != 1)
		return;
	if (is_write) {
		t->outs++;
		t->last_out = data[0];
		return;
	}
	data[0] = IN_VALUE;
	if (++t->ins == t->pause_in)
		tvm_hold(t);
}

static void tvm_mmio(void *ctx, uint64_t addr, bool is_write, uint8_t *data, unsigned len)
{
	struct tvm *t = ctx;
	if (addr != MMIO_ADDR || is_write || len != 8)
		return;
	uint64_t v = MMIO_BASE + ++t->mmio_reads;
	memcpy(data, &v, 8);
	if (t->mmio_reads == t->pause_mmio)
		tvm_hold(t);
}

static void tvm_first_run(void *ctx)
{
	(void)ctx;
}

static void tvm_stop(void *ctx, int status, const char *reason)
{
	struct tvm *t = ctx;
	snprintf(t->failed, sizeof(t->failed), "status %d: %s", status, reason);
	t->stopping = 1;
	sem_post(&t->at_in);
}

static const struct vcpu_exit_ops tvm_ops = {
	.pio = tvm_pio,
	.mmio = tvm_mmio,
	.first_run = tvm_first_run,
	.stop = tvm_stop,
};

/* A VM of RAM bytes, its RAM filled by fill, and its nvcpus vCPUs set up (not started). */
static void tvm_create(struct tvm *t, unsigned nvcpus, void (*fill)(struct tvm *t, void *arg),
		       void *arg)
{
	memset(t, 0, sizeof(*t));
	sem_init(&t->at_in, 0, 0);
	vcpu_gate_init(&t->gate);
	ck_assert_int_eq(vm_create(&kvm, &t->vm, RAM), 0);
	fill(t, arg);
	ck_assert_int_eq(vm_ready(&t->vm), 0);
	for (unsigned i = 0; i < nvcpus; i++) {
		struct vcpu *v = &t->vcpu[i];
		ck_assert_int_eq(vcpu_create(&kvm, &t->vm, i, v), 0);
		t->nvcpus++;
		v->ops = &tvm_ops;
		v->ctx = t;
		v->stopping = &t->stopping;
		v->gate = &t->gate;
		ck_assert_int_eq(vcpu_setup(&kvm, v, nvcpus, flavour, ENTRY), 0);
	}
}

static void tvm_destroy(struct tvm *t)
{
	t->stopping = 1;
	for (unsigned i = 0; i < t->nvcpus; i++) {
		vcpu_kick_and_join(&t->vcpu[i]);
		vcpu_destroy(&t->vcpu[i]);
	}
	vm_destroy(&t->vm);
	vcpu_gate_destroy(&t->gate);
	sem_destroy(&t->at_in);
}

/*
 * Start the vCPUs (or open the gate again), wait for the boot vCPU's
 * pause_in-th IN or pause_mmio-th MMIO read, close the gate: every vCPU is
 * parked.
 */
static void tvm_run_to_pause(struct tvm *t, unsigned pause_in, unsigned pause_mmio)
{
	t->pause_in = pause_in;
	t->pause_mmio = pause_mmio;
	if (t->vcpu[0].started)
		ck_assert_int_eq(vcpu_gate_open(&t->gate), 0);
	else
		for (unsigned i = 0; i < t->nvcpus; i++)
			ck_assert_int_eq(vcpu_start(&t->vcpu[i]), 0);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TIMEOUT_MS / 1000;
	int r;
	while ((r = sem_timedwait(&t->at_in, &until)) < 0 && errno == EINTR)
		;
	ck_assert_msg(r == 0, "the guest did not reach IN %u or MMIO read %u (%u, %u so far)",
		      pause_in, pause_mmio, t->ins, t->mmio_reads);
	ck_assert_msg(!t->failed[0], "the guest stopped: %s", t->failed);
	ck_assert_int_eq(vcpu_gate_close(&t->gate, t->vcpu, t->nvcpus, TIMEOUT_MS), 0);
	ck_assert_msg(!t->failed[0], "the guest stopped: %s", t->failed);
}

static void fill_code(struct tvm *t, void *arg)
{
	(void)arg;
	ck_assert_int_eq(x86_write_boot_tables(&t->vm.mem), 0);
	ck_assert_int_eq(gm_write(&t->vm.mem, ENTRY, guest_code, sizeof(guest_code)), 0);
}

static void fill_copy(struct tvm *t, void *arg)
{
	const struct tvm *from = arg;
	memcpy(gm_gpa_to_hva(&t->vm.mem, 0, RAM), gm_gpa_to_hva(&from->vm.mem, 0, RAM), RAM);
	/* the word the guest stores after its IN: only the restored vCPU writes it now */
	ck_assert_int_eq(gm_zero(&t->vm.mem, COUNTER + 8, 8), 0);
}

static uint64_t guest_u64(struct tvm *t, uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, gm_gpa_to_hva(&t->vm.mem, gpa, 8), 8);
	return v;
}

static uint64_t kvm_clock(struct tvm *t)
{
	struct kvm_clock_data c;
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(ioctl(t->vm.fd, KVM_GET_CLOCK, &c), 0);
	return c.clock;
}

static void get_chip(struct tvm *t, uint32_t id, struct kvm_irqchip *chip)
{
	memset(chip, 0, sizeof(*chip));
	chip->chip_id = id;
	ck_assert_int_eq(ioctl(t->vm.fd, KVM_GET_IRQCHIP, chip), 0);
}

#define MSR_LSTAR	   0xc0000082
#define LSTAR_MARK	   0xffffffff81234560ULL
#define MSR_MTRR_PHYSBASE0 0x200       /* not in KVM's MSR index list */
#define MTRR_MARK	   0x100006ULL /* 1 MiB, write-back */
#define DR0_MARK	   0x123000ULL
#define APIC_TPR	   0x80
#define TPR_MARK	   0x20
#define XMM0_MARK	   0x5c

static uint64_t get_msr(struct tvm *t, uint32_t index)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 1;
	m.e.index = index;
	ck_assert_int_eq(ioctl(t->vcpu[0].fd, KVM_GET_MSRS, &m), 1);
	return m.e.data;
}

/*
 * xmm0 filled with XMM0_MARK. Where KVM has XSAVE, through the XSAVE area
 * with SSE marked in use: KVM_SET_FPU leaves XSTATE_BV alone, so an XSAVE
 * read afterwards would give SSE's initial state.
 */
static void set_xmm0(struct tvm *t)
{
	int xsave = ioctl(t->vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE);
	int size2 = ioctl(t->vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (xsave <= 0) {
		struct kvm_fpu fpu;
		ck_assert_int_eq(ioctl(t->vcpu[0].fd, KVM_GET_FPU, &fpu), 0);
		memset(fpu.xmm[0], XMM0_MARK, 16);
		ck_assert_int_eq(ioctl(t->vcpu[0].fd, KVM_SET_FPU, &fpu), 0);
		return;
	}
	size_t size = size2 > (int)sizeof(struct kvm_xsave) ? (size_t)size2 :
							      sizeof(struct kvm_xsave);
	uint8_t *area = calloc(1, size);
	ck_assert_ptr_nonnull(area);
	ck_assert_int_eq(ioctl(t->vcpu[0].fd, size2 > 0 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, area), 0);
	memset(area + 160, XMM0_MARK, 16); /* the legacy area's xmm0 */
	uint64_t bv;
	memcpy(&bv, area + 512, 8); /* the XSAVE header's XSTATE_BV */
	bv |= 1u << 1;		    /* SSE */
	memcpy(area + 512, &bv, 8);
	ck_assert_int_eq(ioctl(t->vcpu[0].fd, KVM_SET_XSAVE, area), 0);
	free(area);
}

/* Marks in vCPU state the guest never touches: xmm0, a debug register, MSRs, the TPR. */
static void mark_vcpu(struct tvm *t)
{
	set_xmm0(t);
	struct kvm_debugregs dr;
	ck_assert_int_eq(ioctl(t->vcpu[0].fd, KVM_GET_DEBUGREGS, &dr), 0);
	dr.db[0] = DR0_MARK;
	ck_assert_int_eq(ioctl(t->vcpu[0].fd, KVM_SET_DEBUGREGS, &dr), 0);
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[2];
	} m;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 2;
	m.e[0].index = MSR_LSTAR;
	m.e[0].data = LSTAR_MARK;
	m.e[1].index = MSR_MTRR_PHYSBASE0;
	m.e[1].data = MTRR_MARK;
	ck_assert_int_eq(ioctl(t->vcpu[0].fd, KVM_SET_MSRS, &m), 2);
	struct kvm_lapic_state lapic;
	ck_assert_int_eq(ioctl(t->vcpu[0].fd, KVM_GET_LAPIC, &lapic), 0);
	lapic.regs[APIC_TPR] = TPR_MARK;
	ck_assert_int_eq(ioctl(t->vcpu[0].fd, KVM_SET_LAPIC, &lapic), 0);
}

static void check_vcpu_marks(struct tvm *t)
{
	uint8_t xmm0[16];
	memset(xmm0, XMM0_MARK, sizeof(xmm0));
	struct kvm_fpu fpu;
	ck_assert_int_eq(ioctl(t->vcpu[0].fd, KVM_GET_FPU, &fpu), 0);
	ck_assert_mem_eq(fpu.xmm[0], xmm0, 16);
	struct kvm_debugregs dr;
	ck_assert_int_eq(ioctl(t->vcpu[0].fd, KVM_GET_DEBUGREGS, &dr), 0);
	ck_assert_uint_eq(dr.db[0], DR0_MARK);
	ck_assert_uint_eq(get_msr(t, MSR_LSTAR), LSTAR_MARK);
	ck_assert_uint_eq(get_msr(t, MSR_MTRR_PHYSBASE0), MTRR_MARK);
	struct kvm_lapic_state lapic;
	ck_assert_int_eq(ioctl(t->vcpu[0].fd, KVM_GET_LAPIC, &lapic), 0);
	ck_assert_uint_eq((uint8_t)lapic.regs[APIC_TPR], TPR_MARK);
}

START_TEST(paused_vm_is_saved_restored_and_runs_on)
{
	static struct tvm a, b;
	struct kvm_regs ra, rb;
	struct kvm_sregs sa, sb;
	struct kvm_irqchip chip;

	tvm_create(&a, 1, fill_code, NULL);
	/* marks in the interrupt controllers, to be found in the restored VM */
	get_chip(&a, KVM_IRQCHIP_PIC_MASTER, &chip);
	chip.chip.pic.imr = 0x5a;
	ck_assert_int_eq(ioctl(a.vm.fd, KVM_SET_IRQCHIP, &chip), 0);
	get_chip(&a, KVM_IRQCHIP_IOAPIC, &chip);
	chip.chip.ioapic.redirtbl[3].fields.vector = 0x42;
	ck_assert_int_eq(ioctl(a.vm.fd, KVM_SET_IRQCHIP, &chip), 0);
	mark_vcpu(&a);
	usleep(300 * 1000); /* so that the KVM clock has moved well past a new VM's */

	tvm_run_to_pause(&a, FIRST_PAUSE, 0);

	/* parked inside the IN exit: the gate completed it (al = 0xa5, RIP past it) */
	ck_assert_int_eq(ioctl(a.vcpu[0].fd, KVM_GET_REGS, &ra), 0);
	ck_assert_int_eq(ioctl(a.vcpu[0].fd, KVM_GET_SREGS, &sa), 0);
	ck_assert_msg(ra.rip == AFTER_IN, "rip %#llx, not past the IN", ra.rip);
	ck_assert_uint_eq(ra.rax & 0xff, IN_VALUE);
	ck_assert_uint_eq(ra.r12, FIRST_PAUSE * 256ULL);
	ck_assert_uint_eq(ra.r13, MMIO_BASE + FIRST_PAUSE);
	ck_assert_uint_eq(guest_u64(&a, COUNTER), FIRST_PAUSE * 256ULL);
	ck_assert_uint_eq(a.last_out, FIRST_PAUSE);

	uint64_t clock_before = kvm_clock(&a);
	void *vm_blob = NULL, *vcpu_blob = NULL;
	size_t vm_len = 0, vcpu_len = 0;
	ck_assert_int_eq(arch_vm_save(&a.vm, &vm_blob, &vm_len), 0);
	ck_assert_int_eq(arch_vcpu_save(&a.vcpu[0], &vcpu_blob, &vcpu_len), 0);
	ck_assert_uint_gt(vm_len, 0);
	ck_assert_uint_gt(vcpu_len, 0);
	/* saving changed nothing the guest can see */
	struct kvm_regs again;
	ck_assert_int_eq(ioctl(a.vcpu[0].fd, KVM_GET_REGS, &again), 0);
	ck_assert_mem_eq(&again, &ra, sizeof(ra));

	tvm_create(&b, 1, fill_copy, &a);
	tvm_destroy(&a);
	ck_assert_int_eq(arch_vm_restore(&b.vm, vm_blob, vm_len), 0);
	ck_assert_int_eq(arch_vcpu_restore(&b.vcpu[0], vcpu_blob, vcpu_len), 0);

	/* the same registers, xmm0, DR0, LSTAR, an MTRR, TPR, interrupt controllers, clock */
	ck_assert_int_eq(ioctl(b.vcpu[0].fd, KVM_GET_REGS, &rb), 0);
	ck_assert_int_eq(ioctl(b.vcpu[0].fd, KVM_GET_SREGS, &sb), 0);
	ck_assert_mem_eq(&rb, &ra, sizeof(ra));
	ck_assert_mem_eq(&sb, &sa, sizeof(sa));
	get_chip(&b, KVM_IRQCHIP_PIC_MASTER, &chip);
	ck_assert_uint_eq(chip.chip.pic.imr, 0x5a);
	get_chip(&b, KVM_IRQCHIP_IOAPIC, &chip);
	ck_assert_uint_eq(chip.chip.ioapic.redirtbl[3].fields.vector, 0x42);
	check_vcpu_marks(&b);
	uint64_t clock_after = kvm_clock(&b);
	ck_assert_msg(clock_after >= clock_before - 1000000 &&
			      clock_after < clock_before + 2000000000,
		      "KVM clock %llu ns after restore, %llu ns when saved",
		      (unsigned long long)clock_after, (unsigned long long)clock_before);

	/* and it runs on from the count it had */
	tvm_run_to_pause(&b, SECOND_PAUSE, 0);
	ck_assert_int_eq(ioctl(b.vcpu[0].fd, KVM_GET_REGS, &rb), 0);
	ck_assert_uint_eq(rb.rip, AFTER_IN);
	ck_assert_uint_eq(rb.r12, (FIRST_PAUSE + SECOND_PAUSE) * 256ULL);
	ck_assert_uint_eq(guest_u64(&b, COUNTER), (FIRST_PAUSE + SECOND_PAUSE) * 256ULL);
	ck_assert_uint_eq(b.last_out, FIRST_PAUSE + SECOND_PAUSE);
	ck_assert_uint_eq(b.outs, SECOND_PAUSE);
	ck_assert_uint_eq(b.mmio_reads, SECOND_PAUSE);
	ck_assert_uint_eq(rb.r13, MMIO_BASE + SECOND_PAUSE);
	/* its first instruction stored the IN's value that the save had completed */
	ck_assert_uint_eq(guest_u64(&b, COUNTER + 8) & 0xff, IN_VALUE);
	/* and the gate opens again */
	ck_assert_int_eq(vcpu_gate_open(&b.gate), 0);
	usleep(100 * 1000);
	ck_assert_msg(!b.failed[0], "the guest stopped: %s", b.failed);
	tvm_destroy(&b);
	free(vm_blob);
	free(vcpu_blob);
}
END_TEST

START_TEST(paused_in_mmio_exit_is_settled_and_resumes)
{
	static struct tvm a;
	struct kvm_regs r;

	tvm_create(&a, 1, fill_code, NULL);
	/* paused inside the 5th MMIO read: completed, r13 has the read's value */
	tvm_run_to_pause(&a, 0, 5);
	ck_assert_int_eq(ioctl(a.vcpu[0].fd, KVM_GET_REGS, &r), 0);
	ck_assert_msg(r.rip == AFTER_MMIO, "rip %#llx, not past the MMIO read", r.rip);
	ck_assert_uint_eq(r.r13, MMIO_BASE + 5);
	ck_assert_uint_eq(r.r12, 5 * 256ULL);
	/* resumed, it goes on to the 7th IN, and is paused there */
	tvm_run_to_pause(&a, 7, 0);
	ck_assert_int_eq(ioctl(a.vcpu[0].fd, KVM_GET_REGS, &r), 0);
	ck_assert_uint_eq(r.rip, AFTER_IN);
	ck_assert_uint_eq(r.rax & 0xff, IN_VALUE);
	ck_assert_uint_eq(r.r12, 7 * 256ULL);
	ck_assert_uint_eq(guest_u64(&a, COUNTER), 7 * 256ULL);
	tvm_destroy(&a);
}
END_TEST

/* Run fn with stderr in a temporary file; the file's text, malloc'd. */
static char *capture_stderr(int (*fn)(void *), void *arg, int *ret)
{
	char path[] = "/tmp/husk-archstate-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	*ret = fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char *text = calloc(1, 4096);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_ge(pread(fd, text, 4095, 0), 0);
	close(fd);
	return text;
}

struct restore_call {
	struct vcpu *vcpu;
	const void *blob;
	size_t len;
};

static int call_vcpu_restore(void *arg)
{
	struct restore_call *c = arg;
	return arch_vcpu_restore(c->vcpu, c->blob, c->len);
}

static void no_fill(struct tvm *t, void *arg)
{
	(void)t;
	(void)arg;
}

START_TEST(restore_with_another_cpuid_is_refused)
{
	static struct tvm a, b;
	void *blob = NULL;
	size_t len = 0;

	tvm_create(&a, 1, fill_code, NULL);
	ck_assert_int_eq(arch_vcpu_save(&a.vcpu[0], &blob, &len), 0);

	/* the same set-up, then leaf 1's stepping changed: another CPU */
	tvm_create(&b, 1, no_fill, NULL);
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(struct kvm_cpuid_entry2));
	ck_assert_ptr_nonnull(c);
	c->nent = 256;
	ck_assert_int_eq(ioctl(b.vcpu[0].fd, KVM_GET_CPUID2, c), 0);
	unsigned i = 0;
	while (i < c->nent && c->entries[i].function != 1)
		i++;
	ck_assert_uint_lt(i, c->nent);
	c->entries[i].eax ^= 1;
	ck_assert_int_eq(ioctl(b.vcpu[0].fd, KVM_SET_CPUID2, c), 0);
	free(c);

	struct restore_call call = { &b.vcpu[0], blob, len };
	int r;
	char *err = capture_stderr(call_vcpu_restore, &call, &r);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_msg(strstr(err, "CPUID leaf 0x1 index 0 differs: eax"), "stderr: %s", err);
	free(err);

	/* the unchanged vCPU takes it; a truncated blob is refused */
	ck_assert_int_eq(arch_vcpu_restore(&a.vcpu[0], blob, len), 0);
	call = (struct restore_call){ &a.vcpu[0], blob, len - 1 };
	err = capture_stderr(call_vcpu_restore, &call, &r);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_msg(strstr(err, "vCPU state"), "stderr: %s", err);
	free(err);

	tvm_destroy(&a);
	tvm_destroy(&b);
	free(blob);
}
END_TEST

static int get_mp_state(struct vcpu *v)
{
	struct kvm_mp_state mp;
	ck_assert_int_eq(ioctl(v->fd, KVM_GET_MP_STATE, &mp), 0);
	return (int)mp.mp_state;
}

START_TEST(two_vcpus_each_take_their_own_state)
{
	static struct tvm a, b, c;
	void *vm_blob, *blob[2];
	size_t vm_len, len[2];

	/* vCPU 1 is never started by the guest: it waits for INIT/SIPI, parked all the same */
	tvm_create(&a, 2, fill_code, NULL);
	tvm_run_to_pause(&a, 3, 0);
	ck_assert_int_eq(get_mp_state(&a.vcpu[1]), KVM_MP_STATE_UNINITIALIZED);
	ck_assert_int_eq(arch_vm_save(&a.vm, &vm_blob, &vm_len), 0);
	for (unsigned i = 0; i < 2; i++)
		ck_assert_int_eq(arch_vcpu_save(&a.vcpu[i], &blob[i], &len[i]), 0);

	/* another vCPU's state (its APIC id) and another vCPU count's are refused */
	tvm_create(&b, 2, fill_copy, &a);
	tvm_destroy(&a);
	ck_assert_int_eq(arch_vcpu_restore(&b.vcpu[1], blob[0], len[0]), -EINVAL);
	ck_assert_int_eq(arch_vcpu_restore(&b.vcpu[0], blob[1], len[1]), -EINVAL);
	tvm_create(&c, 1, no_fill, NULL);
	ck_assert_int_eq(arch_vcpu_restore(&c.vcpu[0], blob[0], len[0]), -EINVAL);
	tvm_destroy(&c);

	ck_assert_int_eq(arch_vm_restore(&b.vm, vm_blob, vm_len), 0);
	for (unsigned i = 0; i < 2; i++)
		ck_assert_int_eq(arch_vcpu_restore(&b.vcpu[i], blob[i], len[i]), 0);
	ck_assert_int_eq(get_mp_state(&b.vcpu[0]), KVM_MP_STATE_RUNNABLE);
	ck_assert_int_eq(get_mp_state(&b.vcpu[1]), KVM_MP_STATE_UNINITIALIZED);
	tvm_run_to_pause(&b, 2, 0);
	struct kvm_regs r;
	ck_assert_int_eq(ioctl(b.vcpu[0].fd, KVM_GET_REGS, &r), 0);
	ck_assert_uint_eq(r.r12, 5 * 256ULL);
	ck_assert_uint_eq(guest_u64(&b, COUNTER), 5 * 256ULL);
	tvm_destroy(&b);
	free(vm_blob);
	free(blob[0]);
	free(blob[1]);
}
END_TEST

int main(void)
{
	if (access("/dev/kvm", F_OK) != 0) {
		fprintf(stderr, "SKIP: no /dev/kvm\n");
		return 77;
	}
	if (kvm_open(&kvm, "/dev/kvm") < 0)
		return 1;
	flavour = flavour_detect(FLAVOUR_AUTO, "/sys");

	Suite *s = suite_create("archstate");
	TCase *tc = tcase_create("kvm");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, paused_vm_is_saved_restored_and_runs_on);
	tcase_add_test(tc, paused_in_mmio_exit_is_settled_and_resumes);
	tcase_add_test(tc, restore_with_another_cpuid_is_refused);
	tcase_add_test(tc, two_vcpus_each_take_their_own_state);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	kvm_close(&kvm);
	return failed ? 1 : 0;
}
