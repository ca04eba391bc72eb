/* The CPUID a domus guest sees: the host's, minus KVM's own leaves, plus
 * Xen's at 0x40000000 (xen-guest-abi.md §1). */
#ifndef DOMUS_VMM_CPUID_LEAVES_H
#define DOMUS_VMM_CPUID_LEAVES_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct kvm_cpuid2;

bool cpuid_host_is_amd(void);
int cpuid_setup(struct vm *vm, int vcpu);
/* The guest's table from what KVM supports (host), for vCPU vcpu of
 * nr_vcpus: out has room for max entries.  Pure: the tests feed it. */
void cpuid_filter(const struct kvm_cpuid2 *host, struct kvm_cpuid2 *out, uint32_t max, uint32_t nr_vcpus,
		  uint32_t vcpu);

#endif
