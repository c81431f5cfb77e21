/*
 * The cache of VM templates: booted VMs saved to disk, one directory per
 * key, from which husk-vmm restores a container's VM instead of booting it.
 * Host only; the code is client/template.c.
 *
 *	CACHE/                    tpl_cache_dir(): --template-dir, $HUSK_TEMPLATE_DIR,
 *	                          or /var/cache/husk/templates (made 0700)
 *	CACHE/NAME/state, memory  a template, complete: only ever renamed into place
 *	CACHE/NAME.lock           the key's flock (shared: using; exclusive: changing)
 *	CACHE/NAME.tmp-PID/       a build in progress (or a crashed one, removed by the
 *	                          next exclusive holder)
 *	CACHE/NAME.old-PID/       a template moved aside before its removal
 *
 * NAME is tpl_key_name() of the key (any [A-Za-z0-9_-] name works: no dots,
 * so no name is the prefix of another's working files). Every change to
 * CACHE/NAME happens under the exclusive lock, so a holder of the shared
 * lock sees it either absent or complete. The lock file's mtime is when the
 * template was last used.
 *
 * The cache keeps at most TPL_KEEP templates: a build removes the ones
 * used least lately beyond that, except those in use at that moment.
 */
#ifndef HUSK_CLIENT_TEMPLATE_H
#define HUSK_CLIENT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "husk/error.h"

#define TPL_DEFAULT_DIR "/var/cache/husk/templates"
#define TPL_DIR_ENV	"HUSK_TEMPLATE_DIR"
#define TPL_NAME_MAX	64 /* a name's length, without the NUL */
#define TPL_STATE_FILE	"state"
#define TPL_MEMORY_FILE "memory"
#define TPL_KEEP	16 /* templates the cache keeps (16-30 MiB each for a 128 MiB guest) */

/*
 * The cache directory: option if given (not NULL, not ""), else
 * $HUSK_TEMPLATE_DIR, else TPL_DEFAULT_DIR; made if missing (0700, its
 * missing parents 0755), written to out as an absolute path.
 */
int tpl_cache_dir(char *out, size_t n, const char *option, struct husk_err *e);

/* What a template depends on: plain values the caller computes (tpl_hash for the hashes). */
struct tpl_key {
	uint64_t kernel_hash;  /* of the guest kernel image */
	uint64_t initrd_hash;  /* of the initramfs */
	const char *version;   /* husk's version string (NULL is "") */
	uint32_t vcpus;	       /* the VM's vCPUs */
	uint64_t ram_bytes;    /* the VM's RAM */
	uint64_t cmdline_hash; /* of the guest kernel's command line */
	uint64_t layout_hash;  /* of the device layout */
};

/* FNV-1a, 64 bits: h = TPL_HASH_INIT, then tpl_hash(h, ...) over each piece. */
#define TPL_HASH_INIT 0xcbf29ce484222325ULL
uint64_t tpl_hash(uint64_t h, const void *p, size_t len);

/*
 * The key's name: 16 lowercase hex digits, the FNV-1a 64 (tpl_hash) of the
 * text "husk-template 1\nkernel %016llx\ninitrd %016llx\nversion %zu %s\n
 * vcpus %u\nram %llu\ncmdline %016llx\nlayout %016llx\n" (the version's
 * length before it: no two keys write the same text). Stable across hosts
 * and builds; a change of this text is a change of every name. n must be
 * more than 16; returns 0, or -ENAMETOOLONG.
 */
int tpl_key_name(const struct tpl_key *k, char *out, size_t n);

/* Whether name is a template name the cache takes: [A-Za-z0-9_-], 1 to TPL_NAME_MAX. */
bool tpl_name_valid(const char *name);

/*
 * What tpl_acquire does with the caller: build fills tmpdir (an empty
 * directory, 0700) with a template's files, TPL_STATE_FILE and
 * TPL_MEMORY_FILE; check says whether the template in dir is good (NULL:
 * only its two files must be there), its message the reason when it is not.
 * use (NULL: none) is called with the good template's dir while its lock
 * is still held, so that no tpl_remove can take its files away while it
 * opens or reads them (a restore: quick, not the VM's whole life). All
 * three return 0 or a negative errno with e set. log (NULL: stderr,
 * "husk: " before it) gets the line said when a bad template is rebuilt.
 */
struct tpl_ops {
	int (*build)(void *ctx, const char *tmpdir, struct husk_err *e);
	int (*check)(void *ctx, const char *dir, struct husk_err *e);
	int (*use)(void *ctx, const char *dir, struct husk_err *e);
	void (*log)(void *ctx, const char *line);
};

/*
 * The template CACHE/NAME, built if need be; its path in dir_out, *built
 * (if not NULL) true when this call built it.
 *
 * First under the key's shared lock: a template there that passes the
 * checks is used (acquirers of a good template do not wait on each other).
 * Otherwise under the exclusive lock, looking again: leftover NAME.tmp-* and
 * NAME.old-* are removed; a template that fails its checks is logged
 * ("template NAME: WHY; rebuilding"), moved aside and removed; then, unless
 * another acquirer built it meanwhile, it is built into NAME.tmp-PID,
 * checked, its files and directory fsync'd, renamed to NAME and the cache
 * directory fsync'd. A failed build leaves nothing. Concurrent acquirers of
 * one key build it once. Then ops->use, the lock still held (the shared
 * one, or the exclusive one after a build); its failure is returned as it
 * is, nothing rebuilt. A use marks the template used now; after a build the
 * cache is pruned to TPL_KEEP templates (tpl_prune).
 *
 * Once this returns no lock is held: a tpl_remove may take the template
 * away. What is not done in ops->use must cope with its files gone (an
 * open file stays readable).
 */
int tpl_acquire(const char *cache, const char *name, const struct tpl_ops *ops, void *ctx,
		char *dir_out, size_t n, bool *built, struct husk_err *e);

/* One template of the cache, as tpl_list gives it. */
struct tpl_entry {
	const char *name;
	uint64_t bytes; /* on disk (st_blocks), its files together */
	time_t mtime;	/* of its directory: when it was put in place */
};

/*
 * Call fn for each template of the cache, by name; working files (locks,
 * builds, templates being removed) are left out. A non-zero return of fn
 * ends the walk and is returned. 0, or a negative errno.
 */
int tpl_list(const char *cache, int (*fn)(void *ctx, const struct tpl_entry *t), void *ctx,
	     struct husk_err *e);

/*
 * Remove template NAME (under its exclusive lock: a build in progress ends
 * first), and its lock file and leftovers. -ENOENT, said, when there is no
 * such template.
 */
int tpl_remove(const char *cache, const char *name, struct husk_err *e);

/*
 * Remove the templates used least lately (their lock file's mtime) until
 * at most keep are left, never `spare` (NULL: none) nor one whose lock is
 * held (in use, or being built or removed): best effort, a template that
 * cannot be removed stays. Returns how many were removed.
 */
unsigned tpl_prune(const char *cache, unsigned keep, const char *spare);

/* Remove every template of the cache and every leftover; *removed: how many templates. */
int tpl_remove_all(const char *cache, unsigned *removed, struct husk_err *e);

#endif
