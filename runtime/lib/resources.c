/* linux.resources into the VM's size and its host cgroup's limits (see resources.h). */
#include "resources.h"

void res_vm_size(const struct spec_resources *r, unsigned host_cpus, uint64_t *mem_bytes,
		 unsigned *vcpus)
{
	const uint64_t align = 2ULL << 20;
	uint64_t mem = RES_MEM_DEFAULT;
	if (r->memory_limit > 0) {
		uint64_t limit = (uint64_t)r->memory_limit;
		/* beyond what husk-vmm takes, it says so itself */
		mem = limit > RES_MEM_MAX ?
			      RES_MEM_MAX + align :
			      ((limit + align - 1) & ~(align - 1)) + RES_GUEST_RESERVE;
		if (mem < RES_MEM_MIN)
			mem = RES_MEM_MIN;
	}
	*mem_bytes = mem;

	uint64_t n = 1;
	if (r->cpu_quota > 0 && r->cpu_period > 0)
		n = ((uint64_t)r->cpu_quota + r->cpu_period - 1) / r->cpu_period;
	if (host_cpus < 1)
		host_cpus = 1;
	if (n > host_cpus)
		n = host_cpus;
	if (n > RES_CPUS_MAX)
		n = RES_CPUS_MAX;
	*vcpus = (unsigned)(n ? n : 1);
}

void res_host_limits(const struct spec_resources *r, uint64_t vm_mem, struct hcg_limits *l)
{
	l->memory = r->memory_limit > 0 ? vm_mem + RES_VM_OVERHEAD : 0;
	l->cpu_quota = r->cpu_quota;
	l->cpu_period = r->cpu_period;
	l->cpu_shares = r->cpu_shares;
}
