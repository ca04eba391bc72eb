/* The event-channel port table and its rules (evtchn_core.h). */
#include "evtchn_core.h"

#include <errno.h>
#include <string.h>

/* Per-vCPU VIRQs; every other VIRQ is global and binds on vCPU 0 only. */
static int virq_is_per_vcpu(uint32_t virq)
{
	return virq == VIRQ_TIMER || virq == VIRQ_DEBUG || virq == VIRQ_XENOPROF || virq == VIRQ_XENPMU;
}

static const struct evtchn_port closed_port = { .state = EVTCHNSTAT_closed };

void evtchn_core_init(struct evtchn_core *c, uint16_t domid, uint32_t nr_vcpus)
{
	c->domid = domid;
	c->nr_vcpus = nr_vcpus;
	for (int i = 0; i < EVTCHN_NR_PORTS; i++)
		c->ports[i] = closed_port;
}

int evtchn_core_is_self(const struct evtchn_core *c, domid_t dom)
{
	return dom == DOMID_SELF || dom == c->domid;
}

const struct evtchn_port *evtchn_core_port(const struct evtchn_core *c, uint32_t port)
{
	if (port == 0 || port >= EVTCHN_NR_PORTS || c->ports[port].state == EVTCHNSTAT_closed)
		return NULL;
	return &c->ports[port];
}

int evtchn_core_bound_vcpu(const struct evtchn_core *c, uint32_t port, uint32_t *vcpu)
{
	const struct evtchn_port *p = evtchn_core_port(c, port);

	if (!p)
		return -EINVAL;
	*vcpu = p->vcpu;
	return 0;
}

/* Port 0 is never valid. */
static int alloc_port(struct evtchn_core *c, const struct evtchn_port *p, uint32_t *port)
{
	for (uint32_t i = 1; i < EVTCHN_NR_PORTS; i++) {
		if (c->ports[i].state == EVTCHNSTAT_closed) {
			c->ports[i] = *p;
			*port = i;
			return 0;
		}
	}
	return -ENOSPC;
}

static int virq_bound(const struct evtchn_core *c, uint32_t virq, uint32_t vcpu)
{
	for (uint32_t i = 1; i < EVTCHN_NR_PORTS; i++) {
		if (c->ports[i].state == EVTCHNSTAT_virq && c->ports[i].virq == virq && c->ports[i].vcpu == vcpu)
			return 1;
	}
	return 0;
}

static int check_virq(const struct evtchn_core *c, uint32_t virq, uint32_t vcpu)
{
	if (virq >= NR_VIRQS || vcpu >= c->nr_vcpus)
		return -EINVAL;
	if (!virq_is_per_vcpu(virq) && vcpu != 0)
		return -EINVAL;
	return virq_bound(c, virq, vcpu) ? -EEXIST : 0;
}

int evtchn_core_bind_virq(struct evtchn_core *c, uint32_t virq, uint32_t vcpu, uint32_t *port)
{
	struct evtchn_port p = { .state = EVTCHNSTAT_virq, .virq = virq, .vcpu = vcpu };
	int rc = check_virq(c, virq, vcpu);

	return rc < 0 ? rc : alloc_port(c, &p, port);
}

int evtchn_core_bind_ipi(struct evtchn_core *c, uint32_t vcpu, uint32_t *port)
{
	struct evtchn_port p = { .state = EVTCHNSTAT_ipi, .vcpu = vcpu };

	if (vcpu >= c->nr_vcpus)
		return -ENOENT;
	return alloc_port(c, &p, port);
}

int evtchn_core_alloc_unbound(struct evtchn_core *c, domid_t dom, domid_t remote_dom, uint32_t *port)
{
	struct evtchn_port p = { .state = EVTCHNSTAT_unbound, .remote_dom = remote_dom };

	if (!evtchn_core_is_self(c, dom))
		return -EPERM;
	return alloc_port(c, &p, port);
}

int evtchn_core_alloc_interdomain(struct evtchn_core *c, domid_t remote_dom, uint32_t *port)
{
	struct evtchn_port p = { .state = EVTCHNSTAT_interdomain, .remote_dom = remote_dom };

	return alloc_port(c, &p, port);
}

int evtchn_core_bind_remote(struct evtchn_core *c, uint32_t port, domid_t remote_dom)
{
	const struct evtchn_port *p = evtchn_core_port(c, port);

	if (!p || p->state != EVTCHNSTAT_unbound || p->remote_dom != remote_dom)
		return -EINVAL;
	c->ports[port].state = EVTCHNSTAT_interdomain;
	c->ports[port].remote_port = 0; /* the back end's end is an eventfd, not a port */
	return 0;
}

int evtchn_core_unbind_remote(struct evtchn_core *c, uint32_t port, domid_t remote_dom)
{
	const struct evtchn_port *p = evtchn_core_port(c, port);

	if (!p || p->state != EVTCHNSTAT_interdomain || p->remote_dom != remote_dom)
		return -EINVAL;
	c->ports[port].state = EVTCHNSTAT_unbound;
	c->ports[port].remote_port = 0;
	return 0;
}

int evtchn_core_close(struct evtchn_core *c, uint32_t port, struct evtchn_port *was)
{
	if (!evtchn_core_port(c, port))
		return -EINVAL;
	*was = c->ports[port];
	c->ports[port] = closed_port;
	return 0;
}

int evtchn_core_send(const struct evtchn_core *c, uint32_t port, struct evtchn_port *p)
{
	const struct evtchn_port *o = evtchn_core_port(c, port);

	if (!o)
		return -EINVAL;
	if (o->state != EVTCHNSTAT_ipi && o->state != EVTCHNSTAT_interdomain && o->state != EVTCHNSTAT_unbound)
		return -EINVAL; /* VIRQs are raised by Xen, not sent */
	*p = *o;
	return 0;
}

int evtchn_core_status(const struct evtchn_core *c, struct evtchn_status *s)
{
	const struct evtchn_port *p;

	if (!evtchn_core_is_self(c, s->dom))
		return -ESRCH;
	if (s->port == 0 || s->port >= EVTCHN_NR_PORTS)
		return -EINVAL;
	p = &c->ports[s->port];
	s->status = p->state;
	s->vcpu = p->vcpu;
	memset(&s->u, 0, sizeof(s->u));
	if (p->state == EVTCHNSTAT_unbound) {
		s->u.unbound.dom = p->remote_dom;
	} else if (p->state == EVTCHNSTAT_interdomain) {
		s->u.interdomain.dom = p->remote_dom;
		s->u.interdomain.port = p->remote_port;
	} else if (p->state == EVTCHNSTAT_virq) {
		s->u.virq = p->virq;
	}
	return 0;
}

int evtchn_core_bind_vcpu(struct evtchn_core *c, uint32_t port, uint32_t vcpu)
{
	const struct evtchn_port *p;

	if (vcpu >= c->nr_vcpus)
		return -ENOENT;
	p = evtchn_core_port(c, port);
	if (!p || p->state == EVTCHNSTAT_ipi || (p->state == EVTCHNSTAT_virq && virq_is_per_vcpu(p->virq)))
		return -EINVAL;
	c->ports[port].vcpu = vcpu;
	return 0;
}

int evtchn_core_restore_port(struct evtchn_core *c, uint32_t port, const struct evtchn_port *p,
			     const char **why)
{
	*why = NULL;
	if (port == 0 || port >= EVTCHN_NR_PORTS)
		*why = "port out of range";
	else if (c->ports[port].state != EVTCHNSTAT_closed)
		*why = "port listed twice";
	else if (p->state != EVTCHNSTAT_unbound && p->state != EVTCHNSTAT_interdomain &&
		 p->state != EVTCHNSTAT_virq && p->state != EVTCHNSTAT_ipi)
		*why = "state is not unbound, interdomain, virq or ipi";
	else if (p->vcpu >= c->nr_vcpus)
		*why = "vCPU out of range";
	else if (p->state == EVTCHNSTAT_virq && p->virq >= NR_VIRQS)
		*why = "VIRQ out of range";
	/* A global VIRQ may have been moved off vCPU 0 by bind_vcpu, and bound
	 * again on vCPU 0 after that: only a per-vCPU VIRQ is bound once. */
	else if (p->state == EVTCHNSTAT_virq && virq_is_per_vcpu(p->virq) && virq_bound(c, p->virq, p->vcpu))
		*why = "per-vCPU VIRQ bound twice on one vCPU";
	else if (p->state != EVTCHNSTAT_virq && p->virq != 0)
		*why = "VIRQ set on a port that is not a VIRQ";
	else if (p->state != EVTCHNSTAT_interdomain && p->remote_port != 0)
		*why = "remote port set on a port that is not interdomain";
	else if (p->state != EVTCHNSTAT_unbound && p->state != EVTCHNSTAT_interdomain && p->remote_dom != 0)
		*why = "remote domain set on a local port";
	if (*why)
		return -EINVAL;
	c->ports[port] = *p;
	return 0;
}
