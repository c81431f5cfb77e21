/*
 * Local resources released when they go out of scope, so that a function
 * with several ways out need not repeat its unwinding on each:
 *
 *	cleanup_close int fd = open(...);   closed if >= 0
 *	cleanup_fclose FILE *f = fopen(...); closed if not NULL
 *
 * (cleanup_free, for malloc'd memory, is in husk/path.h.) To keep one past
 * the scope, take it out: `int keep = fd; fd = -1;`.
 */
#ifndef HUSK_CLEANUP_H
#define HUSK_CLEANUP_H

#include <stdio.h>
#include <unistd.h>

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define cleanup_close  __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))

#endif
