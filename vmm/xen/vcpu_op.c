/* vcpu_op (24): vcpu_info placement, timers and runstate (xen-guest-abi.md
 * §3.2 rows 6, 10-14, §8).  Calls may name another vCPU (the BSP sets up each
 * AP before starting it), so per-vCPU KVM state is set on that vCPU's thread. */
#include "hypercall.h"
#include "xen_abi.h"
#include "../evtchn.h"
#include "../vm.h"
#include "../shinfo.h"

#include <errno.h>

/* The port is the one bound when the target's thread makes the change
 * (evtchn.c evtchn_timer_set), not one read here: a close of the timer's
 * port racing on another vCPU would otherwise be undone. */
static int set_timer(struct vm *vm, int target, uint64_t expires_ns, int self)
{
	return evtchn_timer_set(vm, self ? target : -1, (uint32_t)target, expires_ns, true);
}

/* Both areas are given as a guest virtual address (struct
 * vcpu_register_runstate_memory_area and ..._time_memory_area have the same
 * layout); KVM keeps the guest physical one (xen-guest-abi.md §10.11). */
_Static_assert(sizeof(struct vcpu_register_runstate_memory_area) ==
		       sizeof(struct vcpu_register_time_memory_area), "one guest handle each");

static int register_area(struct vm *vm, int vcpu, int target, uint64_t arg, uint16_t type, uint64_t len)
{
	struct vcpu_register_time_memory_area r;
	struct kvm_xen_vcpu_attr at = { .type = type };
	uint64_t gpa;
	int rc = guest_copy_from(vm, vcpu, arg, &r, sizeof(r));

	if (rc < 0)
		return rc;
	if (guest_gva_to_gpa(vm, vcpu, (uint64_t)(uintptr_t)r.addr.v, &gpa) < 0 || !gmem_ptr(&vm->mem, gpa, len))
		return -EFAULT;
	at.u.gpa = gpa;
	return vm_set_vcpu_attr(vm, target, &at, target == vcpu) < 0 ? -EINVAL : 0;
}

int64_t hc_vcpu_op(struct vm *vm, int vcpu, const uint64_t a[6])
{
	uint64_t cmd = a[0], target = a[1], arg = a[2];
	int self;
	int rc;

	if (target >= (uint64_t)vm->nr_vcpus)
		return -ENOENT;
	self = (int)target == vcpu;
	switch (cmd) {
	case VCPUOP_register_vcpu_info: {
		struct vcpu_register_vcpu_info r;
		uint64_t gpa;
		rc = guest_copy_from(vm, vcpu, arg, &r, sizeof(r));
		if (rc < 0)
			return rc;
		if (r.offset > 4096 - sizeof(struct vcpu_info) || gmem_pfn_gpa(r.mfn, &gpa) < 0)
			return -EINVAL;
		/* The monitor and KVM update evtchn_pending_sel atomically: an
		 * unaligned one is undefined here and may split a cache line (a
		 * bus lock).  Xen refuses it too since 4.18 (map_vcpu_info). */
		if (r.offset & (_Alignof(struct vcpu_info) - 1))
			return -ENXIO;
		return shinfo_set_vcpu_info(vm, (int)target, gpa + r.offset, self);
	}
	case VCPUOP_stop_periodic_timer:
		return 0; /* we never start one */
	case VCPUOP_set_periodic_timer:
		return -ENOSYS;
	case VCPUOP_set_singleshot_timer: {
		struct vcpu_set_singleshot_timer t;
		rc = guest_copy_from(vm, vcpu, arg, &t, sizeof(t));
		if (rc < 0)
			return rc;
		return set_timer(vm, (int)target, t.timeout_abs_ns, self);
	}
	case VCPUOP_stop_singleshot_timer:
		return __atomic_load_n(&vm->vcpus[target].timer_port, __ATOMIC_RELAXED) ?
			       evtchn_timer_set(vm, self ? (int)target : -1, target, 0, false) : 0;
	case VCPUOP_register_runstate_memory_area:
		/* KVM 6.1 refuses an area that crosses a page, which Linux's per-CPU
		 * one may; the guest BUG()s on failure, so steal time then reads 0
		 * (xen-guest-abi.md §8). */
		rc = register_area(vm, vcpu, (int)target, arg, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR, 48);
		return rc == -EFAULT ? rc : 0;
	case VCPUOP_register_vcpu_time_memory_area:
		return register_area(vm, vcpu, (int)target, arg, KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO,
				     sizeof(struct vcpu_time_info));
	case VCPUOP_is_up:
		return 1;
	default:
		return -ENOSYS;
	}
}

/* set_timer_op (15): the older absolute one-shot timer of the caller. */
int64_t hc_set_timer_op(struct vm *vm, int vcpu, const uint64_t a[6])
{
	return set_timer(vm, vcpu, a[0], 1);
}
