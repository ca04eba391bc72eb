/* Binding loaded Xen state to KVM (xenstate_bind.h); tests run it on a
 * fake KVM (tests/vmm/test_hypercall.c). */
#include "xenstate_bind.h"

#include <errno.h>

#include "evtchn.h"
#include "gnttab.h"
#include "shinfo.h"
#include "vm.h"


_Static_assert(XENSTATE_NR_PARAMS <= sizeof(((struct vm *)0)->hvm_params) / sizeof(uint64_t),
	       "vm->hvm_params holds every saved param");

void vm_xenstate(struct vm *vm, struct xenstate *x)
{
	*x = (struct xenstate){
		.evtchn = &vm->evtchn.core,
		.gnttab = &vm->gnttab.core,
		.hvm_params = vm->hvm_params,
		.shared_info_gpa = &vm->shared_info_gpa,
		.mem = &vm->mem,
	};
}

int vm_xenstate_post_load(struct vm *vm)
{
	uint64_t cb = vm->hvm_params[HVM_PARAM_CALLBACK_IRQ];
	uint64_t gpa = vm->shared_info_gpa;
	int rc = gnttab_post_load(vm);

	/* xenstate_load() let only a GSI (no global vector: 0 or Linux's GSI 1
	 * beside per-vCPU vectors, which the vCPUs' state carries) or a vector
	 * of 0x10 or more through. */
	if (rc == 0 && (cb >> 56) == CALLBACK_TYPE_VECTOR) {
		struct kvm_xen_hvm_attr a = { .type = KVM_XEN_ATTR_TYPE_UPCALL_VECTOR, .u.vector = (uint8_t)cb };

		if (vm_set_xen_attr(vm, &a) < 0)
			rc = -EINVAL;
	}
	/* KVM takes ports above 1023 only in long mode (max_evtchn_port(),
	 * 6.1 xen.c), which the guest's placing of shared_info set: set it
	 * before the ports, as the saved VM had it when it registered them. */
	if (rc == 0 && gpa) {
		struct kvm_xen_hvm_attr lm = { .type = KVM_XEN_ATTR_TYPE_LONG_MODE, .u.long_mode = 1 };

		if (vm_set_xen_attr(vm, &lm) < 0)
			rc = -EINVAL;
	}
	if (rc == 0)
		rc = evtchn_post_load(vm);
	/* shinfo_place() tells KVM as the guest's hypercall did, and gives each
	 * vCPU its default vcpu_info; it records the address itself. */
	if (rc == 0 && gpa) {
		pthread_mutex_lock(&vm->lock);
		vm->shared_info_gpa = 0;
		pthread_mutex_unlock(&vm->lock);
		rc = shinfo_place(vm, -1, gpa);
	}
	return rc;
}
