/* Paths that fit or are refused, never cut short (see husk/path.h). */
#include "husk/path.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A refused path longer than this is named by its two ends, so the message stays short. */
#define PATH_SHOWN 120

/* e <- "PATH: a path of N bytes, longer than the L allowed here" */
static void path_refuse(struct husk_err *e, const char *path, size_t n, size_t limit)
{
	if (n <= PATH_SHOWN)
		husk_err_set(e, ENAMETOOLONG,
			     "%s: a path of %zu bytes, longer than the %zu allowed here", path, n,
			     limit);
	else
		husk_err_set(e, ENAMETOOLONG,
			     "%.*s...%s: a path of %zu bytes, longer than the %zu allowed here",
			     PATH_SHOWN / 2, path, path + n - PATH_SHOWN / 2, n, limit);
}

int path_fmt(struct husk_err *e, char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = len ? vsnprintf(buf, len, fmt, ap) : -1;
	va_end(ap);
	if (n >= 0 && (size_t)n < len)
		return 0;
	if (len)
		buf[0] = '\0';
	if (!e)
		return -ENAMETOOLONG;
	char *full = NULL;
	va_start(ap, fmt);
	if (vasprintf(&full, fmt, ap) < 0)
		full = NULL;
	va_end(ap);
	if (full)
		path_refuse(e, full, strlen(full), len ? len - 1 : 0);
	else
		husk_err_set(e, ENAMETOOLONG, "a path longer than the %zu bytes allowed here",
			     len ? len - 1 : 0);
	free(full);
	return -ENAMETOOLONG;
}

char *path_alloc(const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void path_freep(void *p)
{
	free(*(void **)p);
}
