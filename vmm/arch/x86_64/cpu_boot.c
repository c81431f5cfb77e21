#include "arch/x86_64/cpu_boot.h"

#include <errno.h>
#include <string.h>

#include "arch/x86_64/memmap.h"
#include "log.h"

#define CR0_PE	 (1ULL << 0)
#define CR0_MP	 (1ULL << 1)
#define CR0_ET	 (1ULL << 4)
#define CR0_NE	 (1ULL << 5)
#define CR0_PG	 (1ULL << 31)
#define CR4_PAE	 (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define PTE_P  (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)

#define GDT_CODE64  1
#define GDT_DATA    2
#define GDT_TSS	    3
#define GDT_ENTRIES 4

#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_STAR	      0xc0000081
#define MSR_LSTAR	      0xc0000082
#define MSR_CSTAR	      0xc0000083
#define MSR_SYSCALL_MASK      0xc0000084
#define MSR_KERNEL_GS_BASE    0xc0000102
#define MSR_IA32_TSC	      0x10
#define MSR_IA32_MISC_ENABLE  0x1a0
#define MSR_MTRR_DEF_TYPE     0x2ff

#define APIC_LVT0	 0x350
#define APIC_LVT1	 0x360
#define APIC_MODE_NMI	 0x4
#define APIC_MODE_EXTINT 0x7

static void gdt_to_segment(uint64_t d, uint16_t index, struct kvm_segment *s)
{
	s->base = (uint32_t)(((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24));
	uint32_t limit = (uint32_t)((d & 0xffff) | (((d >> 48) & 0xf) << 16));
	s->g = (d >> 55) & 1;
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->selector = (uint16_t)(index * 8);
	s->type = (d >> 40) & 0xf;
	s->present = (d >> 47) & 1;
	s->dpl = (d >> 45) & 3;
	s->db = (d >> 54) & 1;
	s->s = (d >> 44) & 1;
	s->l = (d >> 53) & 1;
	s->avl = (d >> 52) & 1;
	s->unusable = !s->present;
}

static const uint64_t *boot_gdt(void)
{
	static const uint64_t gdt[GDT_ENTRIES] = {
		[0] = 0,
		[GDT_CODE64] = 0x00af9b000000ffffULL, /* 64-bit code, DPL 0 */
		[GDT_DATA] = 0x00cf93000000ffffULL,   /* 4 GiB data, DPL 0 */
		[GDT_TSS] = 0x00808b0000000000ULL,    /* busy 64-bit TSS */
	};
	return gdt;
}

int x86_write_boot_tables(const struct guest_mem *gm)
{
	uint64_t *pml4 = gm_gpa_to_hva(gm, MM_PML4, 4096);
	uint64_t *pdpt = gm_gpa_to_hva(gm, MM_PDPT, 4096);
	uint64_t *pd = gm_gpa_to_hva(gm, MM_PD, 4096);
	uint64_t *gdt = gm_gpa_to_hva(gm, MM_GDT, GDT_ENTRIES * sizeof(uint64_t));
	if (!pml4 || !pdpt || !pd || !gdt) {
		log_err("boot", "guest RAM too small for the boot page tables");
		return -ENOMEM;
	}
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = MM_PDPT | PTE_P | PTE_RW;
	pdpt[0] = MM_PD | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
	memcpy(gdt, boot_gdt(), GDT_ENTRIES * sizeof(uint64_t));
	return 0;
}

void x86_boot_sregs(struct kvm_sregs *s)
{
	const uint64_t *gdt = boot_gdt();
	struct kvm_segment code, data, tss;

	gdt_to_segment(gdt[GDT_CODE64], GDT_CODE64, &code);
	gdt_to_segment(gdt[GDT_DATA], GDT_DATA, &data);
	gdt_to_segment(gdt[GDT_TSS], GDT_TSS, &tss);

	s->gdt.base = MM_GDT;
	s->gdt.limit = GDT_ENTRIES * sizeof(uint64_t) - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tss;
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
	s->cr3 = MM_PML4;
	s->cr4 = CR4_PAE;
	s->efer = EFER_LME | EFER_LMA;
}

void x86_boot_regs(struct kvm_regs *r, uint64_t entry, uint64_t boot_params)
{
	memset(r, 0, sizeof(*r));
	r->rflags = 0x2;
	r->rip = entry;
	r->rsp = MM_BOOT_STACK;
	r->rbp = MM_BOOT_STACK;
	r->rsi = boot_params;
}

void x86_boot_fpu(struct kvm_fpu *f)
{
	memset(f, 0, sizeof(*f));
	f->fcw = 0x37f;
	f->mxcsr = 0x1f80;
}

size_t x86_boot_msrs(struct kvm_msr_entry *e, size_t max)
{
	static const struct {
		uint32_t index;
		uint64_t data;
	} msrs[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_IA32_TSC, 0 },
		{ MSR_IA32_MISC_ENABLE, 1 },	       /* fast strings */
		{ MSR_MTRR_DEF_TYPE, (1u << 11) | 6 }, /* MTRRs on, write-back */
	};
	size_t n = 0;
	for (; n < sizeof(msrs) / sizeof(msrs[0]) && n < max; n++) {
		memset(&e[n], 0, sizeof(e[n]));
		e[n].index = msrs[n].index;
		e[n].data = msrs[n].data;
	}
	return n;
}

static void lapic_set_mode(struct kvm_lapic_state *l, unsigned reg, uint32_t mode)
{
	uint32_t v;
	memcpy(&v, &l->regs[reg], sizeof(v));
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&l->regs[reg], &v, sizeof(v));
}

void x86_lapic_set_lints(struct kvm_lapic_state *l)
{
	lapic_set_mode(l, APIC_LVT0, APIC_MODE_EXTINT);
	lapic_set_mode(l, APIC_LVT1, APIC_MODE_NMI);
}
