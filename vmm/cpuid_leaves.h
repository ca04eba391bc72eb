/* The CPUID a domus guest sees: the host's, minus KVM's own leaves, plus
 * Xen's at 0x40000000 (xen-guest-abi.md §1). */
#ifndef DOMUS_VMM_CPUID_LEAVES_H
#define DOMUS_VMM_CPUID_LEAVES_H

#include <stdbool.h>

struct vm;

bool cpuid_host_is_amd(void);
int cpuid_setup(struct vm *vm, int vcpu);

#endif
