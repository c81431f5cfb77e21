/*
 * Guest RAM: one shared memfd mapping, laid out in at most two regions
 * (below the MMIO gap, and above 4 GiB). No KVM calls here, so loaders and
 * tests can use it on its own.
 */
#ifndef HUSK_GUEST_MEM_H
#define HUSK_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GM_MAX_REGIONS 2

struct gm_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	int memfd;
	uint8_t *base; /* the whole mapping */
	uint64_t size; /* total RAM bytes */
	unsigned nregions;
	struct gm_region regions[GM_MAX_REGIONS];
};

/* Map size bytes of RAM split around the MMIO gap. */
int gm_init(struct guest_mem *gm, uint64_t size);
void gm_destroy(struct guest_mem *gm);

/*
 * The one translation from guest physical to host virtual address: NULL if
 * [gpa, gpa+len) is not wholly inside one RAM region or wraps around.
 */
void *gm_gpa_to_hva(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* End (guest physical) of RAM below the MMIO gap. */
uint64_t gm_low_end(const struct guest_mem *gm);

/*
 * Copy len bytes to guest physical gpa; -EFAULT if out of RAM, another
 * negative errno (logged) if the host cannot supply the memory.
 */
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len);

/* Zero len bytes at guest physical gpa; -EFAULT if out of RAM. */
int gm_zero(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

#endif
