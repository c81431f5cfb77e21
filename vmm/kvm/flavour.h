/*
 * The host's kind of KVM, detected once and turned into data: kernel
 * command-line additions and CPUID features to withhold. No other code asks
 * which KVM it runs on.
 */
#ifndef HUSK_KVM_FLAVOUR_H
#define HUSK_KVM_FLAVOUR_H

#include <stddef.h>

#include "arch/x86_64/cpuid.h"
#include "config.h"

struct kvm_flavour {
	const char *name;
	const char *cmdline;            /* appended to the kernel command line */
	const struct cpuid_mask *masks;
	size_t nmasks;
};

/*
 * Resolve choice: FLAVOUR_AUTO looks for the kvm_pvm module under
 * sysfs_root (normally "/sys").
 */
const struct kvm_flavour *flavour_detect(enum flavour_choice choice, const char *sysfs_root);

#endif
