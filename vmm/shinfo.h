/* shared_info and vcpu_info: where KVM keeps the guest's pvclock, wallclock
 * and event-channel bits (xen-guest-abi.md §4, §8). */
#ifndef DOMUS_VMM_SHINFO_H
#define DOMUS_VMM_SHINFO_H

#include <stdint.h>

struct vm;

/* The guest placed shared_info at gpa (XENMEM_add_to_physmap). */
int shinfo_place(struct vm *vm, int vcpu, uint64_t gpa);
/* vcpu_info of `target` moves to gpa (VCPUOP_register_vcpu_info). */
int shinfo_set_vcpu_info(struct vm *vm, int target, uint64_t gpa, int self);
/* Each vCPU's vcpu_info says its clock was stopped (XEN_PVCLOCK_GUEST_STOPPED
 * in time.flags), before the vCPUs run after a restore: the guest's time
 * jumps by the time it was away, and Linux's pvclock read, seeing the flag,
 * clears it and resets its RCU stall, soft lockup and hung task clocks
 * (arch/x86/kernel/pvclock.c pvclock_touch_watchdogs). */
void shinfo_clock_stopped(struct vm *vm);

#endif
