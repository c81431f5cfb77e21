/*
 * DIR/state of a snapshot (the format: include/husk/snapshot.h): named
 * sections of opaque bytes behind the header, all held in memory.
 *
 * Writing: snap_writer_init, snap_put per section (the bytes are copied),
 * snap_writer_commit, snap_writer_free. A failed snap_put is remembered and
 * also fails the commit, so a caller may check only the commit.
 *
 * Reading: snap_reader_open checks the whole file (header, every section's
 * bounds and CRC, the sections' CRC, names unique) before anything is handed
 * out; snap_get then finds a section by name. The file is hostile input: a
 * damaged one is refused with a message, never half-used.
 */
#ifndef HUSK_SNAP_FILE_H
#define HUSK_SNAP_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "husk/error.h"
#include "husk/snapshot.h"

struct snap_wsection {
	char name[SNAP_NAME_SIZE];
	void *data;
	uint32_t len;
};

struct snap_writer {
	struct snap_wsection *secs;
	unsigned count, cap;
	uint64_t size;	     /* of the state file so far, header included */
	struct husk_err err; /* the first failed snap_put */
};

void snap_writer_init(struct snap_writer *w);

/*
 * Add a section: name 1-31 printable ASCII characters, not in use yet; the
 * len bytes of blob are copied (blob may be NULL when len is 0). -EINVAL
 * for a bad or repeated name, -EFBIG past SNAP_STATE_MAX, -ENOMEM.
 */
int snap_put(struct snap_writer *w, const char *name, const void *blob, size_t len);

/*
 * Write DIR/state (DIR is made if missing, mode 0700) through a temporary
 * file, fsync and rename. The caller fills h's identity (arch, flavour,
 * hashes, mem_bytes, key, vcpus, husk_version; created, if 0, becomes now);
 * the commit fills magic, version, header_size, section_count, state_size
 * and the CRCs, in h too.
 */
int snap_writer_commit(struct snap_writer *w, const char *dir, struct snap_header *h,
		       struct husk_err *e);

void snap_writer_free(struct snap_writer *w);

struct snap_section {
	const char *name; /* into buf */
	const uint8_t *data;
	uint32_t len;
};

struct snap_reader {
	struct snap_header h; /* host byte order */
	uint8_t *buf;	      /* the whole state file */
	size_t size;
	struct snap_section *secs; /* sorted by name */
	unsigned count;
};

/* Read and check DIR/state; on failure r holds nothing to close. */
int snap_reader_open(struct snap_reader *r, const char *dir, struct husk_err *e);

/*
 * The same checks on a state file already in memory: buf (from malloc) is
 * the reader's from now on, freed on failure too; what names it in messages.
 */
int snap_reader_parse(struct snap_reader *r, void *buf, size_t len, const char *what,
		      struct husk_err *e);

/* The bytes of section name (len set, if not NULL), or NULL if there is none such. */
const void *snap_get(const struct snap_reader *r, const char *name, size_t *len);

void snap_reader_close(struct snap_reader *r);

#endif
