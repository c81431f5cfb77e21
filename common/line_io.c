/* One text line from a descriptor (see husk/line_io.h). */
#include "husk/line_io.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

int line_read(int fd, char *line, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	int r = 0;

	while (got + 1 < len) {
		if (poll(&pfd, 1, timeout_ms) != 1) {
			r = -ETIMEDOUT;
			break;
		}
		ssize_t n = read(fd, line + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(line, '\n', got))
			break;
	}
	line[got] = '\0';
	line[strcspn(line, "\n")] = '\0';
	return r;
}
