/* The hypercall table and guest-virtual copies (xen-guest-abi.md §2, §3.2). */
#include "hypercall.h"

#include <errno.h>
#include <string.h>

#include "domus/log.h"
#include "../vm.h"
#include "xen_abi.h"

static const struct {
	const char *name;
	hypercall_fn fn;
} hypercalls[] = {
	[__HYPERVISOR_set_timer_op] = { "set_timer_op", hc_set_timer_op },
	[__HYPERVISOR_memory_op] = { "memory_op", hc_memory_op },
	[__HYPERVISOR_xen_version] = { "xen_version", hc_xen_version },
	[__HYPERVISOR_console_io] = { "console_io", hc_console_io },
	[__HYPERVISOR_grant_table_op] = { "grant_table_op", hc_grant_table_op },
	[__HYPERVISOR_vm_assist] = { "vm_assist", hc_vm_assist },
	[__HYPERVISOR_vcpu_op] = { "vcpu_op", hc_vcpu_op },
	[__HYPERVISOR_sched_op] = { "sched_op", hc_sched_op },
	[__HYPERVISOR_event_channel_op] = { "event_channel_op", hc_event_channel_op },
	[__HYPERVISOR_hvm_op] = { "hvm_op", hc_hvm_op },
};

#define NR_HYPERCALLS 64

int64_t hypercall_dispatch(struct vm *vm, int vcpu, uint64_t nr, const uint64_t args[6], uint32_t cpl)
{
	if (cpl != 0)
		return -EPERM; /* guest user space may not call Xen (as QEMU answers) */
	if (nr < sizeof(hypercalls) / sizeof(hypercalls[0]) && hypercalls[nr].fn)
		return hypercalls[nr].fn(vm, vcpu, args);
	if (nr < NR_HYPERCALLS) {
		uint64_t bit = 1ULL << nr;
		/* Logged once per number: a guest probing unknown calls cannot flood. */
		if (!(atomic_fetch_or(&vm->unknown_hypercalls, bit) & bit))
			log_warn(vm->name, "hypercall %llu is not implemented: -ENOSYS", (unsigned long long)nr);
	}
	return -ENOSYS;
}

/* One page at a time: contiguous virtual memory need not be contiguous in
 * guest physical memory (as QEMU's kvm_gva_rw does). */
static int guest_rw(struct vm *vm, int vcpu, uint64_t gva, void *buf, size_t len, int write)
{
	uint8_t *p = buf;

	while (len) {
		size_t chunk = 4096 - (gva & 4095);
		uint64_t gpa;
		void *hva;

		if (chunk > len)
			chunk = len;
		if (guest_gva_to_gpa(vm, vcpu, gva, &gpa) < 0)
			return -EFAULT;
		hva = gmem_ptr(&vm->mem, gpa, chunk);
		if (!hva)
			return -EFAULT;
		if (write)
			memcpy(hva, p, chunk);
		else
			memcpy(p, hva, chunk);
		p += chunk;
		gva += chunk;
		len -= chunk;
	}
	return 0;
}

int guest_copy_from(struct vm *vm, int vcpu, uint64_t gva, void *buf, size_t len)
{
	return guest_rw(vm, vcpu, gva, buf, len, 0);
}

int guest_copy_to(struct vm *vm, int vcpu, uint64_t gva, const void *buf, size_t len)
{
	return guest_rw(vm, vcpu, gva, (void *)buf, len, 1);
}
