/*
 * husk-vmm --spec: run an OCI config.json's process in the guest, with
 * husk-vmm's own stdin, stdout and stderr as its stdio, and end with its
 * exit status (128+N for signal N). The container's root is what root.path
 * names (relative to the config's directory): an image file becomes the
 * first virtio-blk disk, a directory a virtio-fs share (tag "rootfs");
 * the agent mounts either. A runner thread drives
 * the agent over vsock while the VM runs.
 */
#ifndef HUSK_SHIM_SPEC_RUN_H
#define HUSK_SHIM_SPEC_RUN_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>

#include <jansson.h>

#include "config.h"
#include "shim_options.h"
#include "spec_binds.h"
#include "spec_steps.h"
#include "timing.h"
#include "vmm.h"

struct spec_run {
	json_t *config; /* the config.json as read */
	bool terminal;
	char root[PATH_MAX];   /* root.path, made absolute */
	const char *root_type; /* "ext4", "erofs" or "virtiofs" */
	char tmpdir[64];       /* holds the vsock socket when none was given */
	char uds[PATH_MAX];
	char template_dir[PATH_MAX]; /* the template restored, when one is */
	struct vmm_config cfg;	     /* the caller's, with the root disk and vsock added */
	struct shim_options opts;    /* the caller's */
	struct spec_binds binds;
	bool has_binds;
	struct vmm *vm;
	const volatile int *stopping; /* vmm_stopping(vm) */
	pthread_t thread;
	bool started;
	int status; /* the workload's, as a shell reports it; -1 until known */
	int cancel_efd;

	/* With --control, the runtime (husk) decides when the workload starts. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum spec_state { SPEC_BOOTING, SPEC_CREATED, SPEC_RUNNING, SPEC_STOPPED } state;
	bool paused;
	bool start_requested, start_done;
	int start_result; /* 0 or negative errno, once start_done */
	char start_error[256];
	struct spec_control *ctl;
	struct spec_steps steps; /* marked always, written with --steps */
};

/*
 * The whole run: prepare, build and start the VM (vmm.h), run the
 * container, and return husk-vmm's exit status (see shim_options_usage), or a
 * negative errno when nothing could run (already logged).
 */
int spec_run_vm(const struct vmm_config *cfg, const struct shim_options *opts, struct timing *t);

/*
 * Read and check the config, find the root image, derive the VM's
 * configuration (sr->cfg). Nothing runs yet.
 */
int spec_run_prepare(struct spec_run *sr, const struct vmm_config *cfg,
		     const struct shim_options *opts);

/* Start the runner thread once the VM is about to run. */
int spec_run_start(struct spec_run *sr);

/* After the VM has ended: stop and join the runner, remove what it made. */
void spec_run_finish(struct spec_run *sr);

#endif
