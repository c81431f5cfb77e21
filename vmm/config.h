/* husk-vmm's configuration: plain data, parsed from argv, checked before any VM exists. */
#ifndef HUSK_VMM_CONFIG_H
#define HUSK_VMM_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_DEFAULT_MEM (128ULL << 20)
#define CONFIG_MAX_MEM	   (1ULL << 40)
#define CONFIG_MAX_VCPUS   254
#define CONFIG_MAX_DISKS   8
#define CONFIG_MAX_FS	   4
#define CONFIG_MAX_NET	   4

#define CONFIG_NET_MTU_DEFAULT 1500
#define CONFIG_NET_MTU_MIN     68
#define CONFIG_NET_MTU_MAX     65535

#define CONFIG_FS_TAG_MAX 36 /* with its NUL */

/* Each device kind's settings, checked once when they are filled in. */
struct disk_config {
	char path[PATH_MAX]; /* a raw image or block device */
	bool read_only;
};

struct fs_config {
	char tag[CONFIG_FS_TAG_MAX]; /* what the guest mounts: mount -t virtiofs TAG */
	const char *dir;	     /* the host directory virtiofsd serves; NULL: no back end */
};

struct net_config {
	/* opened, or created if absent, in husk-vmm's network namespace; "": no back end */
	char tap[IFNAMSIZ];
	uint8_t mac[6];
	unsigned mtu; /* reported to the guest */
};

struct vsock_config {
	const char *uds_path; /* the VM's host socket; NULL: no vsock device */
	uint64_t cid;	      /* the guest's CID, from 3 */
};

enum flavour_choice { FLAVOUR_AUTO, FLAVOUR_HARDWARE, FLAVOUR_PVM };
enum console_device { CONSOLE_VIRTIO, CONSOLE_SERIAL };

struct vmm_config {
	const char *kernel;
	const char *initrd;  /* NULL: none */
	const char *cmdline; /* appended to the built-in line */
	uint64_t mem_bytes;
	unsigned vcpus;
	const char *console; /* NULL or "-": stdout */
	enum console_device console_device;
	const char *timings; /* NULL: off; "-": stderr */
	const char *kvm_device;
	enum flavour_choice flavour;
	struct disk_config disks[CONFIG_MAX_DISKS];
	unsigned ndisks;
	struct fs_config fs[CONFIG_MAX_FS]; /* virtio-fs shares served by virtiofsd */
	unsigned nfs;
	struct net_config net[CONFIG_MAX_NET]; /* virtio-net devices on taps */
	unsigned nnet;
	bool no_rng;
	struct vsock_config vsock;
	const char *snapshot_dir; /* boot to "agent ready", save the VM there, exit */
	const char *restore_dir;  /* start from the VM saved there instead of booting */
	uint64_t snapshot_key;	  /* with snapshot_dir: the caller's key, in the header */
	bool no_seccomp;	  /* --no-seccomp: no system call filters (unsafe; vmm/seccomp/) */
	bool help, version, print_cmdline;
};

struct option; /* <getopt.h> */

/* The first getopt value free for a caller's own options (config_extra). */
#define CONFIG_OPT_EXTRA 0x1000
#define CONFIG_MAX_EXTRA 16

/*
 * Options that husk-vmm's caller side adds to the VM's own, read in the
 * same pass over argv (so values, abbreviations and "--" behave alike).
 */
struct config_extra {
	const struct option *opts; /* ends with a zeroed entry; val >= CONFIG_OPT_EXTRA */
	/* One of opts with its value (NULL if none); negative errno (logged) stops. */
	int (*option)(void *ctx, int val, const char *arg);
	/* Once argv is read, before the VM settings are checked; negative errno (logged). */
	int (*check)(void *ctx);
	void *ctx;
};

/*
 * Parse argv, with extra's options too unless it is NULL; -EINVAL (with a
 * message on stderr) on bad input.
 */
int config_parse(struct vmm_config *c, int argc, char **argv, const struct config_extra *extra);

/* Parse a decimal count up to UINT32_MAX; -EINVAL if malformed. */
int config_parse_count(const char *s, unsigned *out);

/* Parse a size like 128M, 1G, 65536; -EINVAL if malformed or it overflows. */
int config_parse_size(const char *s, uint64_t *out);

/*
 * Parse "tap=NAME[,mac=XX:XX:XX:XX:XX:XX][,mtu=N]" or "none[,mac=..][,mtu=..]"
 * (a device with no back end: n->tap empty) into n; the MAC defaults
 * to HUSK_DEVICE_MAC_PREFIX (husk/netdev.h) and index, the MTU to 1500. -EINVAL, logged.
 */
int config_parse_net(const char *s, unsigned index, struct net_config *n);

/*
 * What the guest sees of c's devices, as text ("console=virtio rng
 * fs=rootfs net=02:68:75:73:6b:00/1500 vsock=3"): kinds, order and the
 * settings the guest reads, none of the back ends (paths, directories,
 * taps, sockets). 0, or -ENOSPC if it does not fit in n (CONFIG_LAYOUT_MAX
 * always does).
 */
#define CONFIG_LAYOUT_MAX 1024
int config_layout(const struct vmm_config *c, char *buf, size_t n);

/* The VM options' part of husk-vmm --help. */
void config_usage(FILE *f);

#endif
