/*
 * One text line from a descriptor, for the small line protocols between husk
 * and husk-vmm. The code is common/line_io.c.
 */
#ifndef HUSK_LINE_IO_H
#define HUSK_LINE_IO_H

#include <stddef.h>

/*
 * Read up to the first '\n' (or EOF, or len-1 bytes), waiting at most
 * timeout_ms for each read. The line is NUL-terminated without its '\n'.
 * Returns 0, or -ETIMEDOUT when nothing came in time.
 */
int line_read(int fd, char *line, size_t len, int timeout_ms);

#endif
