/*
 * A container's VM from a template: instead of booting, husk-vmm restores a
 * VM saved once its agent was ready, kept in a cache directory (the host
 * library client/template.h) under a key of everything the guest saw at
 * boot: kernel, initramfs, husk version, RAM, vCPUs, command line and the
 * devices (kinds, order, tags, MACs, MTUs), not their back ends. The first
 * container of a key boots a template VM (no back ends: no share served, no
 * tap) and saves it; every later one restores it and attaches its own
 * back ends (husk-vmm's --restore). A container whose root is an image, or
 * that asks for a cold boot, boots as before.
 */
#ifndef HUSK_SHIM_SPEC_TEMPLATE_H
#define HUSK_SHIM_SPEC_TEMPLATE_H

#include "spec_run.h"

/* The annotation that makes one container boot cold: "cold". */
#define SPEC_TEMPLATE_ANNOTATION "io.husk.template"

/*
 * Pick (building it if need be) the template for sr's VM and set
 * sr->cfg.restore_dir to it: 1 when the VM is to be restored, 0 when it
 * boots cold (templates off, not possible for this container, or the
 * template could not be had: logged), negative errno only when the
 * container must not run at all.
 */
int spec_template_pick(struct spec_run *sr, bool rebuild);

#endif
