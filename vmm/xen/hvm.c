/* hvm_op (34): HVM parameters and the upcall set-up (xen-guest-abi.md §3.2
 * rows 4, 8, 9, 21). */
#include "hypercall.h"
#include "xen_abi.h"
#include "../vm.h"

#include <errno.h>

#include "domus/log.h"

/* CALLBACK_IRQ type 2 in bits 63:56 is "vector": the guest takes its upcall
 * on that vector on every vCPU (xen/hvm/params.h). */
#define CALLBACK_TYPE_VECTOR 2ULL

/* One slot for every index Xen knows: checking HVM_NR_PARAMS bounds both. */
_Static_assert(HVM_NR_PARAMS <= sizeof(((struct vm *)0)->hvm_params) / sizeof(uint64_t),
	       "vm->hvm_params holds every HVM param");

/* p->index is below HVM_NR_PARAMS. */
static int64_t set_param(struct vm *vm, struct xen_hvm_param *p)
{
	switch (p->index) {
	case HVM_PARAM_CALLBACK_IRQ: {
		uint64_t type = p->value >> 56;
		if (type == CALLBACK_TYPE_VECTOR) {
			struct kvm_xen_hvm_attr a = {
				.type = KVM_XEN_ATTR_TYPE_UPCALL_VECTOR,
				.u.vector = (uint8_t)(p->value & 0xff),
			};
			/* Bits 8-55 are not the vector's: a value with them set
			 * would save but not load (xenstate.c's HVM_PARAMS rule). */
			if (a.u.vector < 0x10 || (p->value & 0x00ffffffffffff00ULL))
				return -EINVAL;
			if (vm_set_xen_attr(vm, &a) < 0)
				return -EINVAL;
		} else if (p->value != 0) {
			/* GSI and PCI INTx callbacks need a polled level interrupt; we
			 * offer the vector callback (XENFEAT_hvm_callback_vector). */
			return -EINVAL;
		} else {
			/* 0 is "no callback" (Xen's HVMIRQ_callback_none): KVM must
			 * stop injecting the vector, as a restored VM would. */
			struct kvm_xen_hvm_attr a = { .type = KVM_XEN_ATTR_TYPE_UPCALL_VECTOR, .u.vector = 0 };
			if (vm_set_xen_attr(vm, &a) < 0)
				return -EINVAL;
		}
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
	case HVMOP_pagetable_dying:
		/* 0 would make the guest call this on every mm teardown. */
		return -ENOSYS;
	default:
		return -ENOSYS;
	}
}
