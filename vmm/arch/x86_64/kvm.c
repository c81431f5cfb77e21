/*
 * The x86 parts of the host's KVM and of a VM: the capabilities only x86
 * has, the supported CPUID, and the in-kernel IO-APIC, PIC and PIT.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arch.h"
#include "arch/x86_64/cpuid.h"
#include "kvm/kvm.h"
#include "log.h"

#define KVM_TSS_ADDR	      0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL
#define KVM_MAX_CPUID_ENTRIES 256

static const struct {
	int cap;
	const char *name;
} x86_kvm_required[] = {
	{ KVM_CAP_PIT2, "PIT2" },
	{ KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR" },
	{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
};

/*
 * MSRs a vCPU has that KVM leaves out of its index list: the MTRRs (QEMU
 * saves them beside the list too). The default type, the fixed ranges and
 * KVM's 8 variable ranges (base and mask each).
 */
static const uint32_t x86_msrs_unlisted[] = {
	0x2ff,							/* MTRRdefType */
	0x250, 0x258, 0x259,					/* fixed: 64K, 16K, 16K */
	0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f, /* fixed: 4K */
	0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207, /* variable */
	0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f,
};
#define X86_NUNLISTED (sizeof(x86_msrs_unlisted) / sizeof(x86_msrs_unlisted[0]))

/* The unlisted MSRs added to l (which has room for them) where KVM did not list them. */
static void x86_msr_list_add_unlisted(struct kvm_msr_list *l)
{
	for (size_t i = 0; i < X86_NUNLISTED; i++) {
		uint32_t j = 0;
		while (j < l->nmsrs && l->indices[j] != x86_msrs_unlisted[i])
			j++;
		if (j == l->nmsrs)
			l->indices[l->nmsrs++] = x86_msrs_unlisted[i];
	}
}

/*
 * The MSRs a saved vCPU state holds (arch_vcpu_save reads those that read
 * back): those KVM lists for saving (its own and the emulated ones) and
 * the unlisted ones above. The list's length is KVM's word; a list longer
 * than a state blob holds is kept, and saving refuses it.
 */
static int x86_kvm_msr_list(struct kvm *k)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	if (ioctl(k->fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG) {
		int e = -errno;
		log_err("kvm", "KVM_GET_MSR_INDEX_LIST: %s", strerror(errno));
		return e;
	}
	for (int tries = 0; tries < 3; tries++) {
		uint32_t n = probe.nmsrs;
		struct kvm_msr_list *l =
			calloc(1, sizeof(*l) + ((size_t)n + X86_NUNLISTED) * sizeof(uint32_t));
		if (!l)
			return -ENOMEM;
		l->nmsrs = n;
		if (ioctl(k->fd, KVM_GET_MSR_INDEX_LIST, l) == 0) {
			x86_msr_list_add_unlisted(l);
			k->arch.msr_list = l;
			return 0;
		}
		int err = errno;
		probe.nmsrs = l->nmsrs; /* E2BIG: the list grew, KVM says how long it is now */
		free(l);
		if (err != E2BIG) {
			log_err("kvm", "KVM_GET_MSR_INDEX_LIST: %s", strerror(err));
			return -err;
		}
	}
	log_err("kvm", "KVM_GET_MSR_INDEX_LIST: the list keeps changing length");
	return -EIO;
}

int arch_kvm_init(struct kvm *k)
{
	for (size_t i = 0; i < sizeof(x86_kvm_required) / sizeof(x86_kvm_required[0]); i++) {
		if (ioctl(k->fd, KVM_CHECK_EXTENSION, x86_kvm_required[i].cap) <= 0) {
			log_err("kvm", "KVM lacks the %s capability", x86_kvm_required[i].name);
			return -ENOTSUP;
		}
	}
	struct kvm_cpuid2 *c =
		calloc(1, sizeof(*c) + KVM_MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return -ENOMEM;
	k->arch.supported_cpuid = c;
	c->nent = KVM_MAX_CPUID_ENTRIES;
	if (ioctl(k->fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		int e = -errno;
		log_err("kvm", "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return e;
	}
	if (ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		cpuid_add_tsc_deadline(c);
	return x86_kvm_msr_list(k);
}

void arch_kvm_exit(struct kvm *k)
{
	free(k->arch.supported_cpuid);
	k->arch.supported_cpuid = NULL;
	free(k->arch.msr_list);
	k->arch.msr_list = NULL;
}

/* The TSS and identity-map pages, the in-kernel irqchip and the PIT. */
int arch_vm_setup(struct kvm *k, struct vm *vm)
{
	int r;
	if ((r = vm_ioctl(vm, KVM_SET_TSS_ADDR, (void *)(uintptr_t)KVM_TSS_ADDR,
			  "KVM_SET_TSS_ADDR")) < 0)
		return r;
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	if (ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    (r = vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &idmap, "KVM_SET_IDENTITY_MAP_ADDR")) < 0)
		return r;
	if ((r = vm_ioctl(vm, KVM_CREATE_IRQCHIP, NULL, "KVM_CREATE_IRQCHIP")) < 0)
		return r;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	return vm_ioctl(vm, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");
}
