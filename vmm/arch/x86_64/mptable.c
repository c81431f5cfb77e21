#include "arch/x86_64/mptable.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/memmap.h"
#include "log.h"

struct mpf_intel {
	char signature[4]; /* "_MP_" */
	uint32_t physptr;
	uint8_t length; /* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_table {
	char signature[4]; /* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag, reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

#define CPU_ENABLED	  1
#define CPU_BOOTPROCESSOR 2
#define APIC_VERSION	  0x14
#define IOAPIC_VERSION	  0x11

static uint8_t mp_checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;
	while (n--)
		sum += *p++;
	return (uint8_t)-sum;
}

int mptable_write(const struct guest_mem *gm, unsigned ncpus, unsigned irq_end)
{
	if (ncpus == 0 || ncpus > MPTABLE_MAX_CPUS) {
		log_err("mptable", "%u vCPUs; the MP table describes 1 to %u", ncpus,
			MPTABLE_MAX_CPUS);
		return -EINVAL;
	}
	if (irq_end > MPTABLE_IOAPIC_PINS) {
		log_err("mptable", "IRQ %u asked for; the IO-APIC has pins 0 to %u", irq_end - 1,
			MPTABLE_IOAPIC_PINS - 1);
		return -EINVAL;
	}
	unsigned pins = irq_end > MPTABLE_ISA_PINS ? irq_end : MPTABLE_ISA_PINS;
	size_t size = sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
		      ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
		      sizeof(struct mpc_ioapic) + (pins + 2) * sizeof(struct mpc_intsrc);
	uint8_t *base = gm_gpa_to_hva(gm, MM_MPTABLE, size);
	if (!base) {
		log_err("mptable", "no room in guest RAM at %#llx", (unsigned long long)MM_MPTABLE);
		return -ENOMEM;
	}
	memset(base, 0, size);

	struct mpf_intel *mpf = (struct mpf_intel *)base;
	uint8_t *table = base + sizeof(*mpf);
	uint8_t *p = table + sizeof(struct mpc_table);
	uint16_t count = 0;
	uint8_t ioapic_id = (uint8_t)ncpus;

	for (unsigned i = 0; i < ncpus; i++, count++) {
		struct mpc_cpu cpu = {
			.type = MP_PROCESSOR,
			.apicid = (uint8_t)i,
			.apicver = APIC_VERSION,
			.cpuflag = CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0),
			.cpufeature = 0x600,		      /* family 6 */
			.featureflag = (1u << 0) | (1u << 9), /* FPU, APIC */
		};
		memcpy(p, &cpu, sizeof(cpu));
		p += sizeof(cpu);
	}
	struct mpc_bus bus = { .type = MP_BUS, .busid = 0, .bustype = "ISA   " };
	memcpy(p, &bus, sizeof(bus));
	p += sizeof(bus);
	count++;
	struct mpc_ioapic ioapic = { .type = MP_IOAPIC,
				     .apicid = ioapic_id,
				     .apicver = IOAPIC_VERSION,
				     .flags = 1,
				     .apicaddr = (uint32_t)MM_IOAPIC };
	memcpy(p, &ioapic, sizeof(ioapic));
	p += sizeof(ioapic);
	count++;
	for (uint8_t pin = 0; pin < pins; pin++, count++) {
		struct mpc_intsrc src = { .type = MP_INTSRC,
					  .irqtype = MP_INT,
					  .srcbus = 0,
					  .srcbusirq = pin,
					  .dstapic = ioapic_id,
					  .dstirq = pin };
		memcpy(p, &src, sizeof(src));
		p += sizeof(src);
	}
	struct mpc_intsrc lint0 = {
		.type = MP_LINTSRC, .irqtype = MP_EXTINT, .dstapic = 0, .dstirq = 0
	};
	struct mpc_intsrc lint1 = {
		.type = MP_LINTSRC, .irqtype = MP_NMI, .dstapic = 0xff, .dstirq = 1
	};
	memcpy(p, &lint0, sizeof(lint0));
	p += sizeof(lint0);
	memcpy(p, &lint1, sizeof(lint1));
	p += sizeof(lint1);
	count += 2;

	struct mpc_table hdr = {
		.signature = "PCMP",
		.length = (uint16_t)(p - table),
		.spec = 4,
		.oem = "HUSK    ",
		.productid = "MICROVM     ",
		.oemcount = count,
		.lapic = (uint32_t)MM_LAPIC,
	};
	memcpy(table, &hdr, sizeof(hdr));
	((struct mpc_table *)table)->checksum = mp_checksum(table, hdr.length);

	mpf->signature[0] = '_';
	mpf->signature[1] = 'M';
	mpf->signature[2] = 'P';
	mpf->signature[3] = '_';
	mpf->physptr = (uint32_t)(MM_MPTABLE + sizeof(*mpf));
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = mp_checksum(base, sizeof(*mpf));
	return 0;
}
