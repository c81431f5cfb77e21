/* Errors that carry a message and gain context on the way up. */
#include "husk/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int husk_err_set(struct husk_err *e, int code, const char *fmt, ...)
{
	if (code <= 0)
		code = EINVAL;
	if (e && e->code == 0) {
		va_list ap;
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -(e && e->code ? e->code : code);
}

int husk_err_wrap(struct husk_err *e, const char *fmt, ...)
{
	char prefix[HUSK_ERR_MSG_MAX], old[HUSK_ERR_MSG_MAX];
	va_list ap;

	if (!e)
		return -EINVAL;
	if (e->code == 0)
		e->code = EINVAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	/* the context first; what does not fit of the old message is cut */
	size_t n = strnlen(prefix, sizeof(e->msg) - 3);
	memcpy(e->msg, prefix, n);
	memcpy(e->msg + n, ": ", 2);
	size_t room = sizeof(e->msg) - n - 3;
	size_t m = strnlen(old, room);
	memcpy(e->msg + n + 2, old, m);
	e->msg[n + 2 + m] = '\0';
	return -e->code;
}
