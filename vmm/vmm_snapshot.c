/*
 * A VM saved to a directory, and a VM started from one (the format is
 * include/husk/snapshot.h). Saving pauses the VM for good: the vCPUs park
 * with no I/O half-done and the event thread stops, so that nothing moves
 * while the state is read. Restoring replaces the boot steps of
 * vmm_create(): RAM from the file, then the devices, the vCPUs and last the
 * VM's own state (interrupt controllers, timers, clock).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>

#include "boot/boot.h"
#include "husk/cleanup.h"
#include "husk/path.h"
#include "husk/snapshot.h"
#include "log.h"
#include "snapshot/snap_file.h"
#include "snapshot/snap_mem.h"
#include "vmm_priv.h"

#ifndef HUSK_VERSION
#define HUSK_VERSION "0.0.0"
#endif

#define VMM_SNAP_NAME_MAX 32

/* --- what identifies a VM: the same on both sides ------------------------ */

static int vmm_snap_cmdline_hash(const struct vmm *m, uint64_t *out)
{
	struct cmdline *devices = malloc(sizeof(*devices)), *cl = malloc(sizeof(*cl));
	int r = -ENOMEM;

	if (devices && cl) {
		cmdline_init(devices);
		if ((r = devmgr_cmdline(&m->dm, devices)) == 0 &&
		    (r = boot_build_cmdline(cl, m->cfg, m->flavour, devices->buf)) == 0)
			*out = snap_hash_bytes(cl->buf, cl->len);
	}
	free(devices);
	free(cl);
	return r;
}

/*
 * The identity of a file in *stat_id and the hash of its contents in *out;
 * the hash saved beside the same identity (saved_stat, saved_hash) is taken
 * as it is, without reading the file (a template's kernel, on every restore).
 */
static int vmm_snap_file_hash(const char *what, const char *path, uint64_t saved_stat,
			      uint64_t saved_hash, uint64_t *stat_id, uint64_t *out)
{
	struct husk_err e = { 0 };
	*out = *stat_id = 0;
	if (!path)
		return 0;
	int r = snap_hash_stat(path, stat_id, &e);
	if (r == 0 && *stat_id == saved_stat)
		*out = saved_hash;
	else if (r == 0)
		r = snap_hash_file(path, out, &e);
	if (r < 0)
		log_err("snapshot", "%s: %s", what, e.msg);
	return r;
}

/*
 * The header fields that must match between a saved VM and its restore;
 * saved: the header restored from (NULL when saving).
 */
static int vmm_snap_identity(const struct vmm *m, const struct snap_header *saved,
			     struct snap_header *h)
{
	static const struct snap_header none;
	int r;

	memset(h, 0, sizeof(*h));
	snprintf(h->arch, sizeof(h->arch), "%s", ARCH_NAME);
	snprintf(h->flavour, sizeof(h->flavour), "%s", m->flavour->name);
	snprintf(h->husk_version, sizeof(h->husk_version), "%s", HUSK_VERSION);
	h->mem_bytes = m->cfg->mem_bytes;
	h->vcpus = m->cfg->vcpus;
	if (!saved)
		saved = &none;
	if ((r = vmm_snap_file_hash("--kernel", m->cfg->kernel, saved->kernel_stat,
				    saved->kernel_hash, &h->kernel_stat, &h->kernel_hash)) < 0 ||
	    (r = vmm_snap_file_hash("--initrd", m->cfg->initrd, saved->initrd_stat,
				    saved->initrd_hash, &h->initrd_stat, &h->initrd_hash)) < 0)
		return r;
	return 0;
}

/* The identity that needs the devices: command line and layout. */
static int vmm_snap_device_identity(const struct vmm *m, struct snap_header *h)
{
	h->layout_hash = devmgr_layout_hash(&m->dm);
	return vmm_snap_cmdline_hash(m, &h->cmdline_hash);
}

/* --- saving ------------------------------------------------------------- */

static int vmm_snap_put(struct snap_writer *w, const char *name, void *blob, size_t len)
{
	int r = snap_put(w, name, blob, len);
	if (r < 0)
		log_err("snapshot", "section %s: %s", name, strerror(-r));
	return r;
}

static int vmm_save_state(struct vmm *m, struct snap_writer *w)
{
	char name[VMM_SNAP_NAME_MAX];
	int r;

	{
		cleanup_free void *blob = NULL;
		size_t len = 0;
		if ((r = arch_vm_save(&m->vm, &blob, &len)) < 0 ||
		    (r = vmm_snap_put(w, "vm", blob, len)) < 0)
			return r;
	}
	for (unsigned i = 0; i < m->nvcpus; i++) {
		cleanup_free void *blob = NULL;
		size_t len = 0;
		snprintf(name, sizeof(name), "vcpu%u", i);
		if ((r = arch_vcpu_save(&m->vcpus[i], &blob, &len)) < 0 ||
		    (r = vmm_snap_put(w, name, blob, len)) < 0)
			return r;
	}
	{
		cleanup_free void *blob = NULL;
		size_t len = 0;
		if ((r = devmgr_save(&m->dm, &blob, &len)) < 0 ||
		    (r = vmm_snap_put(w, "devices", blob, len)) < 0)
			return r;
	}
	{
		cleanup_free void *blob = NULL;
		size_t len = 0;
		if ((r = arch_platform_save(m->platform, &blob, &len)) < 0 ||
		    (r = vmm_snap_put(w, "platform", blob, len)) < 0)
			return r;
	}
	return 0;
}

int vmm_save(struct vmm *m, const char *dir)
{
	struct snap_writer w;
	struct snap_header h;
	struct husk_err e = { 0 };
	char path[PATH_MAX];
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, SNAP_MEMORY_FILE) >= (int)sizeof(path)) {
		log_err("snapshot", "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		log_err("snapshot", "%s: %s", dir, strerror(errno));
		return r;
	}
	/* for good: the VM is not resumed after this */
	if ((r = vmm_pause(m)) < 0) {
		log_err("snapshot", "the vCPUs did not stop: %s", strerror(-r));
		return r;
	}
	el_stop(&m->el);
	if ((r = vmm_snap_identity(m, NULL, &h)) < 0 || (r = vmm_snap_device_identity(m, &h)) < 0)
		return r;
	h.created = (uint64_t)time(NULL);
	h.key = m->cfg->snapshot_key;
	snap_writer_init(&w);
	/* the memory first: the state file's presence says the pair is whole */
	if ((r = vmm_save_state(m, &w)) == 0 && ((r = snap_mem_save(&m->vm.mem, path, &e)) < 0 ||
						 (r = snap_writer_commit(&w, dir, &h, &e)) < 0))
		log_err("snapshot", "%s", e.msg);
	snap_writer_free(&w);
	return r;
}

int vmm_snapshot(const struct vmm_config *cfg, int ready_timeout_ms, struct timing *t)
{
	struct vmm *m;
	const char *reason;
	int r = vmm_create(&m, cfg, t);
	if (r < 0)
		return r;
	if ((r = vmm_start(m)) == 0) {
		r = vmm_wait_ready(m, ready_timeout_ms);
		if (r == -ETIMEDOUT)
			log_err("snapshot", "the guest agent was not ready within %d s",
				ready_timeout_ms / 1000);
		if (r == 0)
			r = vmm_save(m, cfg->snapshot_dir);
		vmm_stop(m, r == 0 ? 0 : 1, r == 0 ? "saved" : "not saved");
		int status = vmm_wait(m, &reason);
		if (r == -ECANCELED)
			log_err("snapshot", "the VM ended before its agent was ready: %s", reason);
		if (r == 0 && status != 0)
			r = -EIO;
	}
	vmm_destroy(m);
	return r;
}

/* --- restoring ---------------------------------------------------------- */

static int vmm_snap_refuse(const struct vmm *m, const char *what)
{
	log_err("snapshot", "%s: %s", m->cfg->restore_dir, what);
	return -EINVAL;
}

int vmm_restore_open(struct vmm *m)
{
	struct husk_err e = { 0 };
	struct snap_header want;
	char why[256];
	int r;

	m->restore = calloc(1, sizeof(*m->restore));
	if (!m->restore)
		return -ENOMEM;
	if ((r = snap_reader_open(m->restore, m->cfg->restore_dir, &e)) < 0) {
		free(m->restore);
		m->restore = NULL;
		log_err("snapshot", "%s", e.msg);
		return r;
	}
	const struct snap_header *h = &m->restore->h;
	if ((r = vmm_snap_identity(m, h, &want)) < 0)
		return r;
	if (strncmp(h->arch, want.arch, sizeof(h->arch)) != 0)
		snprintf(why, sizeof(why), "saved on %.16s, this is %s", h->arch, want.arch);
	else if (strncmp(h->flavour, want.flavour, sizeof(h->flavour)) != 0)
		snprintf(why, sizeof(why), "saved under %.16s KVM, this host has %s", h->flavour,
			 want.flavour);
	else if (h->kernel_hash != want.kernel_hash)
		snprintf(why, sizeof(why), "saved with another kernel than %s", m->cfg->kernel);
	else if (h->initrd_hash != want.initrd_hash)
		snprintf(why, sizeof(why), "saved with another initramfs than %s",
			 m->cfg->initrd ? m->cfg->initrd : "none");
	else if (h->mem_bytes != want.mem_bytes)
		snprintf(why, sizeof(why), "saved with %llu MiB of RAM, not %llu MiB",
			 (unsigned long long)(h->mem_bytes >> 20),
			 (unsigned long long)(want.mem_bytes >> 20));
	else if (h->vcpus != want.vcpus)
		snprintf(why, sizeof(why), "saved with %u vCPUs, not %u", h->vcpus, want.vcpus);
	else
		return 0;
	return vmm_snap_refuse(m, why);
}

int vmm_restore_memory(struct vmm *m)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", m->cfg->restore_dir, SNAP_MEMORY_FILE) >=
	    (int)sizeof(path))
		return vmm_snap_refuse(m, "path too long");
	struct husk_err e = { 0 };
	int r = snap_mem_load(&m->vm.mem, path, &e);
	if (r < 0)
		log_err("snapshot", "%s", e.msg);
	return r;
}

/* A section that must be there. */
static const void *vmm_snap_get(struct vmm *m, const char *name, size_t *len)
{
	const void *p = snap_get(m->restore, name, len);
	if (!p) {
		char why[64];
		snprintf(why, sizeof(why), "no %s state", name);
		vmm_snap_refuse(m, why);
	}
	return p;
}

int vmm_restore_devices(struct vmm *m)
{
	const struct snap_header *h = &m->restore->h;
	const void *p;
	uint64_t cmdline_hash;
	size_t len;
	int r;

	if (h->layout_hash != devmgr_layout_hash(&m->dm))
		return vmm_snap_refuse(m, "saved with other devices than these (their kinds, "
					  "order or settings differ)");
	if ((r = vmm_snap_cmdline_hash(m, &cmdline_hash)) < 0)
		return r;
	if (h->cmdline_hash != cmdline_hash)
		return vmm_snap_refuse(m, "saved with another kernel command line");
	if (!(p = vmm_snap_get(m, "devices", &len)) || (r = devmgr_restore(&m->dm, p, len)) < 0)
		return p ? r : -EINVAL;
	if (!(p = vmm_snap_get(m, "platform", &len)) ||
	    (r = arch_platform_restore(m->platform, p, len)) < 0)
		return p ? r : -EINVAL;
	return 0;
}

int vmm_restore_vcpu(struct vmm *m, struct vcpu *v)
{
	char name[VMM_SNAP_NAME_MAX];
	size_t len;
	snprintf(name, sizeof(name), "vcpu%u", v->id);
	const void *p = vmm_snap_get(m, name, &len);
	return p ? arch_vcpu_restore(v, p, len) : -EINVAL;
}

int vmm_restore_vm(struct vmm *m)
{
	size_t len;
	const void *p = vmm_snap_get(m, "vm", &len);
	return p ? arch_vm_restore(&m->vm, p, len) : -EINVAL;
}

void vmm_restore_console(struct vmm *m)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", m->cfg->restore_dir, SNAP_CONSOLE_FILE) >=
	    (int)sizeof(path))
		return;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(m->console_fd, fd, &off, (size_t)(st.st_size - off));
		if (n <= 0)
			break;
	}
}

void vmm_restore_close(struct vmm *m)
{
	if (!m->restore)
		return;
	snap_reader_close(m->restore);
	free(m->restore);
	m->restore = NULL;
}
