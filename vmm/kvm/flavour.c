#include "kvm/flavour.h"

#include <sys/stat.h>

#include "husk/path.h"

const struct kvm_flavour *flavour_detect(enum flavour_choice choice, const char *sysfs_root)
{
	if (choice == FLAVOUR_AUTO) {
		cleanup_free char *path = path_alloc("%s/module/kvm_pvm", sysfs_root);
		struct stat st;
		choice = path && stat(path, &st) == 0 ? FLAVOUR_PVM : FLAVOUR_HARDWARE;
	}
	return arch_flavour(choice);
}
