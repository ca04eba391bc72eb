/* Xen hypercalls from the guest (KVM_EXIT_XEN), dispatched from one table.
 * Shape (style.md §9.5): copy the argument struct in from guest virtual memory,
 * run the op, copy the result out; ops return 0 or a negative Xen errno, and
 * never trust a guest number before checking it. */
#ifndef DOMUS_VMM_HYPERCALL_H
#define DOMUS_VMM_HYPERCALL_H

#include <stddef.h>
#include <stdint.h>

struct vm;

/* Handles one KVM_EXIT_XEN hypercall; returns the value for the guest's RAX. */
int64_t hypercall_dispatch(struct vm *vm, int vcpu, uint64_t nr, const uint64_t args[6], uint32_t cpl);

/* Guest virtual memory of the calling vCPU, translated page by page. */
int guest_copy_from(struct vm *vm, int vcpu, uint64_t gva, void *buf, size_t len);
int guest_copy_to(struct vm *vm, int vcpu, uint64_t gva, const void *buf, size_t len);
int guest_gva_to_gpa(struct vm *vm, int vcpu, uint64_t gva, uint64_t *gpa);

typedef int64_t (*hypercall_fn)(struct vm *vm, int vcpu, const uint64_t a[6]);
int64_t hc_xen_version(struct vm *vm, int vcpu, const uint64_t a[6]);
int64_t hc_memory_op(struct vm *vm, int vcpu, const uint64_t a[6]);
int64_t hc_hvm_op(struct vm *vm, int vcpu, const uint64_t a[6]);
int64_t hc_vcpu_op(struct vm *vm, int vcpu, const uint64_t a[6]);
int64_t hc_sched_op(struct vm *vm, int vcpu, const uint64_t a[6]);
int64_t hc_event_channel_op(struct vm *vm, int vcpu, const uint64_t a[6]);
int64_t hc_grant_table_op(struct vm *vm, int vcpu, const uint64_t a[6]);
int64_t hc_console_io(struct vm *vm, int vcpu, const uint64_t a[6]);
int64_t hc_vm_assist(struct vm *vm, int vcpu, const uint64_t a[6]);
int64_t hc_set_timer_op(struct vm *vm, int vcpu, const uint64_t a[6]);

#endif
