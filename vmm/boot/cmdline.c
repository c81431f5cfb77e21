#include "boot/cmdline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

void cmdline_init(struct cmdline *c)
{
	c->buf[0] = '\0';
	c->len = 0;
}

int cmdline_append(struct cmdline *c, const char *words)
{
	size_t n = strlen(words);
	if (n == 0)
		return 0;
	size_t need = n + (c->len ? 1 : 0);
	if (need >= sizeof(c->buf) - c->len) {
		log_err("cmdline", "kernel command line would exceed %zu bytes",
			sizeof(c->buf) - 1);
		return -E2BIG;
	}
	if (c->len)
		c->buf[c->len++] = ' ';
	memcpy(c->buf + c->len, words, n + 1);
	c->len += n;
	return 0;
}

int cmdline_appendf(struct cmdline *c, const char *fmt, ...)
{
	char tmp[ARCH_CMDLINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		log_err("cmdline", "kernel command line would exceed %zu bytes", sizeof(tmp) - 1);
		return -E2BIG;
	}
	return cmdline_append(c, tmp);
}
