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
 * Create sr's VM (sr->vm, as vmm_create): restored from its template, made
 * first if need be, or booted cold when templates are off, none fits this
 * container, or none could be had (logged). A template refused on restore
 * is made again, once. 0 or a negative errno (logged).
 */
int spec_template_create(struct spec_run *sr, struct timing *t);

#endif
