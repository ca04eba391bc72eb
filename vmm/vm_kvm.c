/* The KVM actions reached from hypercalls (vm_kvm.h): the ioctls, and the
 * calls through vm->kvm that the handlers use. */
#include "vm_kvm.h"

#include <errno.h>
#include <sys/ioctl.h>

#include "vm.h"
#include "xen/hypercall.h"

static int ioctl_translate(struct vm *vm, int vcpu, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation tr = { .linear_address = gva };

	if (ioctl(vm->vcpus[vcpu].fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
		return -EFAULT;
	*gpa = tr.physical_address;
	return 0;
}

static int ioctl_set_xen_attr(struct vm *vm, struct kvm_xen_hvm_attr *a)
{
	return ioctl(vm->fd, KVM_XEN_HVM_SET_ATTR, a) < 0 ? -errno : 0;
}

static int ioctl_set_vcpu_attr(struct vm *vm, int vcpu, struct kvm_xen_vcpu_attr *a)
{
	return ioctl(vm->vcpus[vcpu].fd, KVM_XEN_VCPU_SET_ATTR, a) < 0 ? -errno : 0;
}

static int ioctl_map_slot(struct vm *vm, int slot, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = (uint32_t)slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

static int ioctl_evtchn_send(struct vm *vm, const struct kvm_irq_routing_xen_evtchn *e)
{
	return ioctl(vm->fd, KVM_XEN_HVM_EVTCHN_SEND, e) < 0 ? -errno : 0;
}

const struct vm_kvm_ops vm_kvm_ioctls = {
	.translate = ioctl_translate,
	.set_xen_attr = ioctl_set_xen_attr,
	.set_vcpu_attr = ioctl_set_vcpu_attr,
	.map_slot = ioctl_map_slot,
	.evtchn_send = ioctl_evtchn_send,
};

int vm_map_slot(struct vm *vm, int slot, uint64_t gpa, uint64_t size, void *hva)
{
	return vm->kvm->map_slot(vm, slot, gpa, size, hva);
}

int vm_set_xen_attr(struct vm *vm, struct kvm_xen_hvm_attr *a)
{
	return vm->kvm->set_xen_attr(vm, a);
}

static int set_vcpu_attr_here(struct vm *vm, int vcpu, void *arg)
{
	return vm->kvm->set_vcpu_attr(vm, vcpu, arg);
}

int vm_set_vcpu_attr(struct vm *vm, int vcpu, struct kvm_xen_vcpu_attr *a, int self)
{
	return vm_vcpu_run_on(vm, vcpu, set_vcpu_attr_here, a, self);
}

int vm_evtchn_send(struct vm *vm, uint32_t port, uint32_t vcpu)
{
	const struct kvm_irq_routing_xen_evtchn e = {
		.port = port, .vcpu = vcpu, .priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL,
	};

	return vm->kvm->evtchn_send(vm, &e);
}

int guest_gva_to_gpa(struct vm *vm, int vcpu, uint64_t gva, uint64_t *gpa)
{
	return vm->kvm->translate(vm, vcpu, gva, gpa);
}
