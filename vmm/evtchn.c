/* event_channel_op (32): the port table's binding to KVM (xen-guest-abi.md
 * §4).  The table and its rules are xenstate/evtchn_core.c; what happens
 * here is what KVM and this process add to them: in-kernel delivery, the
 * Domain-0 ends' eventfds, the VIRQ_TIMER hand-over, the pending bits. */
#include "evtchn.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "domus/log.h"
#include "vm.h"
#include "xen/hypercall.h"

void evtchn_init(struct evtchn_table *t, uint16_t domid, uint32_t nr_vcpus)
{
	pthread_mutex_init(&t->lock, NULL);
	evtchn_core_init(&t->core, domid, nr_vcpus);
	for (int i = 0; i < EVTCHN_NR_PORTS; i++) {
		t->notify_fd[i] = -1;
		t->kvm_registered[i] = 0;
	}
	memset(t->timer_want, 0, sizeof(t->timer_want));
}

/* Tell KVM to handle the guest's EVTCHNOP_send on this port in kernel: an IPI
 * loops back to the same port, an interdomain port signals the eventfd of
 * its Domain-0 end.  Called with the table locked. */
static int kvm_register(struct vm *vm, uint32_t port)
{
	struct evtchn_table *t = &vm->evtchn;
	const struct evtchn_port *p = &t->core.ports[port];
	struct kvm_xen_hvm_attr a = { .type = KVM_XEN_ATTR_TYPE_EVTCHN };

	a.u.evtchn.send_port = port;
	if (p->state == EVTCHNSTAT_ipi) {
		a.u.evtchn.type = EVTCHNSTAT_ipi;
		a.u.evtchn.deliver.port.port = port;
		a.u.evtchn.deliver.port.vcpu = p->vcpu;
		a.u.evtchn.deliver.port.priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL;
	} else if (p->state == EVTCHNSTAT_interdomain && t->notify_fd[port] >= 0) {
		a.u.evtchn.type = EVTCHNSTAT_interdomain;
		a.u.evtchn.deliver.eventfd.port = 0;
		a.u.evtchn.deliver.eventfd.fd = t->notify_fd[port];
	} else {
		return 0;
	}
	if (t->kvm_registered[port])
		a.u.evtchn.flags = KVM_XEN_EVTCHN_UPDATE;
	if (vm_set_xen_attr(vm, &a) < 0)
		return -EINVAL;
	t->kvm_registered[port] = 1;
	return 0;
}

static void kvm_unregister(struct vm *vm, uint32_t port)
{
	struct evtchn_table *t = &vm->evtchn;
	struct kvm_xen_hvm_attr a = { .type = KVM_XEN_ATTR_TYPE_EVTCHN };

	if (!t->kvm_registered[port])
		return;
	a.u.evtchn.send_port = port;
	a.u.evtchn.flags = KVM_XEN_EVTCHN_DEASSIGN;
	vm_set_xen_attr(vm, &a);
	t->kvm_registered[port] = 0;
}

int evtchn_sync_kvm(struct vm *vm)
{
	struct evtchn_table *t = &vm->evtchn;
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	for (uint32_t p = 1; p < EVTCHN_NR_PORTS && rc == 0; p++) {
		if (t->core.ports[p].state != EVTCHNSTAT_closed && !t->kvm_registered[p])
			rc = kvm_register(vm, p);
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* Raise a port in the guest: KVM sets pending, the selector bit and
 * upcall_pending on the bound vCPU and kicks it.  Without shared_info or the
 * vCPU's vcpu_info KVM refuses, and the event stays ours to drop. */
static int deliver(struct vm *vm, uint32_t port, uint32_t vcpu)
{
	if (!vm->shared_info_gpa)
		return -EAGAIN;
	return vm_evtchn_send(vm, port, vcpu);
}

/* The vCPU an open port is bound to; -EINVAL for port 0, a port out of
 * range or a closed one. */
static int bound_vcpu(struct evtchn_table *t, uint32_t port, uint32_t *vcpu)
{
	int rc;

	pthread_mutex_lock(&t->lock);
	rc = evtchn_core_bound_vcpu(&t->core, port, vcpu);
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
	rc = evtchn_core_alloc_interdomain(&t->core, remote_dom, port);
	if (rc == 0) {
		t->notify_fd[*port] = notify_fd;
		rc = kvm_register(vm, *port);
		/* A port KVM would not take is no back end's: left open with the
		 * fd, a save would carry it and the load refuse to attach it
		 * (KVM takes ports above 1023 only in long mode). */
		if (rc < 0) {
			struct evtchn_port was;

			t->notify_fd[*port] = -1;
			(void)evtchn_core_close(&t->core, *port, &was);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int evtchn_attach_notify(struct vm *vm, uint32_t port, int notify_fd)
{
	struct evtchn_table *t = &vm->evtchn;
	const struct evtchn_port *p;
	int rc = -EINVAL;

	pthread_mutex_lock(&t->lock);
	p = evtchn_core_port(&t->core, port);
	if (p && p->state == EVTCHNSTAT_interdomain && t->notify_fd[port] < 0) {
		t->notify_fd[port] = notify_fd;
		rc = kvm_register(vm, port);
		if (rc < 0)
			t->notify_fd[port] = -1;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int evtchn_bind_backend(struct vm *vm, uint32_t port, int notify_fd)
{
	struct evtchn_table *t = &vm->evtchn;
	int rc;

	pthread_mutex_lock(&t->lock);
	rc = evtchn_core_bind_remote(&t->core, port, 0);
	if (rc == 0) {
		t->notify_fd[port] = notify_fd;
		rc = kvm_register(vm, port);
		if (rc < 0) {
			t->notify_fd[port] = -1;
			(void)evtchn_core_unbind_remote(&t->core, port, 0);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void evtchn_unbind_backend(struct vm *vm, uint32_t port, int notify_fd)
{
	struct evtchn_table *t = &vm->evtchn;

	pthread_mutex_lock(&t->lock);
	if (port < EVTCHN_NR_PORTS && notify_fd >= 0 && t->notify_fd[port] == notify_fd &&
	    evtchn_core_unbind_remote(&t->core, port, 0) == 0) {
		/* A VM that ends takes KVM's routes with it (and a sandboxed
		 * monitor's main thread, which stops the devices, may not ask). */
		if (!vm->ending)
			kvm_unregister(vm, port);
		t->notify_fd[port] = -1;
	}
	pthread_mutex_unlock(&t->lock);
}

int evtchn_backend_port(struct vm *vm, unsigned param, int notify_fd, uint32_t *port)
{
	if (!vm->restored)
		return evtchn_alloc_interdomain(vm, 0, notify_fd, port);
	if (vm->hvm_params[param] >= EVTCHN_NR_PORTS)
		return -EINVAL;
	*port = (uint32_t)vm->hvm_params[param];
	return evtchn_attach_notify(vm, *port, notify_fd);
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

/* Raise port and let quiet ride along in the same upcall: quiet's pending
 * bit is set first, then port goes through KVM, which raises the upcall.
 * Two sends from the back-end loop are two wake-ups of a halted vCPU: the
 * first one's wake-up can preempt the loop before it makes the second
 * (docs/netback.md, "Notifications").  Taken only when both ports are
 * bound to one vCPU and share a word of evtchn_pending, and port is
 * neither pending already nor masked: then port's upcall (or its unmask,
 * which re-raises it: op_unmask) brings the guest's scan of that word,
 * which finds quiet too (Linux 6.1 drivers/xen/events/events_2l.c
 * evtchn_2l_handle_events reads the live word).  quiet masked is Xen's
 * pending-while-masked, delivered at its unmask.  Otherwise two sends. */
int evtchn_notify_guest_pair(struct vm *vm, uint32_t quiet, uint32_t port)
{
	uint64_t *pending = shinfo_words(vm, offsetof(struct shared_info, evtchn_pending));
	uint64_t *mask = shinfo_words(vm, offsetof(struct shared_info, evtchn_mask));
	uint64_t bit = 1ULL << (port % 64);
	uint32_t qv, pv;
	int rc, rc2;

	if (bound_vcpu(&vm->evtchn, quiet, &qv) < 0)
		return evtchn_notify_guest(vm, port);
	if (bound_vcpu(&vm->evtchn, port, &pv) < 0)
		return deliver(vm, quiet, qv);
	if (pending && mask && qv == pv && quiet / 64 == port / 64 && quiet != port &&
	    !((__atomic_load_n(&pending[port / 64], __ATOMIC_SEQ_CST) |
	       __atomic_load_n(&mask[port / 64], __ATOMIC_SEQ_CST)) & bit)) {
		__atomic_fetch_or(&pending[quiet / 64], 1ULL << (quiet % 64), __ATOMIC_SEQ_CST);
		return deliver(vm, port, pv);
	}
	rc = deliver(vm, quiet, qv);
	rc2 = deliver(vm, port, pv);
	return rc < 0 ? rc : rc2;
}

struct timer_set {
	uint64_t expires_ns;
	bool need_port;
};

/* On the target's thread (or the caller's when the target is not running),
 * with the table locked from reading the port to KVM taking it: all of a
 * vCPU's timer changes are ordered, and the last one made after a bind or
 * close reads what that bind or close left.  The ioctl does not wait on
 * anything, so holding the lock across it blocks nobody for long.  (The
 * port read before the lock and set after it let a close on another vCPU
 * between the two leave KVM firing on the closed, maybe reused, port:
 * tests/lab/hcrace.) */
static int timer_set_here(struct vm *vm, int target, void *arg)
{
	const struct timer_set *ts = arg;
	struct evtchn_table *t = &vm->evtchn;
	struct kvm_xen_vcpu_attr a = {
		.type = KVM_XEN_VCPU_ATTR_TYPE_TIMER,
		.u.timer = { .priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL, .expires_ns = ts->expires_ns },
	};
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	a.u.timer.port = t->timer_want[target];
	if (!a.u.timer.port && ts->need_port)
		rc = -EINVAL; /* no VIRQ_TIMER bound: nowhere to deliver */
	else if (vm->kvm->set_vcpu_attr(vm, target, &a) < 0)
		rc = -EINVAL;
	else
		__atomic_store_n(&vm->vcpus[target].timer_port, a.u.timer.port, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int evtchn_timer_set(struct vm *vm, int vcpu, uint32_t target, uint64_t expires_ns, bool need_port)
{
	struct timer_set ts = { expires_ns, need_port };

	if (target >= (uint32_t)vm->nr_vcpus)
		return -EINVAL;
	return vm_vcpu_run_on(vm, (int)target, timer_set_here, &ts, (int)target == vcpu);
}

int evtchn_post_load(struct vm *vm)
{
	struct evtchn_table *t = &vm->evtchn;
	int rc;

	pthread_mutex_lock(&t->lock);
	memset(t->timer_want, 0, sizeof(t->timer_want));
	for (uint32_t p = 1; p < EVTCHN_NR_PORTS; p++) {
		const struct evtchn_port *e = &t->core.ports[p];

		t->kvm_registered[p] = 0;
		t->notify_fd[p] = -1;
		if (e->state == EVTCHNSTAT_virq && e->virq == VIRQ_TIMER && e->vcpu < XEN_LEGACY_MAX_VCPUS)
			t->timer_want[e->vcpu] = p;
	}
	pthread_mutex_unlock(&t->lock);
	rc = evtchn_sync_kvm(vm);
	for (int i = 0; i < vm->nr_vcpus && rc == 0; i++) {
		if (t->timer_want[i])
			rc = evtchn_timer_set(vm, -1, (uint32_t)i, 0, true);
	}
	return rc;
}

static int op_close(struct vm *vm, int vcpu, uint32_t port)
{
	struct evtchn_table *t = &vm->evtchn;
	struct evtchn_port was;
	uint64_t *pending;
	int timer_vcpu = -1;

	pthread_mutex_lock(&t->lock);
	if (!evtchn_core_port(&t->core, port)) {
		pthread_mutex_unlock(&t->lock);
		return -EINVAL;
	}
	kvm_unregister(vm, port);
	evtchn_core_close(&t->core, port, &was);
	t->notify_fd[port] = -1;
	if (was.state == EVTCHNSTAT_virq && was.virq == VIRQ_TIMER && was.vcpu < XEN_LEGACY_MAX_VCPUS &&
	    t->timer_want[was.vcpu] == port) {
		t->timer_want[was.vcpu] = 0;
		timer_vcpu = (int)was.vcpu;
	}
	/* A stale pending bit would fire on the next bind of this port
	 * (QEMU xen_evtchn.c free_port). */
	pending = shinfo_words(vm, offsetof(struct shared_info, evtchn_pending));
	if (pending)
		__atomic_fetch_and(&pending[port / 64], ~(1ULL << (port % 64)), __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&t->lock);
	/* A closed port may be given out again: KVM must not keep firing the
	 * timer on it. */
	if (timer_vcpu >= 0)
		evtchn_timer_set(vm, vcpu, (uint32_t)timer_vcpu, 0, false);
	return 0;
}

static int op_bind_virq(struct vm *vm, int vcpu, struct evtchn_bind_virq *b)
{
	struct evtchn_table *t = &vm->evtchn;
	uint32_t port;
	int rc;

	pthread_mutex_lock(&t->lock);
	rc = evtchn_core_bind_virq(&t->core, b->virq, b->vcpu, &port);
	if (rc == 0 && b->virq == VIRQ_TIMER && b->vcpu < XEN_LEGACY_MAX_VCPUS)
		t->timer_want[b->vcpu] = port;
	pthread_mutex_unlock(&t->lock);
	if (rc < 0)
		return rc;
	if (b->virq == VIRQ_TIMER) {
		rc = evtchn_timer_set(vm, vcpu, b->vcpu, 0, true);
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
	struct evtchn_port was;
	uint32_t port;
	int rc;

	pthread_mutex_lock(&t->lock);
	rc = evtchn_core_bind_ipi(&t->core, b->vcpu, &port);
	if (rc == 0) {
		rc = kvm_register(vm, port);
		if (rc < 0)
			evtchn_core_close(&t->core, port, &was);
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

	pthread_mutex_lock(&t->lock);
	rc = evtchn_core_alloc_unbound(&t->core, a->dom, a->remote_dom, &port);
	pthread_mutex_unlock(&t->lock);
	if (rc == 0)
		a->port = port;
	return rc;
}

static int op_send(struct vm *vm, uint32_t port)
{
	struct evtchn_table *t = &vm->evtchn;
	struct evtchn_port p;
	uint64_t one = 1;
	int fd = -1, rc;

	/* The write is made under the lock: a back end's port closed on the
	 * loop meanwhile (be_dp.c be_port_close) closes its eventfd, and the
	 * number, given out again to an image or a socket, would take the 8
	 * bytes.  An eventfd write does not block (the counter is far from
	 * full: the back end reads it on every wake-up). */
	pthread_mutex_lock(&t->lock);
	rc = evtchn_core_send(&t->core, port, &p);
	if (rc == 0 && p.state == EVTCHNSTAT_interdomain)
		fd = t->notify_fd[port];
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		log_debug(vm->name, "port %u: notify failed", port); /* a full eventfd still says "look" */
	pthread_mutex_unlock(&t->lock);
	if (rc < 0)
		return rc;
	if (p.state == EVTCHNSTAT_ipi)
		deliver(vm, port, p.vcpu);
	return 0; /* an unbound port drops the event, as Xen does */
}

static int op_status(struct vm *vm, struct evtchn_status *s)
{
	struct evtchn_table *t = &vm->evtchn;
	int rc;

	pthread_mutex_lock(&t->lock);
	rc = evtchn_core_status(&t->core, s);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

static int op_bind_vcpu(struct vm *vm, struct evtchn_bind_vcpu *b)
{
	struct evtchn_table *t = &vm->evtchn;
	int rc;

	pthread_mutex_lock(&t->lock);
	rc = evtchn_core_bind_vcpu(&t->core, b->port, b->vcpu);
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

	/* The table's domid never changes: no lock needed to read it. */
	if (!evtchn_core_is_self(&vm->evtchn.core, dom))
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
