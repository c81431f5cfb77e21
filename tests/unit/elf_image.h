/*
 * Shared by the unit tests that hand the loaders an ELF vmlinux: the ELF
 * header of a 64-bit little-endian executable for this port, its program
 * headers right after it.
 */
#ifndef HUSK_TESTS_ELF_IMAGE_H
#define HUSK_TESTS_ELF_IMAGE_H

#include <elf.h>
#include <stdint.h>
#include <string.h>

#include "arch/arch.h"

/* b (zeroed, room for the headers) gets an ELF header: entry, phnum program headers. */
static inline void elf_image_header(uint8_t *b, uint64_t entry, unsigned phnum)
{
	Elf64_Ehdr *e = (Elf64_Ehdr *)b;
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_type = ET_EXEC;
	e->e_machine = ARCH_ELF_MACHINE;
	e->e_version = EV_CURRENT;
	e->e_entry = entry;
	e->e_phoff = sizeof(Elf64_Ehdr);
	e->e_ehsize = sizeof(Elf64_Ehdr);
	e->e_phentsize = sizeof(Elf64_Phdr);
	e->e_phnum = (uint16_t)phnum;
}

/* Program header i, after the ELF header. */
static inline Elf64_Phdr *elf_image_phdr(uint8_t *b, unsigned i)
{
	return (Elf64_Phdr *)(b + sizeof(Elf64_Ehdr)) + i;
}

#endif
