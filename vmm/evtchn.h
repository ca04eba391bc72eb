/* Xen 2-level event channels of one domain (xen-guest-abi.md §4).
 *
 * The port table lives here; delivery into the guest is KVM's job
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

/* 64-bit guests: 64 words of 64 bits (EVTCHN_2L_NR_CHANNELS in Linux). */
#define EVTCHN_NR_PORTS 4096

struct evtchn_port {
	uint8_t state; /* EVTCHNSTAT_* from xen/event_channel.h */
	uint8_t kvm_registered;
	uint16_t remote_dom;
	uint32_t vcpu;        /* the vCPU it is bound to (Xen id) */
	uint32_t virq;        /* for EVTCHNSTAT_virq */
	uint32_t remote_port; /* for EVTCHNSTAT_interdomain */
	int notify_fd;        /* eventfd of the Domain-0 side, -1 if none */
};

struct evtchn_table {
	pthread_mutex_t lock;
	struct evtchn_port ports[EVTCHN_NR_PORTS];
};

struct vm;

void evtchn_init(struct evtchn_table *t);
int evtchn_alloc_interdomain(struct vm *vm, uint16_t remote_dom, int notify_fd, uint32_t *port);
int evtchn_notify_guest(struct vm *vm, uint32_t port);
int evtchn_hypercall(struct vm *vm, int vcpu, uint64_t cmd, uint64_t arg);
/* Ports KVM delivers in kernel must be re-registered once shared_info exists. */
int evtchn_sync_kvm(struct vm *vm);

#endif
