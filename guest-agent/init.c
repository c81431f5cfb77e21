/* PID 1's own duties (see init.h). */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "log.h"

#define INIT_NEWROOT "/.husk-root"

static void init_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		       const char *data)
{
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		agent_log("mkdir %s: %s", dst, strerror(errno));
	if (mount(src, dst, type, flags, data) < 0)
		agent_log("mount %s on %s: %s", type, dst, strerror(errno));
}

void init_filesystems(void)
{
	const unsigned long nosuid = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	/* A tmpfs root that has a parent mount, so that pivot_root works below it. */
	init_mount("root", INIT_NEWROOT, "tmpfs", 0, "mode=755");
	if (chdir(INIT_NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		agent_log("moving to a tmpfs root: %s", strerror(errno));

	init_mount("proc", "/proc", "proc", nosuid, NULL);
	init_mount("sysfs", "/sys", "sysfs", nosuid, NULL);
	init_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=755");
	init_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=620");
	init_mount("shm", "/dev/shm", "tmpfs", nosuid, "mode=1777");
	init_mount("run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755");
	init_mount("cgroup2", "/sys/fs/cgroup", "cgroup2", nosuid, NULL);
	if (mkdir("/tmp", 01777) < 0 && errno != EEXIST)
		agent_log("mkdir /tmp: %s", strerror(errno));
}

bool init_have_vsock(void)
{
	unsigned int cid = VMADDR_CID_ANY;
	int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) < 0)
		cid = VMADDR_CID_ANY;
	close(fd);
	return cid != VMADDR_CID_ANY;
}

bool init_entropy_ready(void)
{
	char b;
	/* the VMM seeds the pool at boot (setup_data) and adds virtio-rng */
	return getrandom(&b, 1, GRND_NONBLOCK) == 1;
}

void init_poweroff(void)
{
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
