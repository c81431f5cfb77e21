/*
 * Paths built from a directory, a bundle, a state root or user input. They
 * have no fixed length: a path either fits where it goes or is refused with
 * a message naming it and the limit, never cut short. Shared by host and
 * guest code; the code is common/path.c.
 */
#ifndef HUSK_PATH_H
#define HUSK_PATH_H

#include <stddef.h>

#include "husk/error.h"

/*
 * Format a path into buf (len bytes). Return 0, or -ENAMETOOLONG when it
 * does not fit: buf is then "" and e (if not NULL) says which path is how
 * long, and the limit.
 */
int path_fmt(struct husk_err *e, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Format a path into a new string for free(); NULL (errno ENOMEM) when out of memory. */
char *path_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For __attribute__((cleanup)): free(*(void **)p). */
void path_freep(void *p);

/* A local pointer freed when it goes out of scope. */
#define cleanup_free __attribute__((cleanup(path_freep)))

#endif
