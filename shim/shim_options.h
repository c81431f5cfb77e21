/*
 * husk-vmm's container options (--spec and what goes with it): the shim's
 * own, parsed in the same pass as the VM's (config.h) and listed in the
 * same --help.
 */
#ifndef HUSK_SHIM_OPTIONS_H
#define HUSK_SHIM_OPTIONS_H

#include <stdio.h>

#include "config.h"

struct shim_options {
	const char *spec;	  /* NULL, or an OCI config.json to run in the guest */
	const char *container_id; /* the container's id in the guest (default "husk") */
	const char *control;	  /* with --spec: a control socket; start waits for "start" */
	int ready_fd;		  /* with --spec: "ready\n" or "error MSG\n" once created; -1 */
	const char *binds_dir;	  /* with --spec: the staging directory for host binds, made
				     here; NULL: a fresh /tmp/husk-binds-XXXXXX */
	bool netns_own;		  /* with --spec: husk-vmm runs in the container's network
				     namespace; the VM gets a virtio-net device per link */
	const char *template_dir; /* --template-dir: the cache of VM templates; NULL: none */
	bool no_template;	  /* --no-template: the VM boots cold */
	const char *steps;	  /* with --spec: where the run's steps go ("-": stderr); NULL */
};

/* Parse argv into both; -EINVAL (with a message on stderr) on bad input. */
int shim_options_parse(struct shim_options *o, struct vmm_config *c, int argc, char **argv);

/* husk-vmm --help: the VM's options, the container's, and the exit status. */
void shim_options_usage(FILE *f);

#endif
