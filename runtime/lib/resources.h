/*
 * What linux.resources makes of a container's VM: its RAM and vCPUs, and
 * the limits of the host cgroup that holds the whole VM.
 *
 * - RAM: the memory limit rounded up to 2 MiB plus RES_GUEST_RESERVE for the
 *   guest's own kernel and agent, at least RES_MEM_MIN; RES_MEM_DEFAULT
 *   without a limit. Inside, the container's cgroup gets the limit itself.
 * - vCPUs: quota / period rounded up, at most the host's CPUs; 1 without
 *   a quota.
 * - Host cgroup: memory is the VM's RAM plus RES_VM_OVERHEAD (husk-vmm and
 *   its virtiofsd), only when a limit is given; CPU quota, period and shares
 *   as given, so the VM as a whole gets the CPU time the engine allows.
 */
#ifndef HUSK_RUNTIME_RESOURCES_H
#define HUSK_RUNTIME_RESOURCES_H

#include <stdint.h>

#include "host_cgroup.h"
#include "husk/spec.h"

#define RES_MEM_DEFAULT	  (128ULL << 20)
#define RES_MEM_MIN	  (128ULL << 20)
#define RES_GUEST_RESERVE (32ULL << 20)
#define RES_MEM_MAX	  (1ULL << 40) /* what husk-vmm takes at most */
#define RES_VM_OVERHEAD	  (64ULL << 20)
#define RES_CPUS_MAX	  254

void res_vm_size(const struct spec_resources *r, unsigned host_cpus, uint64_t *mem_bytes,
		 unsigned *vcpus);
void res_host_limits(const struct spec_resources *r, uint64_t vm_mem, struct hcg_limits *l);

#endif
