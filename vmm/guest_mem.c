#include "guest_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "log.h"

int gm_init(struct guest_mem *gm, uint64_t size)
{
	memset(gm, 0, sizeof(*gm));
	gm->memfd = -1;
	if (size < ARCH_MIN_RAM)
		return -EINVAL;

	/* A shared memfd, so that a vhost-user back end can map guest RAM. */
	gm->memfd = memfd_create("husk-guest-ram", MFD_CLOEXEC);
	if (gm->memfd < 0) {
		int e = -errno;
		log_err("mem", "memfd_create: %s", strerror(errno));
		return e;
	}
	if (ftruncate(gm->memfd, (off_t)size) < 0) {
		int e = -errno;
		log_err("mem", "cannot size guest RAM to %llu bytes: %s", (unsigned long long)size,
			strerror(errno));
		close(gm->memfd);
		gm->memfd = -1;
		return e;
	}
	void *p =
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, gm->memfd, 0);
	if (p == MAP_FAILED) {
		int e = -errno;
		log_err("mem", "cannot map %llu bytes of guest RAM: %s", (unsigned long long)size,
			strerror(errno));
		close(gm->memfd);
		gm->memfd = -1;
		return e;
	}
	gm->base = p;
	gm->size = size;

	uint64_t below = ARCH_RAM_GAP_START - ARCH_RAM_START;
	uint64_t low = size < below ? size : below;
	gm->regions[0] = (struct gm_region){ .gpa = ARCH_RAM_START, .size = low, .hva = gm->base };
	gm->nregions = 1;
	if (size > low) {
		gm->regions[1] = (struct gm_region){ .gpa = ARCH_RAM_GAP_END,
						     .size = size - low,
						     .hva = gm->base + low };
		gm->nregions = 2;
	}
	return 0;
}

void gm_destroy(struct guest_mem *gm)
{
	if (gm->base)
		munmap(gm->base, gm->size);
	if (gm->memfd >= 0)
		close(gm->memfd);
	gm->base = NULL;
	gm->memfd = -1;
	gm->nregions = 0;
}

void *gm_gpa_to_hva(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < gm->nregions; i++) {
		const struct gm_region *r = &gm->regions[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		if (off > r->size || len > r->size - off)
			continue;
		return r->hva + off;
	}
	return NULL;
}

uint64_t gm_low_end(const struct guest_mem *gm)
{
	return gm->nregions ? gm->regions[0].gpa + gm->regions[0].size : 0;
}

/* Offset of guest physical gpa in the memfd, for [gpa, gpa+len) in RAM. */
static int gm_offset(const struct guest_mem *gm, uint64_t gpa, uint64_t len, off_t *off)
{
	uint8_t *p = gm_gpa_to_hva(gm, gpa, len);
	if (!p)
		return -EFAULT;
	*off = (off_t)(p - gm->base);
	return 0;
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	off_t off;
	int err = gm_offset(gm, gpa, len, &off);
	if (err)
		return err;
	/*
	 * Writing through the memfd fills its pages in the kernel, without a
	 * page fault and a zeroing per page: a few times faster than faulting
	 * the mapping in and copying, which shows in a VMM's start-up.
	 */
	const uint8_t *s = src;
	for (uint64_t done = 0; done < len;) {
		ssize_t n = pwrite(gm->memfd, s + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? -errno : -EIO;
			log_err("mem", "cannot fill guest RAM at %#llx: %s",
				(unsigned long long)(gpa + done), strerror(-e));
			return e;
		}
		done += (uint64_t)n;
	}
	return 0;
}

int gm_zero(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	off_t off;
	int err = gm_offset(gm, gpa, len, &off);
	if (err)
		return err;
	uint64_t start = ((uint64_t)off + 4095) & ~(uint64_t)4095;
	uint64_t end = ((uint64_t)off + len) & ~(uint64_t)4095;
	/* Whole pages read as zero once their hole is punched: none is allocated. */
	if (start < end && fallocate(gm->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				     (off_t)start, (off_t)(end - start)) == 0) {
		memset(gm->base + off, 0, start - (uint64_t)off);
		memset(gm->base + end, 0, (uint64_t)off + len - end);
	} else {
		memset(gm->base + off, 0, len);
	}
	return 0;
}
