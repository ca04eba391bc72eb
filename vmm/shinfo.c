/* Placing shared_info and vcpu_info with KVM. */
#include "shinfo.h"

#include <errno.h>
#include <string.h>

#include "domus/log.h"
#include "vm.h"
#include "xen/xen_abi.h"

static int set_vcpu_info_attr(struct vm *vm, int target, uint64_t gpa, int self)
{
	struct kvm_xen_vcpu_attr a = { .type = KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO, .u.gpa = gpa };

	if (vm_set_vcpu_attr(vm, target, &a, self) < 0)
		return -EINVAL;
	/* Read on other vCPUs' threads (shinfo_place, a save): atomic, and
	 * a guest racing its own registrations only confuses itself. */
	__atomic_store_n(&vm->vcpus[target].vcpu_info_gpa, gpa, __ATOMIC_RELEASE);
	return 0;
}

int shinfo_place(struct vm *vm, int vcpu, uint64_t gpa)
{
	struct kvm_xen_hvm_attr lm = { .type = KVM_XEN_ATTR_TYPE_LONG_MODE, .u.long_mode = 1 };
	struct kvm_xen_hvm_attr si = { .type = KVM_XEN_ATTR_TYPE_SHARED_INFO, .u.shared_info.gfn = gpa >> 12 };
	int rc;

	/* shared_info is an ordinary RAM page the guest gives up (§10.12).
	 * Frame 0 is refused: the monitor and the save stream say "not
	 * placed" with address 0, and a guest placing it there would have
	 * KVM delivering into a page the monitor believes absent (the
	 * hypercall fuzzer's find).  Linux never does: it keeps page 0
	 * reserved (arch/x86/kernel/setup.c, trim_bios_range). */
	if (gpa == 0 || !gmem_ptr(&vm->mem, gpa, 4096))
		return -EINVAL;
	/* Long mode first: KVM writes the wallclock only when SHARED_INFO is set,
	 * in the layout long_mode selects, and a 6.1.121+ guest never writes the
	 * hypercall MSR that would latch it (xen-guest-abi.md §2). */
	if (vm_set_xen_attr(vm, &lm) < 0 || vm_set_xen_attr(vm, &si) < 0)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	vm->shared_info_gpa = gpa;
	pthread_mutex_unlock(&vm->lock);
	/* The guest reads its pvclock from the default vcpu_info slot before it
	 * registers its own, so every vCPU gets its slot now (QEMU
	 * xen_set_shared_info does the same). */
	for (int i = 0; i < vm->nr_vcpus && i < XEN_LEGACY_MAX_VCPUS; i++) {
		if (__atomic_load_n(&vm->vcpus[i].vcpu_info_gpa, __ATOMIC_ACQUIRE))
			continue;
		rc = set_vcpu_info_attr(vm, i, gpa + (uint64_t)i * sizeof(struct vcpu_info), i == vcpu);
		if (rc < 0)
			return rc;
	}
	return evtchn_sync_kvm(vm);
}

int shinfo_set_vcpu_info(struct vm *vm, int target, uint64_t gpa, int self)
{
	struct vcpu_info *nv = gmem_ptr(&vm->mem, gpa, sizeof(struct vcpu_info));
	uint64_t old_gpa = __atomic_load_n(&vm->vcpus[target].vcpu_info_gpa, __ATOMIC_ACQUIRE);
	struct vcpu_info *ov = NULL;
	int rc;

	if (!nv)
		return -EINVAL;
	if (old_gpa)
		ov = gmem_ptr(&vm->mem, old_gpa, sizeof(struct vcpu_info));
	/* The guest may move it by a few bytes, onto itself. */
	if (ov && ov != nv)
		memmove(nv, ov, sizeof(*nv));
	rc = set_vcpu_info_attr(vm, target, gpa, self);
	if (rc < 0)
		return rc;
	/* Nothing pending may be lost in the move: make the guest rescan every
	 * selector word (Xen map_guest_area, xen-guest-abi.md §10.3). */
	__atomic_store_n(&nv->evtchn_pending_sel, ~0UL, __ATOMIC_SEQ_CST);
	__atomic_store_n(&nv->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* KVM keeps the flag when it rewrites the time area on the next entry
 * ("retain PVCLOCK_GUEST_STOPPED if set in guest copy", 6.1 x86.c
 * kvm_setup_guest_pvclock, which also writes a Xen guest's vcpu_info), so
 * setting it in guest memory is what KVM_KVMCLOCK_CTRL does for kvmclock;
 * that ioctl refuses a vCPU without kvmclock, as a Xen guest is.  Without
 * it, a restore that took over 21 s made the guest report an RCU stall
 * (tests/lab/domain-saverestore.sh on a slow lab). */
void shinfo_clock_stopped(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++) {
		uint64_t gpa = __atomic_load_n(&vm->vcpus[i].vcpu_info_gpa, __ATOMIC_ACQUIRE);
		struct vcpu_info *vi = gpa ? gmem_ptr(&vm->mem, gpa, sizeof(*vi)) : NULL;

		if (vi)
			__atomic_fetch_or(&vi->time.flags, XEN_PVCLOCK_GUEST_STOPPED, __ATOMIC_SEQ_CST);
	}
}
