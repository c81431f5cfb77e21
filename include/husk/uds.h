/*
 * Unix socket addresses of any length. A path longer than sun_path (108
 * bytes: an engine's state root plus a 64-hex container id is already
 * that long) is reached through its directory: "/proc/self/fd/N/NAME",
 * with N an O_PATH descriptor of the directory held for the call.
 * Host only (husk, husk-vmm): the code is common/uds.c, in huskutil.
 */
#ifndef HUSK_UDS_H
#define HUSK_UDS_H

/* bind(2) / connect(2) fd to path. Return 0 or a negative errno. */
int uds_bind(int fd, const char *path);
int uds_connect(int fd, const char *path);

#endif
