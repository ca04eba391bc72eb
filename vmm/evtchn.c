/* event_channel_op (32) and the port table (xen-guest-abi.md §4). */
#include "evtchn.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "domus/log.h"
#include "vm.h"
#include "xen/hypercall.h"

/* Per-vCPU VIRQs; every other VIRQ is global and binds on vCPU 0 only. */
static int virq_is_per_vcpu(uint32_t virq)
{
	return virq == VIRQ_TIMER || virq == VIRQ_DEBUG || virq == VIRQ_XENOPROF || virq == VIRQ_XENPMU;
}

void evtchn_init(struct evtchn_table *t)
{
	pthread_mutex_init(&t->lock, NULL);
	for (int i = 0; i < EVTCHN_NR_PORTS; i++) {
		t->ports[i] = (struct evtchn_port){ .state = EVTCHNSTAT_closed, .notify_fd = -1 };
	}
}

/* Called with the table locked; port 0 is never valid. */
static int alloc_port(struct evtchn_table *t, uint32_t *port)
{
	for (uint32_t p = 1; p < EVTCHN_NR_PORTS; p++) {
		if (t->ports[p].state == EVTCHNSTAT_closed) {
			*port = p;
			return 0;
		}
	}
	return -ENOSPC;
}

static struct evtchn_port *valid_port(struct evtchn_table *t, uint32_t port)
{
	if (port == 0 || port >= EVTCHN_NR_PORTS || t->ports[port].state == EVTCHNSTAT_closed)
		return NULL;
	return &t->ports[port];
}

/* Tell KVM to handle the guest's EVTCHNOP_send on this port in kernel: an IPI
 * loops back to the same port, an interdomain port signals the eventfd of
 * its Domain-0 end. */
static int kvm_register(struct vm *vm, uint32_t port, struct evtchn_port *p)
{
	struct kvm_xen_hvm_attr a = { .type = KVM_XEN_ATTR_TYPE_EVTCHN };

	a.u.evtchn.send_port = port;
	if (p->state == EVTCHNSTAT_ipi) {
		a.u.evtchn.type = EVTCHNSTAT_ipi;
		a.u.evtchn.deliver.port.port = port;
		a.u.evtchn.deliver.port.vcpu = p->vcpu;
		a.u.evtchn.deliver.port.priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL;
	} else if (p->state == EVTCHNSTAT_interdomain && p->notify_fd >= 0) {
		a.u.evtchn.type = EVTCHNSTAT_interdomain;
		a.u.evtchn.deliver.eventfd.port = 0;
		a.u.evtchn.deliver.eventfd.fd = p->notify_fd;
	} else {
		return 0;
	}
	if (p->kvm_registered)
		a.u.evtchn.flags = KVM_XEN_EVTCHN_UPDATE;
	if (vm_set_xen_attr(vm, &a) < 0)
		return -EINVAL;
	p->kvm_registered = 1;
	return 0;
}

static void kvm_unregister(struct vm *vm, uint32_t port, struct evtchn_port *p)
{
	struct kvm_xen_hvm_attr a = { .type = KVM_XEN_ATTR_TYPE_EVTCHN };

	if (!p->kvm_registered)
		return;
	a.u.evtchn.send_port = port;
	a.u.evtchn.flags = KVM_XEN_EVTCHN_DEASSIGN;
	vm_set_xen_attr(vm, &a);
	p->kvm_registered = 0;
}

int evtchn_sync_kvm(struct vm *vm)
{
	struct evtchn_table *t = &vm->evtchn;
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	for (uint32_t p = 1; p < EVTCHN_NR_PORTS && rc == 0; p++) {
		if (t->ports[p].state != EVTCHNSTAT_closed && !t->ports[p].kvm_registered)
			rc = kvm_register(vm, p, &t->ports[p]);
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* Raise a port in the guest: KVM sets pending, the selector bit and
 * upcall_pending on the bound vCPU and kicks it.  Without shared_info or the
 * vCPU's vcpu_info KVM refuses, and the event stays ours to drop. */
static int deliver(struct vm *vm, uint32_t port, uint32_t vcpu)
{
	struct kvm_irq_routing_xen_evtchn e = {
		.port = port, .vcpu = vcpu, .priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL,
	};

	if (!vm->shared_info_gpa)
		return -EAGAIN;
	return ioctl(vm->fd, KVM_XEN_HVM_EVTCHN_SEND, &e) < 0 ? -errno : 0;
}

/* The vCPU an open port is bound to; -EINVAL for port 0, a port out of
 * range or a closed one. */
static int bound_vcpu(struct evtchn_table *t, uint32_t port, uint32_t *vcpu)
{
	struct evtchn_port *p;
	int rc = -EINVAL;

	pthread_mutex_lock(&t->lock);
	p = valid_port(t, port);
	if (p) {
		*vcpu = p->vcpu;
		rc = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int evtchn_notify_guest(struct vm *vm, uint32_t port)
{
	uint32_t vcpu;
	int rc = bound_vcpu(&vm->evtchn, port, &vcpu);

	return rc < 0 ? rc : deliver(vm, port, vcpu);
}

int evtchn_alloc_interdomain(struct vm *vm, uint16_t remote_dom, int notify_fd, uint32_t *port)
{
	struct evtchn_table *t = &vm->evtchn;
	int rc;

	pthread_mutex_lock(&t->lock);
	rc = alloc_port(t, port);
	if (rc == 0) {
		t->ports[*port] = (struct evtchn_port){
			.state = EVTCHNSTAT_interdomain, .remote_dom = remote_dom, .notify_fd = notify_fd,
		};
		rc = kvm_register(vm, *port, &t->ports[*port]);
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

static uint64_t *shinfo_words(struct vm *vm, size_t off)
{
	if (!vm->shared_info_gpa)
		return NULL;
	return gmem_ptr(&vm->mem, vm->shared_info_gpa + off, EVTCHN_NR_PORTS / 8);
}

/* Re-raise a pending, unmasked port on its vCPU: KVM's send stops at an
 * already-set pending bit, so clear it first and send again. */
static void reraise_if_pending(struct vm *vm, uint32_t port, uint32_t vcpu)
{
	uint64_t *pending = shinfo_words(vm, offsetof(struct shared_info, evtchn_pending));
	uint64_t *mask = shinfo_words(vm, offsetof(struct shared_info, evtchn_mask));
	uint64_t bit = 1ULL << (port % 64);

	if (!pending || !mask)
		return;
	if ((__atomic_load_n(&pending[port / 64], __ATOMIC_SEQ_CST) & bit) &&
	    !(__atomic_load_n(&mask[port / 64], __ATOMIC_SEQ_CST) & bit)) {
		__atomic_fetch_and(&pending[port / 64], ~bit, __ATOMIC_SEQ_CST);
		deliver(vm, port, vcpu);
	}
}

/* KVM's Xen timer of vCPU target fires on port; port 0 stops it and hands
 * the guest's timer hypercalls back to us (KVM answers them in kernel only
 * while it has a port). */
static int bind_timer(struct vm *vm, int vcpu, uint32_t target, uint32_t port)
{
	struct kvm_xen_vcpu_attr a = {
		.type = KVM_XEN_VCPU_ATTR_TYPE_TIMER,
		.u.timer = { .port = port, .priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL },
	};

	if (vm_set_vcpu_attr(vm, (int)target, &a, (int)target == vcpu) < 0)
		return -EINVAL;
	vm->vcpus[target].timer_port = port;
	return 0;
}

static int op_close(struct vm *vm, int vcpu, uint32_t port)
{
	struct evtchn_table *t = &vm->evtchn;
	uint64_t *pending;
	struct evtchn_port *p;
	int timer_vcpu = -1;

	pthread_mutex_lock(&t->lock);
	p = valid_port(t, port);
	if (!p) {
		pthread_mutex_unlock(&t->lock);
		return -EINVAL;
	}
	kvm_unregister(vm, port, p);
	if (p->state == EVTCHNSTAT_virq && p->virq == VIRQ_TIMER)
		timer_vcpu = (int)p->vcpu;
	*p = (struct evtchn_port){ .state = EVTCHNSTAT_closed, .notify_fd = -1 };
	/* A stale pending bit would fire on the next bind of this port
	 * (QEMU xen_evtchn.c free_port). */
	pending = shinfo_words(vm, offsetof(struct shared_info, evtchn_pending));
	if (pending)
		__atomic_fetch_and(&pending[port / 64], ~(1ULL << (port % 64)), __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&t->lock);
	/* A closed port may be given out again: KVM must not keep firing the
	 * timer on it. */
	if (timer_vcpu >= 0 && vm->vcpus[timer_vcpu].timer_port == port)
		bind_timer(vm, vcpu, (uint32_t)timer_vcpu, 0);
	return 0;
}

static int op_bind_virq(struct vm *vm, int vcpu, struct evtchn_bind_virq *b)
{
	struct evtchn_table *t = &vm->evtchn;
	uint32_t port;
	int rc;

	if (b->virq >= NR_VIRQS || b->vcpu >= (uint32_t)vm->nr_vcpus)
		return -EINVAL;
	if (!virq_is_per_vcpu(b->virq) && b->vcpu != 0)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	for (uint32_t p = 1; p < EVTCHN_NR_PORTS; p++) {
		if (t->ports[p].state == EVTCHNSTAT_virq && t->ports[p].virq == b->virq &&
		    t->ports[p].vcpu == b->vcpu) {
			pthread_mutex_unlock(&t->lock);
			return -EEXIST;
		}
	}
	rc = alloc_port(t, &port);
	if (rc == 0)
		t->ports[port] = (struct evtchn_port){
			.state = EVTCHNSTAT_virq, .virq = b->virq, .vcpu = b->vcpu, .notify_fd = -1,
		};
	pthread_mutex_unlock(&t->lock);
	if (rc < 0)
		return rc;
	if (b->virq == VIRQ_TIMER) {
		rc = bind_timer(vm, vcpu, b->vcpu, port);
		if (rc < 0) {
			op_close(vm, vcpu, port);
			return rc;
		}
	}
	b->port = port;
	return 0;
}

static int op_bind_ipi(struct vm *vm, struct evtchn_bind_ipi *b)
{
	struct evtchn_table *t = &vm->evtchn;
	uint32_t port;
	int rc;

	if (b->vcpu >= (uint32_t)vm->nr_vcpus)
		return -ENOENT;
	pthread_mutex_lock(&t->lock);
	rc = alloc_port(t, &port);
	if (rc == 0) {
		t->ports[port] = (struct evtchn_port){ .state = EVTCHNSTAT_ipi, .vcpu = b->vcpu, .notify_fd = -1 };
		rc = kvm_register(vm, port, &t->ports[port]);
		if (rc < 0)
			t->ports[port].state = EVTCHNSTAT_closed;
	}
	pthread_mutex_unlock(&t->lock);
	if (rc == 0)
		b->port = port;
	return rc;
}

static int op_alloc_unbound(struct vm *vm, struct evtchn_alloc_unbound *a)
{
	struct evtchn_table *t = &vm->evtchn;
	uint32_t port;
	int rc;

	if (a->dom != DOMID_SELF && a->dom != vm->domid)
		return -EPERM;
	pthread_mutex_lock(&t->lock);
	rc = alloc_port(t, &port);
	if (rc == 0)
		t->ports[port] = (struct evtchn_port){
			.state = EVTCHNSTAT_unbound, .remote_dom = a->remote_dom, .notify_fd = -1,
		};
	pthread_mutex_unlock(&t->lock);
	if (rc == 0)
		a->port = port;
	return rc;
}

static int op_send(struct vm *vm, uint32_t port)
{
	struct evtchn_table *t = &vm->evtchn;
	struct evtchn_port *p;
	uint32_t vcpu = 0;
	int fd = -1, ipi = 0;
	uint64_t one = 1;

	pthread_mutex_lock(&t->lock);
	p = valid_port(t, port);
	if (!p) {
		pthread_mutex_unlock(&t->lock);
		return -EINVAL;
	}
	if (p->state == EVTCHNSTAT_ipi) {
		ipi = 1;
		vcpu = p->vcpu;
	} else if (p->state == EVTCHNSTAT_interdomain) {
		fd = p->notify_fd;
	} else if (p->state != EVTCHNSTAT_unbound) {
		pthread_mutex_unlock(&t->lock);
		return -EINVAL; /* VIRQs are raised by Xen, not sent */
	}
	pthread_mutex_unlock(&t->lock);
	if (ipi)
		deliver(vm, port, vcpu);
	else if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		log_debug(vm->name, "port %u: notify failed", port); /* a full eventfd still says "look" */
	return 0; /* an unbound port drops the event, as Xen does */
}

static int op_status(struct vm *vm, struct evtchn_status *s)
{
	struct evtchn_table *t = &vm->evtchn;
	struct evtchn_port *p;

	if (s->dom != DOMID_SELF && s->dom != vm->domid)
		return -ESRCH;
	if (s->port == 0 || s->port >= EVTCHN_NR_PORTS)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	p = &t->ports[s->port];
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
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static int op_bind_vcpu(struct vm *vm, struct evtchn_bind_vcpu *b)
{
	struct evtchn_table *t = &vm->evtchn;
	struct evtchn_port *p;
	int rc = 0;

	if (b->vcpu >= (uint32_t)vm->nr_vcpus)
		return -ENOENT;
	pthread_mutex_lock(&t->lock);
	p = valid_port(t, b->port);
	if (!p)
		rc = -EINVAL;
	else if (p->state == EVTCHNSTAT_ipi || (p->state == EVTCHNSTAT_virq && virq_is_per_vcpu(p->virq)))
		rc = -EINVAL;
	else
		p->vcpu = b->vcpu;
	pthread_mutex_unlock(&t->lock);
	if (rc == 0)
		reraise_if_pending(vm, b->port, b->vcpu);
	return rc;
}

static int op_unmask(struct vm *vm, uint32_t port)
{
	uint64_t *mask = shinfo_words(vm, offsetof(struct shared_info, evtchn_mask));
	uint32_t vcpu;
	int rc = bound_vcpu(&vm->evtchn, port, &vcpu);

	if (rc < 0)
		return rc;
	if (mask)
		__atomic_fetch_and(&mask[port / 64], ~(1ULL << (port % 64)), __ATOMIC_SEQ_CST);
	reraise_if_pending(vm, port, vcpu);
	return 0;
}

/* Uniform entry points for the op table; each receives its argument struct,
 * already copied in from the guest. */
static int do_bind_virq(struct vm *vm, int vcpu, void *a) { return op_bind_virq(vm, vcpu, a); }
static int do_close(struct vm *vm, int vcpu, void *a) { return op_close(vm, vcpu, ((struct evtchn_close *)a)->port); }
static int do_send(struct vm *vm, int vcpu, void *a) { return op_send(vm, ((struct evtchn_send *)a)->port); }
static int do_status(struct vm *vm, int vcpu, void *a) { return op_status(vm, a); }
static int do_alloc_unbound(struct vm *vm, int vcpu, void *a) { return op_alloc_unbound(vm, a); }
static int do_bind_ipi(struct vm *vm, int vcpu, void *a) { return op_bind_ipi(vm, a); }
static int do_bind_vcpu(struct vm *vm, int vcpu, void *a) { return op_bind_vcpu(vm, a); }
static int do_unmask(struct vm *vm, int vcpu, void *a) { return op_unmask(vm, ((struct evtchn_unmask *)a)->port); }

static int do_reset(struct vm *vm, int vcpu, void *a)
{
	domid_t dom = ((struct evtchn_reset *)a)->dom;

	if (dom != DOMID_SELF && dom != vm->domid)
		return -ESRCH;
	for (uint32_t p = 1; p < EVTCHN_NR_PORTS; p++)
		op_close(vm, vcpu, p);
	return 0;
}

/* One row per op: handler, argument size, whether results are copied back.
 * FIFO (init_control, expand_array, set_priority) is not offered: Linux
 * falls back to the 2-level ABI, the only one KVM delivers. */
static const struct {
	int (*fn)(struct vm *vm, int vcpu, void *arg);
	uint8_t size, out;
} evtchn_ops[] = {
	[EVTCHNOP_bind_virq] = { do_bind_virq, sizeof(struct evtchn_bind_virq), 1 },
	[EVTCHNOP_close] = { do_close, sizeof(struct evtchn_close), 0 },
	[EVTCHNOP_send] = { do_send, sizeof(struct evtchn_send), 0 },
	[EVTCHNOP_status] = { do_status, sizeof(struct evtchn_status), 1 },
	[EVTCHNOP_alloc_unbound] = { do_alloc_unbound, sizeof(struct evtchn_alloc_unbound), 1 },
	[EVTCHNOP_bind_ipi] = { do_bind_ipi, sizeof(struct evtchn_bind_ipi), 1 },
	[EVTCHNOP_bind_vcpu] = { do_bind_vcpu, sizeof(struct evtchn_bind_vcpu), 0 },
	[EVTCHNOP_unmask] = { do_unmask, sizeof(struct evtchn_unmask), 0 },
	[EVTCHNOP_reset] = { do_reset, sizeof(struct evtchn_reset), 0 },
};

int evtchn_hypercall(struct vm *vm, int vcpu, uint64_t cmd, uint64_t arg)
{
	union {
		struct evtchn_bind_virq bind_virq;
		struct evtchn_status status;
		struct evtchn_alloc_unbound alloc_unbound;
		struct evtchn_bind_ipi bind_ipi;
		struct evtchn_bind_vcpu bind_vcpu;
		struct evtchn_reset reset;
	} u;
	int rc;

	if (cmd >= sizeof(evtchn_ops) / sizeof(evtchn_ops[0]) || !evtchn_ops[cmd].fn ||
	    evtchn_ops[cmd].size > sizeof(u))
		return -ENOSYS;
	rc = guest_copy_from(vm, vcpu, arg, &u, evtchn_ops[cmd].size);
	if (rc == 0)
		rc = evtchn_ops[cmd].fn(vm, vcpu, &u);
	if (rc == 0 && evtchn_ops[cmd].out)
		rc = guest_copy_to(vm, vcpu, arg, &u, evtchn_ops[cmd].size);
	return rc;
}

int64_t hc_event_channel_op(struct vm *vm, int vcpu, const uint64_t a[6])
{
	return evtchn_hypercall(vm, vcpu, a[0], a[1]);
}
