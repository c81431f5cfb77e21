/* PID 1's own duties (see init.h). */
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

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
	if (chdir(INIT_NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 ||
	    chroot(".") < 0 || chdir("/") < 0)
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
	/* a virtio device of type 19 (socket), e.g. /sys/bus/virtio/devices/virtio3/device */
	DIR *d = opendir("/sys/bus/virtio/devices");
	struct dirent *de;
	bool found = false;

	while (d && !found && (de = readdir(d))) {
		char path[300], id[16] = "";
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/device", de->d_name);
		FILE *f = fopen(path, "re");
		if (f) {
			found = fgets(id, sizeof(id), f) && strtoul(id, NULL, 16) == 19;
			fclose(f);
		}
	}
	if (d)
		closedir(d);
	return found;
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
