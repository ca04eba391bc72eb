/* The KVM actions of the hypercall handlers and of the Xen state's bindings
 * (vmm/xen/, evtchn.c, gnttab.c, shinfo.c, xenstate_bind.c), as one table:
 * the monitor's is the ioctls (vm_kvm.c, set by vm_create()); a test's or
 * the fuzzer's is a fake KVM (tests/vmm/kvm_fake.c), so that every handler
 * runs on plain memory without /dev/kvm.  Creating the VM and running its
 * vCPUs stay ioctls (vm.c, vcpu.c): they are not reached from a hypercall. */
#ifndef DOMUS_VMM_VM_KVM_H
#define DOMUS_VMM_VM_KVM_H

#include <stdint.h>
#include <linux/kvm.h>

struct vm;

/* Each returns 0 or a negative errno, as the ioctl it stands for. */
struct vm_kvm_ops {
	/* KVM_TRANSLATE on vCPU vcpu: -EFAULT when gva is not mapped. */
	int (*translate)(struct vm *vm, int vcpu, uint64_t gva, uint64_t *gpa);
	/* KVM_XEN_HVM_SET_ATTR */
	int (*set_xen_attr)(struct vm *vm, struct kvm_xen_hvm_attr *a);
	/* KVM_XEN_VCPU_SET_ATTR, called on vCPU vcpu's own thread
	 * (vm_set_vcpu_attr() takes it there). */
	int (*set_vcpu_attr)(struct vm *vm, int vcpu, struct kvm_xen_vcpu_attr *a);
	/* KVM_SET_USER_MEMORY_REGION; size 0 deletes the slot. */
	int (*map_slot)(struct vm *vm, int slot, uint64_t gpa, uint64_t size, void *hva);
	/* KVM_XEN_HVM_EVTCHN_SEND */
	int (*evtchn_send)(struct vm *vm, const struct kvm_irq_routing_xen_evtchn *e);
};

extern const struct vm_kvm_ops vm_kvm_ioctls;

#endif
