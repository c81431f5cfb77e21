/*
 * A saved VM (a snapshot, or a template once husk's cache keeps it): the
 * on-disk format, written down once. husk-vmm writes and reads it
 * (vmm/snapshot/); husk reads the header to tell a usable template from a
 * foreign or damaged one (common/snap_header.c, host only: it needs zlib).
 *
 * A snapshot is a directory DIR holding two files:
 *
 *   DIR/state   the header below, then sections: the VM's, each vCPU's and
 *               each device's state as opaque blobs, each named
 *   DIR/memory  guest RAM, byte for byte (offset = offset in the RAM memfd),
 *               a sparse file: only the pages that were not zero hold data,
 *               the rest are holes; its size is the RAM size (mem_bytes)
 *
 * Every integer is little-endian. Each file is written to a temporary name,
 * fsync'd and renamed into place, so a reader never sees half a file.
 *
 * state:
 *
 *   offset  size  what
 *   0       256   struct snap_header (SNAP_HEADER_SIZE bytes, layout below)
 *   256     ...   section_count sections, back to back; each is
 *                   0   char name[32]   1-31 printable ASCII characters
 *                                       (no space), then NULs to the end
 *                   32  u32 length      bytes of data that follow
 *                   36  u32 crc         zlib crc32() of those bytes
 *                   40  data[length]    then zero bytes up to a multiple of 8
 *                 (SNAP_SECTION_HDR_SIZE = 40, so every record starts on 8)
 *   state_size    end of file: nothing may follow the last section
 *
 * A reader refuses a file that is larger than SNAP_STATE_MAX, has more than
 * SNAP_MAX_SECTIONS sections, a section that runs past the end, a bad CRC
 * anywhere, two sections of one name, or bytes after the last section.
 * Sections are found by name; their order carries no meaning.
 *
 * The hashes of the kernel, initramfs and command line say which boot the
 * saved guest came from (snap_hash_bytes, snap_hash_file below): they are an
 * identity check against mix-ups and stale files, not a security measure.
 * Anyone who can write DIR can make husk-vmm run any guest state (the same
 * holds for the kernel image itself).
 */
#ifndef HUSK_SNAPSHOT_H
#define HUSK_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "husk/error.h"

#define SNAP_STATE_FILE	 "state"
#define SNAP_MEMORY_FILE "memory"
/* Optional: the console output of the boot that made the snapshot (a template's). */
#define SNAP_CONSOLE_FILE "console.log"

#define SNAP_MAGIC		 "HUSKSNAP" /* 8 bytes, no NUL on disk */
#define SNAP_MAGIC_LEN		 8
#define SNAP_VERSION		 1
#define SNAP_HEADER_SIZE	 256
#define SNAP_NAME_SIZE		 32 /* a section name: up to 31 characters and a NUL */
#define SNAP_SECTION_HDR_SIZE	 40
#define SNAP_SECTION_ALIGN	 8
#define SNAP_STATE_MAX		 (64ULL << 20) /* the whole state file */
#define SNAP_MAX_SECTIONS	 4096
#define SNAP_PAGE_SIZE		 4096 /* the memory file's unit of holes */
#define SNAP_HEADER_STRING_SIZE	 16   /* arch, flavour */
#define SNAP_VERSION_STRING_SIZE 32   /* husk_version */

/*
 * The header, as it is on disk (little-endian; every field at its natural
 * alignment, so the struct has no padding: the static asserts in
 * common/snap_header.c pin each offset). Strings are NUL-terminated within
 * their field; a reader refuses one that is not.
 */
struct snap_header {
	/* 0: "HUSKSNAP" (SNAP_MAGIC), no NUL */
	char magic[8];
	/* 8: SNAP_VERSION; another is refused, never guessed at */
	uint32_t version;
	/* 12: SNAP_HEADER_SIZE; where the first section starts */
	uint32_t header_size;
	/* 16: the VMM's arch port ("x86_64") */
	char arch[SNAP_HEADER_STRING_SIZE];
	/* 32: the host's KVM flavour ("kvm", "kvm_pvm"): its CPUID masks and command line are
	 * the saved guest's */
	char flavour[SNAP_HEADER_STRING_SIZE];
	/* 48: snap_hash_file() of the kernel image booted */
	uint64_t kernel_hash;
	/* 56: snap_hash_file() of the initramfs, 0 without one */
	uint64_t initrd_hash;
	/* 64: snap_hash_bytes() of the whole kernel command line */
	uint64_t cmdline_hash;
	/* 72: the device layout: devmgr_layout_hash() (each slot's device, window and IRQ) */
	uint64_t layout_hash;
	/* 80: guest RAM bytes, the size of DIR/memory */
	uint64_t mem_bytes;
	/* 88: opaque to husk-vmm: husk's template cache puts its key's hash here (0 unused) */
	uint64_t key;
	/* 96: when the snapshot was written, Unix seconds */
	uint64_t created;
	/* 104: vCPUs of the saved guest */
	uint32_t vcpus;
	/* 108: the sections that follow the header (at most SNAP_MAX_SECTIONS) */
	uint32_t section_count;
	/* 112: bytes in DIR/state, header included (at most SNAP_STATE_MAX) */
	uint64_t state_size;
	/* 120: the version of husk-vmm that wrote it ("0.1.0") */
	char husk_version[SNAP_VERSION_STRING_SIZE];
	/* 152: zlib crc32() of bytes [header_size, state_size): every section record, their
	 * headers and padding included */
	uint32_t sections_crc;
	/* 156: zero; a version 1 reader ignores it (header_crc still covers it) */
	uint32_t reserved0;
	/*
	 * 160, 168: snap_hash_stat() of the kernel image and of the initramfs
	 * files as they were hashed (0: not recorded, as by a writer before
	 * them). A restore whose file has the same takes kernel_hash or
	 * initrd_hash as its own instead of reading the whole file again.
	 */
	uint64_t kernel_stat;
	uint64_t initrd_stat;
	/* 176: zero, ignored by a version 1 reader */
	uint8_t reserved[76];
	/* 252: zlib crc32() of bytes [0, 252) of the header */
	uint32_t header_crc;
};

/*
 * The header of DIR/state: reads it and checks magic, version, header size,
 * header CRC, that every string is terminated, and that the file is
 * state_size bytes long. Does not read the sections (husk-vmm's reader
 * checks those). -errno and a message naming DIR on failure: "DIR: not a
 * husk snapshot", "DIR: format version 2, this husk reads 1", "DIR: truncated
 * ...", "DIR: header checksum mismatch".
 */
int snap_header_read(const char *dir, struct snap_header *h, struct husk_err *e);

/*
 * Open DIR/SNAP_STATE_FILE for reading (its path into path, its stat into
 * st): the descriptor, or a negative errno with e saying why ("not a husk
 * snapshot" when there is none, or not a regular file).
 */
struct stat;
int snap_state_open(const char *dir, char *path, size_t n, struct stat *st, struct husk_err *e);

/*
 * The same checks on the first len bytes of a state file in memory (len may
 * be less than a header: "truncated"), what naming it in messages. h gets
 * the header in host byte order.
 */
int snap_header_decode(const void *buf, size_t len, struct snap_header *h, const char *what,
		       struct husk_err *e);

/*
 * h to its on-disk form in out: sets magic, version and header_size, zeroes
 * the reserved bytes, computes header_crc (stored in h too). The caller fills
 * the rest, section_count, state_size and sections_crc included.
 */
void snap_header_encode(struct snap_header *h, uint8_t out[SNAP_HEADER_SIZE]);

/*
 * A 64-bit identity hash of bytes (not a security measure; see above):
 * FNV-1a 64 over little-endian 8-byte words, each step
 *   h ^= w; h *= 0x100000001b3; h ^= h >> 32;
 * from h = 0xcbf29ce484222325; the 1-7 bytes left over are each a word of
 * their own, and the length in bytes is a last word. About 3 GB/s here:
 * snap_hash_file of a 20 MB kernel in the page cache takes about 9 ms.
 */
uint64_t snap_hash_bytes(const void *buf, size_t len);

/* snap_hash_bytes of a whole file's contents. */
int snap_hash_file(const char *path, uint64_t *out, struct husk_err *e);

/*
 * snap_hash_bytes of what stat(2) says of a file that changes whenever its
 * contents do: device, inode, size and change time (which no user can set
 * back). Never 0.
 */
int snap_hash_stat(const char *path, uint64_t *out, struct husk_err *e);

#endif
