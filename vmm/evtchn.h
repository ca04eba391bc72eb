/* Xen 2-level event channels of one domain (xen-guest-abi.md §4).
 *
 * The port table is plain data with its rules (xenstate/evtchn_core.h); this
 * file binds it to KVM.  Delivery into the guest is KVM's job
 * (KVM_XEN_HVM_EVTCHN_SEND sets the pending bit, the selector bit and
 * upcall_pending, then kicks the vCPU).  IPIs and ports whose far end is an
 * eventfd are also registered with KVM so the guest's EVTCHNOP_send for them
 * never leaves the kernel. */
#ifndef DOMUS_VMM_EVTCHN_H
#define DOMUS_VMM_EVTCHN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "xen/xen_abi.h"
#include "xenstate/evtchn_core.h"

/* The port table (plain data, xenstate/evtchn_core.h) and what only this
 * process knows about each port. */
struct evtchn_table {
	pthread_mutex_t lock;
	struct evtchn_core core;
	int notify_fd[EVTCHN_NR_PORTS];         /* eventfd of the Domain-0 side, -1 if none */
	uint8_t kvm_registered[EVTCHN_NR_PORTS]; /* KVM handles the guest's sends on it */
	/* Each vCPU's bound VIRQ_TIMER port, 0 if none: what KVM's timer must
	 * fire on.  Changed with the port table; KVM is told on the vCPU's
	 * thread, which reads it then (evtchn_timer_set). */
	uint32_t timer_want[XEN_LEGACY_MAX_VCPUS];
};

struct vm;

void evtchn_init(struct evtchn_table *t, uint16_t domid, uint32_t nr_vcpus);
int evtchn_alloc_interdomain(struct vm *vm, uint16_t remote_dom, int notify_fd, uint32_t *port);
int evtchn_notify_guest(struct vm *vm, uint32_t port);
/* Raise both ports, in one upcall where the 2-level ABI lets it (evtchn.c). */
int evtchn_notify_guest_pair(struct vm *vm, uint32_t quiet, uint32_t port);
int evtchn_hypercall(struct vm *vm, int vcpu, uint64_t cmd, uint64_t arg);
/* Ports KVM delivers in kernel must be re-registered once shared_info exists. */
int evtchn_sync_kvm(struct vm *vm);
/* After a saved table was loaded into t->core: forget what KVM was told
 * before (a fresh VM knows none of it) and give KVM every port it delivers
 * in kernel and every VIRQ_TIMER port.  A loaded interdomain port gets its
 * Domain-0 eventfd back through evtchn_attach_notify(). */
int evtchn_post_load(struct vm *vm);
/* KVM's Xen timer of vCPU target (vcpu: the caller, -1 for none) set to
 * fire at expires_ns (0: stopped) on the vCPU's bound VIRQ_TIMER port, as
 * the port table has it when the target's thread makes the change: binds
 * and closes racing on other vCPUs cannot leave KVM firing on a closed
 * port.  -EINVAL if no timer port is bound and need_port, or KVM refuses. */
int evtchn_timer_set(struct vm *vm, int vcpu, uint32_t target, uint64_t expires_ns, bool need_port);
/* Give a loaded interdomain port (one a back end finds in an HVM param) its
 * Domain-0 eventfd.  -EINVAL unless port is interdomain without one. */
int evtchn_attach_notify(struct vm *vm, uint32_t port, int notify_fd);
/* A back end's port to the guest, its far end notify_fd: a new one, or on a
 * restored VM (vm->restored) the one HVM param `param` names, which the
 * guest already knows. */
int evtchn_backend_port(struct vm *vm, unsigned param, int notify_fd, uint32_t *port);

/* A xenbus back end (Domain 0) binds the port the guest allocated for it
 * (its frontend's event-channel node): unbound for Domain 0 becomes
 * interdomain, its far end notify_fd, and KVM signals notify_fd in kernel on
 * the guest's sends.  -EINVAL for any other port. */
int evtchn_bind_backend(struct vm *vm, uint32_t port, int notify_fd);
/* The back end lets go: a port still bound to notify_fd goes back to
 * unbound (as Xen leaves it when Domain 0 closes its end) and KVM forgets
 * it; a port the guest closed or reused meanwhile is left alone. */
void evtchn_unbind_backend(struct vm *vm, uint32_t port, int notify_fd);

#endif
