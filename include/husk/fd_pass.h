/*
 * One file descriptor over a Unix socket (SCM_RIGHTS) with a message of at
 * least one byte: the terminal master for an engine's console socket, the
 * container's pty for the agent. Shared by host and guest; the code is
 * common/fd_pass.c.
 */
#ifndef HUSK_FD_PASS_H
#define HUSK_FD_PASS_H

#include <stddef.h>

/* 0 or a negative errno; retried on EINTR, never raises SIGPIPE. */
int fd_pass_send(int sock, int fd, const void *msg, size_t len);

#endif
