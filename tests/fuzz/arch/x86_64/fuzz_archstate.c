/*
 * libFuzzer target for the x86 state blobs a restore reads (state_blob.c,
 * state_check.c): the input is parsed as a VM blob and as a vCPU blob;
 * a vCPU blob that passes has its CPUID compared with itself and with a
 * copy missing its last leaf, as a restore compares it with the vCPU's.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact copy: any read past the end is the sanitizer's */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	struct x86_vm_state vm;
	struct x86_vcpu_state st;
	(void)x86_vm_state_parse(copy, size, &vm);
	if (x86_vcpu_state_parse(copy, size, &st) == 0) {
		struct kvm_cpuid_entry2 *c = malloc(st.cpuid.len);
		if (c) {
			char why[160];
			memcpy(c, st.cpuid.data, st.cpuid.len);
			if (x86_cpuid_compare(c, st.ncpuid, c, st.ncpuid, why, sizeof(why)) != 0)
				abort(); /* a CPUID always equals itself */
			(void)x86_cpuid_compare(c, st.ncpuid, c, st.ncpuid - 1, why, sizeof(why));
			free(c);
		}
	}
	free(copy);
	return 0;
}
