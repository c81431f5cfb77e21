/*
 * Guest RAM to and from DIR/memory (include/husk/snapshot.h): a sparse file
 * as large as the RAM that holds only its non-zero pages, so that saving and
 * loading cost what the guest used, not what it was given.
 */
#ifndef HUSK_SNAP_MEM_H
#define HUSK_SNAP_MEM_H

#include "guest_mem.h"
#include "husk/error.h"

/*
 * Write gm's RAM to path (temporary file, fsync, rename): the memfd's data
 * extents (SEEK_DATA/SEEK_HOLE; what the guest never touched is not even
 * read), and of those only the 4 KiB pages that are not all zero.
 */
int snap_mem_save(const struct guest_mem *gm, const char *path, struct husk_err *e);

/*
 * Fill gm's RAM from path, a file of exactly gm->size bytes (another size is
 * refused): the file's data extents are copied to the same offsets, the
 * holes are left as they are, so gm must be fresh (all zero), as gm_init
 * leaves it. Uses (moves) the memfd's file position.
 */
int snap_mem_load(const struct guest_mem *gm, const char *path, struct husk_err *e);

#endif
