/* hvm_op (34): HVM parameters and the upcall set-up (xen-guest-abi.md §3.2
 * rows 4, 8, 9, 21). */
#include "hypercall.h"
#include "xen_abi.h"
#include "../vm.h"
#include "../xenstate/xenstate.h"

#include <errno.h>

#include "domus/log.h"

/* One slot for every index Xen knows: checking HVM_NR_PARAMS bounds both. */
_Static_assert(HVM_NR_PARAMS <= sizeof(((struct vm *)0)->hvm_params) / sizeof(uint64_t),
	       "vm->hvm_params holds every HVM param");

/* p->index is below HVM_NR_PARAMS. */
static int64_t set_param(struct vm *vm, struct xen_hvm_param *p)
{
	switch (p->index) {
	case HVM_PARAM_CALLBACK_IRQ: {
		/* A vector on every vCPU, or a GSI: 0 is "no callback" (Xen's
		 * HVMIRQ_callback_none), GSI 1 what Linux writes once it has
		 * per-vCPU vectors, "to trick the toolstack" (6.1 events_base.c
		 * xen_set_upcall_vector), kept as a value only.  PCI INTx needs a
		 * polled level interrupt: we offer the vector callbacks.  Only what
		 * a save can load again (xenstate_callback_ok). */
		struct kvm_xen_hvm_attr a = { .type = KVM_XEN_ATTR_TYPE_UPCALL_VECTOR };

		if (!xenstate_callback_ok(p->value))
			return -EINVAL;
		/* Without a global vector KVM must stop injecting it, as a
		 * restored VM would. */
		if ((p->value >> 56) == CALLBACK_TYPE_VECTOR)
			a.u.vector = (uint8_t)(p->value & 0xff);
		if (vm_set_xen_attr(vm, &a) < 0)
			return -EINVAL;
		break;
	}
	case HVM_PARAM_STORE_PFN:
	case HVM_PARAM_STORE_EVTCHN:
	case HVM_PARAM_CONSOLE_PFN:
	case HVM_PARAM_CONSOLE_EVTCHN:
		return -EPERM; /* set by the toolstack, read-only to the guest */
	default:
		break;
	}
	pthread_mutex_lock(&vm->lock);
	vm->hvm_params[p->index] = p->value;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

/* HVMOP_set_evtchn_upcall_vector (Xen 4.17 hvm.c): the target vCPU's
 * upcalls come on its own local APIC vector.  Linux 6.1 takes it when CPUID
 * leaf base+4 has XEN_HVM_CPUID_UPCALL_VECTOR (events_base.c
 * xen_init_setup_upcall_vector).  KVM then injects an edge through the local
 * APIC (6.1 xen.c kvm_xen_inject_vcpu_vector), where the global vector is an
 * ExtINT that stays raised while evtchn_upcall_pending is set.  No upcall is
 * raised here for a pending bit (Xen's hvm_assert_evtchn_irq): Linux sets the
 * vector before it binds a port, and a restore sets it with the vCPU's
 * state. */
static int64_t set_upcall_vector(struct vm *vm, int vcpu, uint64_t arg)
{
	struct xen_hvm_evtchn_upcall_vector op;
	struct kvm_xen_vcpu_attr a = { .type = KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR };
	int rc = guest_copy_from(vm, vcpu, arg, &op, sizeof(op));

	if (rc < 0)
		return rc;
	if (op.vector < 0x10)
		return -EINVAL;
	if (op.vcpu >= (uint32_t)vm->nr_vcpus)
		return -ENOENT;
	a.u.vector = op.vector;
	if (vm_set_vcpu_attr(vm, (int)op.vcpu, &a, (int)op.vcpu == vcpu) < 0)
		return -EINVAL;
	/* As Xen logs it ("%pv: upcall vector %02x"), at debug level: a guest
	 * may call it at will, and log_guest's lines are warnings. */
	log_debug(vm->name, "vcpu%u: upcall vector 0x%02x", op.vcpu, op.vector);
	return 0;
}

int64_t hc_hvm_op(struct vm *vm, int vcpu, const uint64_t a[6])
{
	struct xen_hvm_param p;
	int rc;

	switch (a[0]) {
	case HVMOP_set_param:
	case HVMOP_get_param:
		rc = guest_copy_from(vm, vcpu, a[1], &p, sizeof(p));
		if (rc < 0)
			return rc;
		if (p.domid != DOMID_SELF && p.domid != vm->domid)
			return -ESRCH;
		if (p.index >= HVM_NR_PARAMS)
			return -EINVAL;
		if (a[0] == HVMOP_set_param)
			return set_param(vm, &p);
		pthread_mutex_lock(&vm->lock);
		p.value = vm->hvm_params[p.index];
		pthread_mutex_unlock(&vm->lock);
		return guest_copy_to(vm, vcpu, a[1], &p, sizeof(p));
	case HVMOP_set_evtchn_upcall_vector:
		return set_upcall_vector(vm, vcpu, a[1]);
	case HVMOP_pagetable_dying:
		/* 0 would make the guest call this on every mm teardown. */
		return -ENOSYS;
	default:
		return -ENOSYS;
	}
}
