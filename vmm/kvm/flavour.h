/*
 * The host's kind of KVM, detected once and turned into data: kernel
 * command-line additions and features to withhold from the guest (the
 * latter the arch's: struct arch_flavour, vmm/arch/arch.h). No other code
 * asks which KVM it runs on.
 */
#ifndef HUSK_KVM_FLAVOUR_H
#define HUSK_KVM_FLAVOUR_H

#include "arch/arch.h"
#include "config.h"

struct kvm_flavour {
	const char *name;
	const char *cmdline;	  /* appended to the kernel command line */
	struct arch_flavour arch; /* the port's: features withheld (arch/defs.h) */
};

/*
 * Resolve choice: FLAVOUR_AUTO looks for the kvm_pvm module under
 * sysfs_root (normally "/sys"). The data comes from arch_flavour().
 */
const struct kvm_flavour *flavour_detect(enum flavour_choice choice, const char *sysfs_root);

#endif
