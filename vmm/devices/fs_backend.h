/*
 * virtiofsd, started for one shared directory and never outliving the VMM:
 * it gets a listening socket of ours (abstract, nothing on disk) and dies
 * with the VMM's main thread (PR_SET_PDEATHSIG) if the teardown never comes.
 * The binary is $HUSK_VIRTIOFSD or Debian's /usr/lib/qemu/virtiofsd.
 */
#ifndef HUSK_DEVICES_FS_BACKEND_H
#define HUSK_DEVICES_FS_BACKEND_H

#include <sys/types.h>

struct fs_backend {
	pid_t pid;
};

/* Start virtiofsd sharing dir; returns a socket connected to it. */
int fsb_start(struct fs_backend *b, const char *dir);
/* Once the VM has ended: SIGTERM, wait for it (SIGKILL after 2 s). */
void fsb_stop(struct fs_backend *b);

#endif
