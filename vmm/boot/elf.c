/*
 * ELF vmlinux loader. Every field comes from a file we do not trust: offsets
 * and sizes are checked against the file, addresses against guest RAM.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "arch/arch.h"
#include "boot/boot_image.h"
#include "log.h"

int elf_load(const struct guest_mem *gm, const uint8_t *img, size_t len, struct boot_image *out)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh)) {
		log_err("elf", "image is %zu bytes, too short for an ELF header", len);
		return -ENOEXEC;
	}
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		log_err("elf", "not a 64-bit little-endian ELF file");
		return -ENOEXEC;
	}
	if (eh.e_machine != ARCH_ELF_MACHINE || eh.e_type != ET_EXEC) {
		log_err("elf", "not an " ARCH_NAME " executable (machine %u, type %u)",
			eh.e_machine, eh.e_type);
		return -ENOEXEC;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phoff > len ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff) {
		log_err("elf", "program headers lie outside the file");
		return -ENOEXEC;
	}

	uint64_t lo = UINT64_MAX, hi = 0;
	bool entry_ok = false;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset) {
			log_err("elf", "segment %u lies outside the file", i);
			return -ENOEXEC;
		}
		if (!gm_gpa_to_hva(gm, ph.p_paddr, ph.p_memsz)) {
			log_err("elf", "segment %u at %#llx+%#llx does not fit in guest RAM", i,
				(unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz);
			return -ENOMEM;
		}
		int r = gm_write(gm, ph.p_paddr, img + ph.p_offset, ph.p_filesz);
		if (r < 0)
			return r;
		if ((r = gm_zero(gm, ph.p_paddr + ph.p_filesz, ph.p_memsz - ph.p_filesz)) < 0)
			return r;
		if (ph.p_paddr < lo)
			lo = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > hi)
			hi = ph.p_paddr + ph.p_memsz;
		if ((ph.p_flags & PF_X) && eh.e_entry >= ph.p_paddr &&
		    eh.e_entry - ph.p_paddr < ph.p_filesz)
			entry_ok = true;
	}
	if (hi == 0) {
		log_err("elf", "no loadable segment");
		return -ENOEXEC;
	}
	if (!entry_ok) {
		log_err("elf", "entry point %#llx is not in an executable loaded segment",
			(unsigned long long)eh.e_entry);
		return -ENOEXEC;
	}

	memset(out, 0, sizeof(*out));
	out->kind = BOOT_ELF;
	out->entry = eh.e_entry;
	out->start = lo;
	out->end = hi;
	return 0;
}
