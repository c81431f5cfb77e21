/* The x86 data of each KVM flavour: command-line words and CPUID masks. */
#include "arch/arch.h"
#include "arch/x86_64/cpuid.h"
#include "kvm/flavour.h"

/*
 * kvm_pvm emulates guest kernel mode and cannot emulate xsave, cmpxchg16b,
 * popcnt or stac/clac; a guest vCPU sending a PV IPI hangs SMP bring-up.
 * Some CPUID masks are ignored by kvm_pvm, hence the command line too.
 * Guest kernel code runs emulated there (about 1000 times slower than on
 * hardware), so two costly boot steps are skipped: patching lock prefixes
 * for one CPU (noreplace-smp, about 3 s) and write-protecting kernel
 * rodata (rodata=off, about 5 s). The latter weakens the guest kernel's
 * self-protection, not the VM boundary; on hardware KVM it stays on.
 * String instructions (rep movs/stos) are emulated one iteration at a
 * time, so the kernel is steered to its unrolled copy and clear loops:
 * no ERMS, FSRM or REP_GOOD (3.5 times the vsock throughput).
 * "pvm_compat" turns on our kernel patches (kernel-config/patches).
 * Every page the guest reads into its page cache costs emulated work, so
 * a page fault in a file mapping reads 16 KiB around it, not the file's
 * whole 128 KiB window (mmap_readaround_kb, patch 0019): a container's
 * first program, paged in over virtio-fs, reads what it touches.
 */
static const struct cpuid_mask pvm_masks[] = {
	{ .function = 1,
	  .reg = CPUID_ECX,
	  .clear = CPUID_1_ECX_XSAVE | CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_CX16 |
		   CPUID_1_ECX_POPCNT },
	{ .function = 7,
	  .index = 0,
	  .reg = CPUID_EBX,
	  .clear = CPUID_7_EBX_SMAP | CPUID_7_EBX_ERMS },
	{ .function = 7, .index = 0, .reg = CPUID_EDX, .clear = CPUID_7_EDX_FSRM },
	{ .function = CPUID_KVM_FEATURES, .reg = CPUID_EAX, .clear = CPUID_KVM_PV_SEND_IPI },
};

static const struct kvm_flavour x86_flavours[] = {
	[FLAVOUR_HARDWARE] = { .name = "hardware", .cmdline = "" },
	[FLAVOUR_PVM] = {
		.name = "pvm",
		.cmdline = "noxsave clearcpuid=cx16,popcnt,smap,erms,fsrm,rep_good noreplace-smp "
			   "rodata=off pvm_compat mmap_readaround_kb=16",
		.arch = { .masks = pvm_masks,
			  .nmasks = sizeof(pvm_masks) / sizeof(pvm_masks[0]) },
	},
};

const struct kvm_flavour *arch_flavour(enum flavour_choice choice)
{
	return &x86_flavours[choice == FLAVOUR_PVM ? FLAVOUR_PVM : FLAVOUR_HARDWARE];
}
