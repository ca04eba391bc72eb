/* The event-channel port table of one domain as plain data (xen-guest-abi.md
 * §4): which ports are open, in which state, bound to which vCPU.  It knows
 * nothing of KVM, of file descriptors or of locks: evtchn.c holds the lock,
 * keeps what only lives in this process (the Domain-0 end's eventfd, what KVM
 * was told) and applies the table to KVM.  Every rule a hypercall or a saved
 * stream must obey is checked here, so both paths obey the same ones. */
#ifndef DOMUS_VMM_XENSTATE_EVTCHN_CORE_H
#define DOMUS_VMM_XENSTATE_EVTCHN_CORE_H

#include <stdint.h>

#include "xen/xen_abi.h"

/* 64-bit guests: 64 words of 64 bits (EVTCHN_2L_NR_CHANNELS in Linux). */
#define EVTCHN_NR_PORTS 4096

struct evtchn_port {
	uint8_t state; /* EVTCHNSTAT_* from xen/event_channel.h */
	uint16_t remote_dom;
	uint32_t vcpu;        /* the vCPU it is bound to (Xen id) */
	uint32_t virq;        /* for EVTCHNSTAT_virq */
	uint32_t remote_port; /* for EVTCHNSTAT_interdomain */
};

struct evtchn_core {
	uint16_t domid;    /* the domain's own id (DOMID_SELF names it too) */
	uint32_t nr_vcpus; /* vCPUs a port may be bound to: [0, nr_vcpus) */
	struct evtchn_port ports[EVTCHN_NR_PORTS];
};

void evtchn_core_init(struct evtchn_core *c, uint16_t domid, uint32_t nr_vcpus);
/* Whether a hypercall's domain argument names this domain. */
int evtchn_core_is_self(const struct evtchn_core *c, domid_t dom);
/* The open port, or NULL for port 0, a port out of range or a closed one. */
const struct evtchn_port *evtchn_core_port(const struct evtchn_core *c, uint32_t port);
/* The vCPU an open port is bound to; -EINVAL if it is not open. */
int evtchn_core_bound_vcpu(const struct evtchn_core *c, uint32_t port, uint32_t *vcpu);

/* Opening ports: the lowest closed port (never 0) in *port.  -ENOSPC when
 * every port is open. */
/* -EINVAL for a VIRQ or vCPU out of range, a global VIRQ off vCPU 0;
 * -EEXIST when the VIRQ is already bound on that vCPU. */
int evtchn_core_bind_virq(struct evtchn_core *c, uint32_t virq, uint32_t vcpu, uint32_t *port);
/* -ENOENT for a vCPU out of range. */
int evtchn_core_bind_ipi(struct evtchn_core *c, uint32_t vcpu, uint32_t *port);
/* -EPERM unless dom names this domain. */
int evtchn_core_alloc_unbound(struct evtchn_core *c, domid_t dom, domid_t remote_dom, uint32_t *port);
/* A port whose far end is remote_dom's (a Domain-0 back end's). */
int evtchn_core_alloc_interdomain(struct evtchn_core *c, domid_t remote_dom, uint32_t *port);

/* A Domain-0 back end binds the guest's unbound port (EVTCHNOP_bind_interdomain
 * run by remote_dom, as Linux's blkback does for the frontend's
 * event-channel): -EINVAL unless port is open, unbound and offered to
 * remote_dom (Xen's evtchn_bind_interdomain checks the same). */
int evtchn_core_bind_remote(struct evtchn_core *c, uint32_t port, domid_t remote_dom);
/* The back end closes its end: the guest's port goes back to unbound for
 * remote_dom, as Xen's evtchn_close leaves the other end of an interdomain
 * channel.  -EINVAL unless port is interdomain with remote_dom. */
int evtchn_core_unbind_remote(struct evtchn_core *c, uint32_t port, domid_t remote_dom);

/* Close an open port; its former contents in *was.  -EINVAL if not open. */
int evtchn_core_close(struct evtchn_core *c, uint32_t port, struct evtchn_port *was);
/* What EVTCHNOP_send on port reaches: a copy of the port in *p for an IPI,
 * interdomain or unbound port (the last drops the event, as Xen does);
 * -EINVAL for a port that is not open and for a VIRQ (Xen raises those). */
int evtchn_core_send(const struct evtchn_core *c, uint32_t port, struct evtchn_port *p);
/* EVTCHNOP_status: -ESRCH for another domain, -EINVAL for a port out of
 * range; a closed port reports EVTCHNSTAT_closed. */
int evtchn_core_status(const struct evtchn_core *c, struct evtchn_status *s);
/* EVTCHNOP_bind_vcpu: -ENOENT for a vCPU out of range, -EINVAL for a port
 * that is not open, an IPI or a per-vCPU VIRQ (they stay where they are). */
int evtchn_core_bind_vcpu(struct evtchn_core *c, uint32_t port, uint32_t vcpu);

/* Open `port` exactly as *p says, as a saved table names it: every rule of
 * the binding calls applies (state, vCPU, VIRQ, no second binding of a
 * VIRQ on one vCPU), and the port must be closed.  -EINVAL otherwise, with
 * what was wrong in *why. */
int evtchn_core_restore_port(struct evtchn_core *c, uint32_t port, const struct evtchn_port *p,
			     const char **why);

#endif
