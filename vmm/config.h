/* husk-vmm's configuration: plain data, parsed from argv, checked before any VM exists. */
#ifndef HUSK_VMM_CONFIG_H
#define HUSK_VMM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_DEFAULT_MEM   (128ULL << 20)
#define CONFIG_MAX_MEM       (1ULL << 40)
#define CONFIG_MAX_VCPUS     254
#define CONFIG_MAX_DISKS     8
#define CONFIG_MAX_FS        4

#define CONFIG_FS_TAG_MAX    36 /* with its NUL */

/* Each device kind's settings, checked once when they are filled in. */
struct disk_config {
	char path[PATH_MAX]; /* a raw image or block device */
	bool read_only;
};

struct fs_config {
	char tag[CONFIG_FS_TAG_MAX]; /* what the guest mounts: mount -t virtiofs TAG */
	const char *dir;             /* the host directory virtiofsd serves */
};

struct vsock_config {
	const char *uds_path; /* the VM's host socket; NULL: no vsock device */
	uint64_t cid;         /* the guest's CID, from 3 */
};

enum flavour_choice { FLAVOUR_AUTO, FLAVOUR_HARDWARE, FLAVOUR_PVM };
enum console_device { CONSOLE_VIRTIO, CONSOLE_SERIAL };

struct vmm_config {
	const char *kernel;
	const char *initrd;         /* NULL: none */
	const char *cmdline;        /* appended to the built-in line */
	uint64_t mem_bytes;
	unsigned vcpus;
	const char *console;        /* NULL or "-": stdout */
	enum console_device console_device;
	const char *timings;        /* NULL: off; "-": stderr */
	const char *kvm_device;
	enum flavour_choice flavour;
	struct disk_config disks[CONFIG_MAX_DISKS];
	unsigned ndisks;
	struct fs_config fs[CONFIG_MAX_FS]; /* virtio-fs shares served by virtiofsd */
	unsigned nfs;
	bool no_rng;
	struct vsock_config vsock;
	const char *spec;           /* NULL, or an OCI config.json to run in the guest */
	const char *container_id;   /* the container's id in the guest (default "husk") */
	const char *control;        /* with --spec: a control socket; start waits for "start" */
	int ready_fd;               /* with --spec: "ready\n" or "error MSG\n" once created; -1 */
	const char *binds_dir;      /* with --spec: the staging directory for host binds, made
				       here; NULL: a fresh /tmp/husk-binds-XXXXXX */
	bool help, version, print_cmdline;
};


/* Parse argv; -EINVAL (with a message on stderr) on bad input. */
int config_parse(struct vmm_config *c, int argc, char **argv);

/* Parse a size like 128M, 1G, 65536; -EINVAL if malformed or it overflows. */
int config_parse_size(const char *s, uint64_t *out);

void config_usage(FILE *f);

#endif
