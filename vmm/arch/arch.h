/*
 * The one boundary between the VMM and the processor it runs guests on,
 * after kvmtool's kvm__arch_* hooks and Firecracker's arch/. Generic code
 * (kvm/, boot/, devices/, vmm.c) includes this header and nothing under
 * vmm/arch/<arch>/; the build picks the port by CMAKE_SYSTEM_PROCESSOR and
 * puts its include/ folder on the path, where "arch/defs.h" gives:
 *
 *   ARCH_NAME                  the port's name, in messages
 *   ARCH_ELF_MACHINE           the e_machine of the kernels it boots
 *   ARCH_KERNEL_START          where a kernel image goes that does not say (bzImage)
 *   ARCH_PC_NAME               what crash reports call the program counter
 *   ARCH_MIN_RAM               the least guest RAM the port boots in
 *   ARCH_RAM_START             where guest RAM begins
 *   ARCH_RAM_GAP_START/_END    the hole in guest RAM for MMIO (RAM resumes at _END)
 *   ARCH_CMDLINE_MAX           the kernel command line's limit, NUL included
 *   ARCH_MMIO_START            where the virtio-mmio windows begin
 *   ARCH_DEVICE_IRQ_FIRST/LAST the interrupt lines devices may be given
 *   struct arch_kvm            the port's state in struct kvm (host support)
 *   struct arch_flavour        the port's part of a KVM flavour (features withheld)
 *   struct arch_boot_image     what the port's boot tables keep of a kernel image
 *   ARCH_CONSOLE_EARLY         the earlycon words for the platform's UART
 *   ARCH_CONSOLE_SERIAL        the console words for it (--console-device serial)
 *
 * Each hook returns 0 or a negative errno, logged once where it arose.
 *
 * Everything of a processor's is behind it: vmm/boot/ keeps what any port
 * shares (the ELF parser for ARCH_ELF_MACHINE, the initramfs placed above
 * the kernel and below its initrd_end, the command line), vmm/devices/ the
 * 16550A and the port-I/O bus with no address of their own.
 *
 * The x86_64 port (vmm/arch/x86_64/): in-kernel IO-APIC/PIC and PIT, the
 * TSS and identity-map pages; CPUID and MSRs per vCPU; the Linux 64-bit
 * boot protocol (a bzImage or an ELF vmlinux loaded; zero page with an e820
 * map and an RNG seed, identity page tables and GDT, rsi = boot_params); an
 * MP table for the vCPUs; port I/O exits; the PC's own devices (8250 UART
 * at 0x3f8, IRQ 4; the i8042's reset); the kvm_pvm flavour's CPUID masks
 * and command line.
 *
 * An aarch64 port would add vmm/arch/aarch64/ and touch nothing else:
 *
 *   - VM set-up (arch_vm_setup): no irqchip ioctl and no PIT; a GICv3 made
 *     with KVM_CREATE_DEVICE (KVM_DEV_TYPE_ARM_VGIC_V3), its distributor and
 *     redistributor regions placed with KVM_DEV_ARM_VGIC_GRP_ADDR, then
 *     KVM_DEV_ARM_VGIC_CTRL_INIT once every vCPU exists (done by
 *     arch_vcpu_setup for the last vCPU, as vCPUs are set up in order after
 *     vm_ready()). Device interrupts are SPIs; irqfd works as on x86.
 *   - Host support (arch_kvm_init): KVM_ARM_PREFERRED_TARGET, the IPA size
 *     (KVM_CAP_ARM_VM_IPA_SIZE), KVM_CAP_ARM_PSCI_0_2.
 *   - vCPUs (arch_vcpu_setup): KVM_ARM_VCPU_INIT with the preferred target
 *     and KVM_ARM_VCPU_PSCI_0_2, secondary vCPUs with POWER_OFF; for the boot
 *     vCPU, KVM_SET_ONE_REG of PC = the Image entry, X0 = the device tree's
 *     address, PSTATE = EL1h with DAIF masked. No CPUID or MSRs: what the
 *     guest sees is the ID registers KVM already filters.
 *   - PSCI, served in the kernel: CPU_ON brings up secondaries, SYSTEM_OFF
 *     and SYSTEM_RESET arrive as KVM_EXIT_SYSTEM_EVENT, which the generic
 *     run loop already turns into power-off and reboot. arch_vcpu_exit has
 *     no port I/O to decode; it would name exits like KVM_EXIT_ARM_NISV.
 *   - Memory map (arch/defs.h): ARCH_RAM_START at 1 GiB or above, MMIO
 *     below it (GIC, PL011, virtio-mmio), ARCH_RAM_GAP_START past any RAM.
 *   - Kernel (arch_boot_load_kernel): an arm64 Image, its 64-byte header
 *     (magic "ARM\x64", text_offset, image_size) instead of a bzImage, loaded
 *     2 MiB aligned (an ELF vmlinux through elf_load as on x86, with
 *     ARCH_ELF_MACHINE EM_AARCH64); kind BOOT_NATIVE, no initrd_end of its
 *     own, struct arch_boot_image empty or the header's flags. The generic
 *     boot_place_initrd then puts the initramfs above it.
 *   - Boot (arch_boot_write): a flattened device tree
 *     built with libfdt (found by pkg-config, as the other libraries are) describing
 *     memory, /cpus with enable-method "psci", the psci node, the GICv3
 *     (interrupt-controller, its regions), the architected timer (its PPIs),
 *     the PL011 UART at its MMIO window (stdout-path), one virtio,mmio node
 *     per device window and SPI, and /chosen with bootargs (the command
 *     line), linux,initrd-start/-end and rng-seed. The MP table and zero
 *     page have no counterpart: the device tree is both.
 *   - Devices (arch_platform_create): the PL011 replaces the 8250 on port
 *     0x3f8 (an MMIO device at a fixed window below the virtio-mmio ones,
 *     its SPI, "earlycon=pl011,mmio32,ADDR" and "console=ttyAMA0" as
 *     ARCH_CONSOLE_EARLY and _SERIAL); nothing on the port-I/O bus and no
 *     i8042: PSCI resets. arch_platform_save holds the PL011's registers.
 *   - Crash reports (arch_vcpu_code): PC through KVM_GET_ONE_REG; the code
 *     bytes need the guest's translation, which arm64 KVM does not offer
 *     (KVM_TRANSLATE is x86 only), so reports give the PC alone.
 *   - Saved state (arch_vcpu_save/restore): every register KVM_GET_REG_LIST
 *     names (core, FP/SIMD, system and timer registers), each read and
 *     written with KVM_GET/SET_ONE_REG, plus the MP state; restore checks
 *     the ID registers as x86 checks CPUID. arch_vm_save holds the GICv3
 *     through its device attributes (KVM_DEV_ARM_VGIC_GRP_DIST_REGS,
 *     _REDIST_REGS, _CPU_SYSREGS per vCPU, _LEVEL_INFO, then
 *     KVM_DEV_ARM_ITS_SAVE_TABLES where an ITS is used) and the virtual
 *     counter's offset.
 */
#ifndef HUSK_ARCH_ARCH_H
#define HUSK_ARCH_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "arch/defs.h"
#include "config.h"

struct boot_image;
struct boot_loaded;
struct console_hooks;
struct guest_mem;
struct iobus;
struct kvm;
struct kvm_flavour;
struct vcpu;
struct vm;

/* --- the host's KVM ----------------------------------------------------- */

/*
 * Called by kvm_open() once the generic capabilities are checked: the
 * port's own capabilities, and what it needs to know of the host (x86: the
 * supported CPUID). arch_kvm_exit() frees it; safe on a zeroed struct kvm.
 */
int arch_kvm_init(struct kvm *k);
void arch_kvm_exit(struct kvm *k);

/*
 * The KVM flavour's data for this port: name, command-line words and the
 * features to withhold. choice is FLAVOUR_HARDWARE or FLAVOUR_PVM, already
 * detected (kvm/flavour.c); never NULL.
 */
const struct kvm_flavour *arch_flavour(enum flavour_choice choice);

/* --- the VM ------------------------------------------------------------- */

/*
 * The in-kernel interrupt controller and timers (x86: TSS and identity-map
 * pages, IO-APIC and PIC, PIT). vm_create() runs it on a thread of its own,
 * beside the memory slots' thread, while guest RAM is being filled: it may
 * use the VM fd and nothing of guest RAM.
 */
int arch_vm_setup(struct kvm *k, struct vm *vm);

/* --- vCPUs -------------------------------------------------------------- */

/*
 * The state vCPU v (of nvcpus) starts in: features as the flavour fl
 * leaves them, interrupt controller state; for the boot vCPU (id 0) the
 * registers of the kernel's 64-bit entry at entry. Others wait for the
 * guest to start them.
 */
int arch_vcpu_setup(struct kvm *k, struct vcpu *v, unsigned nvcpus, const struct kvm_flavour *fl,
		    uint64_t entry);

enum arch_exit {
	ARCH_EXIT_UNKNOWN, /* not an exit of this port's: the generic run loop decides */
	ARCH_EXIT_HANDLED, /* the vCPU runs on */
	ARCH_EXIT_STOPPED, /* the port asked the VM to stop (v->ops->stop) */
	ARCH_EXIT_FAILED,  /* the guest crashed: what says how */
};

/* Decode an exit only this port has (x86: port I/O, HLT, triple fault). */
enum arch_exit arch_vcpu_exit(struct vcpu *v, char *what, size_t whatlen);

/*
 * Where a stopped vCPU is, for crash reports: its program counter, and up
 * to max code bytes there, read through the guest's page tables into code
 * (*ncode 0 if they cannot be). Negative if the registers are unreadable.
 */
int arch_vcpu_code(int vcpu_fd, const struct guest_mem *gm, uint64_t *pc, uint8_t *code, size_t max,
		   size_t *ncode);

/* The mnemonic of the instruction at code, NULL if the port does not know it. */
const char *arch_insn_name(const uint8_t *code, size_t len);

/* --- the platform's own devices ---------------------------------------- */

/* What the VMM gives the platform's devices. */
struct arch_platform_env {
	struct vm *vm;			     /* for their interrupt lines */
	struct iobus *io;		     /* the port-I/O bus (x86) */
	int console_fd;			     /* where the UART writes */
	const struct console_hooks *console; /* told of the UART's first byte and lines */
	void (*reset)(void *ctx);	     /* the guest asked for a reset: the VM ends */
	void *ctx;			     /* for console and reset */
};

/*
 * The devices every VM of this port has beside the virtio ones (x86: the
 * 8250 UART at COM1 and the i8042 reset, on port I/O), registered where env
 * says. *out is set even on failure; arch_platform_destroy frees it (NULL
 * is a no-op), after the vCPU threads are joined.
 */
struct arch_platform;
int arch_platform_create(struct arch_platform **out, const struct arch_platform_env *env);
void arch_platform_destroy(struct arch_platform *p);

/*
 * Their state as a malloc'd blob of the port's format (x86: the UART's
 * registers, serial_save). Restore: before any vCPU runs; a blob not of
 * this port's is refused (-EINVAL, logged) and changes nothing.
 */
int arch_platform_save(struct arch_platform *p, void **blob, size_t *len);
int arch_platform_restore(struct arch_platform *p, const void *blob, size_t len);

/* --- saved state -------------------------------------------------------- */

/*
 * A VM's and its vCPUs' state as KVM holds it, in blobs of the port's own
 * format (versioned; read back only by the same port). A blob is malloc'd
 * (the caller frees it). The vCPUs must not be running: their threads are
 * parked at the closed gate (kvm/vcpu_gate.h), which also completed any
 * half-done I/O. A blob to restore is hostile input: a short, foreign or
 * malformed one is refused (-EINVAL, with a message) before anything of it
 * reaches KVM. x86: the PICs, IO-APIC, PIT and KVM clock of the VM; each
 * vCPU's registers, FPU/XSAVE and XCRs, MSRs, LAPIC, pending events, MP
 * state, debug registers and CPUID.
 */
int arch_vm_save(struct vm *vm, void **blob, size_t *len);

/* Into a VM that vm_create() made and vm_ready() finished, before its vCPUs' state. */
int arch_vm_restore(struct vm *vm, const void *blob, size_t len);

/* One vCPU's state, its thread parked (or never started). */
int arch_vcpu_save(struct vcpu *v, void **blob, size_t *len);

/*
 * Into a vCPU that vcpu_setup() gave this host's CPUID for the same
 * flavour, before it first runs. A blob saved with another CPUID (another
 * CPU, KVM or flavour) is refused with -EINVAL, the first differing leaf
 * named.
 */
int arch_vcpu_restore(struct vcpu *v, const void *blob, size_t len);

/* --- boot --------------------------------------------------------------- */

/*
 * Put the kernel image img[0..len) (already inflated if it was gzip'd: a
 * file the user named) into guest RAM and say where it is, where it is
 * entered and how high an initramfs may go (vmm/boot/boot_image.h). Each
 * field is checked against the file and guest RAM; a foreign or short image
 * is -ENOEXEC, one that does not fit -ENOMEM, logged. x86: an ELF vmlinux
 * (elf_load) or a bzImage, told apart by magic.
 */
int arch_boot_load_kernel(const struct guest_mem *gm, const uint8_t *img, size_t len,
			  struct boot_image *out);

/*
 * After the kernel and initramfs (ld) are in guest RAM: write the command
 * line (len bytes without the NUL) and everything the kernel reads at
 * entry (x86: zero page, boot page tables and GDT, MP table for ncpus with
 * interrupt entries below irq_end).
 */
int arch_boot_write(const struct guest_mem *gm, unsigned ncpus, unsigned irq_end,
		    const char *cmdline, size_t len, const struct boot_loaded *ld);

#endif
