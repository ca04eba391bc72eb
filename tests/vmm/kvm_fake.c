/* The fake KVM of kvm_fake.h.  Each action follows Linux 6.1's
 * arch/x86/kvm/xen.c (kvm_xen_hvm_set_attr, kvm_xen_vcpu_set_attr,
 * kvm_xen_eventfd_assign/_update/_deassign, kvm_xen_hvm_evtchn_send,
 * kvm_xen_set_evtchn_fast) and virt/kvm/kvm_main.c
 * (__kvm_set_memory_region, kvm_check_memslot_overlap) for what it refuses. */
#include "kvm_fake.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "console.h"
#include "xen/xen_abi.h"

#define PAGE 4096ULL
/* The checks walk every port and slot: no coverage feedback from them. */
#ifdef __clang__
#define KF_NOCOV __attribute__((no_sanitize("coverage")))
#else
#define KF_NOCOV
#endif
#define SPECIAL_BYTES (LAYOUT_SPECIAL_PAGES * PAGE)

static struct kvm_fake *fake_of(struct vm *vm)
{
	return (struct kvm_fake *)(void *)vm; /* vm is the fake's first member */
}

static bool failing(struct kvm_fake *f, enum kf_action a, int *rc)
{
	f->calls[a]++;
	if (f->fail != a)
		return false;
	f->fail = KF_NONE;
	*rc = f->fail_rc ? f->fail_rc : -EINVAL;
	return true;
}

/* The slot holding [gpa, gpa + len), or NULL (a guest page cache needs its
 * bytes inside one memslot). */
static const struct kf_slot *slot_at(const struct kvm_fake *f, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < KF_MAX_SLOTS; i++) {
		const struct kf_slot *s = &f->slot[i];
		if (s->used && gpa >= s->gpa && gpa - s->gpa + len <= s->size && gpa + len >= gpa)
			return s;
	}
	return NULL;
}

/* kvm_gpc_activate(): inside one page and one memslot. */
static int gpc_check(const struct kvm_fake *f, uint64_t gpa, uint64_t len)
{
	if ((gpa & (PAGE - 1)) + len > PAGE)
		return -EINVAL;
	return slot_at(f, gpa, len) ? 0 : -EFAULT;
}

static uint32_t max_port(const struct kvm_fake *f)
{
	return f->long_mode ? 4096 : 1024; /* EVTCHN_2L_NR_CHANNELS, its compat size */
}

static int fake_translate(struct vm *vm, int vcpu, uint64_t gva, uint64_t *gpa)
{
	struct kvm_fake *f = fake_of(vm);
	uint64_t page = gva / PAGE;
	int rc;

	if (failing(f, KF_TRANSLATE, &rc))
		return rc;
	if (vcpu < 0 || vcpu >= vm->nr_vcpus)
		return -EBADF; /* no such vCPU fd */
	if (page >= KF_VA_PAGES || f->va[page] == KF_NO_GPA)
		return -EFAULT;
	*gpa = f->va[page] + (gva & (PAGE - 1));
	return 0;
}

static int evtchn_assign(struct kvm_fake *f, const struct kvm_xen_hvm_attr *a)
{
	uint32_t port = a->u.evtchn.send_port;
	struct kf_port *p;

	if (a->u.evtchn.flags == KVM_XEN_EVTCHN_RESET) {
		memset(f->port, 0, sizeof(f->port));
		return 0;
	}
	if (!port || port >= max_port(f))
		return -EINVAL;
	p = &f->port[port];
	if (a->u.evtchn.flags == KVM_XEN_EVTCHN_DEASSIGN) {
		if (!p->assigned)
			return -ENOENT;
		*p = (struct kf_port){ 0 };
		return 0;
	}
	if (a->u.evtchn.flags == KVM_XEN_EVTCHN_UPDATE) {
		if (!p->assigned)
			return -ENOENT;
		/* Only the vCPU and priority of a port-delivered one may change. */
		if (p->type != a->u.evtchn.type || p->type != EVTCHNSTAT_ipi ||
		    a->u.evtchn.deliver.port.port != port ||
		    a->u.evtchn.deliver.port.priority != KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL)
			return -EINVAL;
		p->vcpu = a->u.evtchn.deliver.port.vcpu;
		return 0;
	}
	if (a->u.evtchn.flags)
		return -EINVAL;
	switch (a->u.evtchn.type) {
	case EVTCHNSTAT_ipi:
		if (a->u.evtchn.deliver.port.port != port ||
		    a->u.evtchn.deliver.port.priority != KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL)
			return -EINVAL;
		break;
	case EVTCHNSTAT_interdomain:
		/* This monitor always gives an eventfd (deliver port 0). */
		if (a->u.evtchn.deliver.eventfd.port != 0 || a->u.evtchn.deliver.eventfd.fd < 0 ||
		    fcntl(a->u.evtchn.deliver.eventfd.fd, F_GETFD) < 0)
			return -EBADF;
		break;
	default:
		return -EINVAL;
	}
	if (p->assigned)
		return -EEXIST;
	*p = (struct kf_port){
		.assigned = true, .type = a->u.evtchn.type, .vcpu = a->u.evtchn.deliver.port.vcpu,
		.fd = a->u.evtchn.type == EVTCHNSTAT_interdomain ? a->u.evtchn.deliver.eventfd.fd : -1,
	};
	return 0;
}

static int fake_set_xen_attr(struct vm *vm, struct kvm_xen_hvm_attr *a)
{
	struct kvm_fake *f = fake_of(vm);
	int rc;

	if (failing(f, KF_XEN_ATTR, &rc))
		return rc;
	switch (a->type) {
	case KVM_XEN_ATTR_TYPE_LONG_MODE:
		f->long_mode = a->u.long_mode != 0;
		return 0;
	case KVM_XEN_ATTR_TYPE_SHARED_INFO:
		if (a->u.shared_info.gfn == KF_NO_GPA) {
			f->shinfo_gpa = KF_NO_GPA;
			return 0;
		}
		if (a->u.shared_info.gfn > (UINT64_MAX >> 12))
			return -EINVAL;
		rc = gpc_check(f, a->u.shared_info.gfn << 12, PAGE);
		if (rc == 0)
			f->shinfo_gpa = a->u.shared_info.gfn << 12;
		return rc;
	case KVM_XEN_ATTR_TYPE_UPCALL_VECTOR:
		if (a->u.vector && a->u.vector < 0x10)
			return -EINVAL;
		f->upcall_vector = a->u.vector;
		return 0;
	case KVM_XEN_ATTR_TYPE_EVTCHN:
		return evtchn_assign(f, a);
	case KVM_XEN_ATTR_TYPE_XEN_VERSION:
		return 0;
	default:
		return -EINVAL;
	}
}

static int set_gpc(struct kvm_fake *f, uint64_t *where, uint64_t gpa, uint64_t len)
{
	int rc = gpa == KF_NO_GPA ? 0 : gpc_check(f, gpa, len);

	if (rc == 0)
		*where = gpa;
	return rc;
}

static int fake_set_vcpu_attr(struct vm *vm, int vcpu, struct kvm_xen_vcpu_attr *a)
{
	struct kvm_fake *f = fake_of(vm);
	struct kf_vcpu *v;
	int rc;

	if (failing(f, KF_VCPU_ATTR, &rc))
		return rc;
	if (vcpu < 0 || vcpu >= vm->nr_vcpus)
		return -EBADF;
	v = &f->vcpu[vcpu];
	switch (a->type) {
	case KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO:
		return set_gpc(f, &v->vcpu_info, a->u.gpa, sizeof(struct vcpu_info));
	case KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO:
		return set_gpc(f, &v->time_info, a->u.gpa, sizeof(struct vcpu_time_info));
	case KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR:
		return set_gpc(f, &v->runstate, a->u.gpa, sizeof(struct vcpu_runstate_info));
	case KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR:
		/* 6.1 kvm_xen_vcpu_set_attr: 0 (none) or 0x10 and up. */
		if (a->u.vector && a->u.vector < 0x10)
			return -EINVAL;
		v->upcall_vector = a->u.vector;
		return 0;
	case KVM_XEN_VCPU_ATTR_TYPE_TIMER:
		if (a->u.timer.port && a->u.timer.priority != KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL)
			return -EINVAL;
		v->timer_port = a->u.timer.port;
		v->timer_expires = a->u.timer.port ? a->u.timer.expires_ns : 0;
		return 0;
	default:
		return -EINVAL;
	}
}

static int fake_map_slot(struct vm *vm, int slot, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_fake *f = fake_of(vm);
	struct kf_slot *s;
	int rc;

	if (failing(f, KF_MAP_SLOT, &rc))
		return rc;
	if (slot < 0 || slot >= KF_MAX_SLOTS || (gpa | size | (uintptr_t)hva) & (PAGE - 1))
		return -EINVAL;
	s = &f->slot[slot];
	if (size == 0) {
		if (!s->used)
			return -EINVAL;
		*s = (struct kf_slot){ 0 };
		return 0;
	}
	if (gpa + size < gpa)
		return -EINVAL;
	if (s->used) {
		/* A slot keeps its size and its memory; only a move is offered. */
		if (s->size != size || s->hva != hva)
			return -EINVAL;
		if (s->gpa == gpa)
			return 0;
	}
	for (int i = 0; i < KF_MAX_SLOTS; i++) {
		const struct kf_slot *o = &f->slot[i];
		if (i != slot && o->used && gpa < o->gpa + o->size && o->gpa < gpa + size)
			return -EEXIST;
	}
	*s = (struct kf_slot){ .used = true, .gpa = gpa, .size = size, .hva = hva };
	return 0;
}

/* kvm_xen_set_evtchn_fast() for a 64-bit guest: the pending bit, unless it
 * was set already or the port is masked, raises the vCPU's upcall. */
static int fake_evtchn_send(struct vm *vm, const struct kvm_irq_routing_xen_evtchn *e)
{
	struct kvm_fake *f = fake_of(vm);
	struct shared_info *si;
	uint64_t bit;
	int rc;

	if (failing(f, KF_SEND, &rc))
		return rc;
	if (!e->port || e->port >= max_port(f) || e->priority != KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL)
		return -EINVAL;
	if (e->vcpu >= (uint32_t)vm->nr_vcpus)
		return -EINVAL;
	if (f->shinfo_gpa == KF_NO_GPA)
		return -EWOULDBLOCK;
	si = gmem_ptr(&vm->mem, f->shinfo_gpa, sizeof(*si));
	if (!si)
		return -EWOULDBLOCK; /* the fake's slots for RAM are RAM */
	bit = 1ULL << (e->port % 64);
	f->last_port = e->port;
	f->last_vcpu = e->vcpu;
	if (__atomic_fetch_or(&si->evtchn_pending[e->port / 64], bit, __ATOMIC_SEQ_CST) & bit)
		return 0;
	if (!(__atomic_load_n(&si->evtchn_mask[e->port / 64], __ATOMIC_SEQ_CST) & bit))
		f->raised++;
	return 0;
}

static const struct vm_kvm_ops kvm_fake_ops = {
	.translate = fake_translate,
	.set_xen_attr = fake_set_xen_attr,
	.set_vcpu_attr = fake_set_vcpu_attr,
	.map_slot = fake_map_slot,
	.evtchn_send = fake_evtchn_send,
};

/* The console back end is not under test: its output is counted. */
void console_guest_output(struct vm *vm, const char *buf, size_t len)
{
	(void)buf;
	fake_of(vm)->console_bytes += len;
}

void kvm_fake_map(struct kvm_fake *f, uint64_t va_page, uint64_t gpa)
{
	if (va_page < KF_VA_PAGES)
		f->va[va_page] = gpa == KF_NO_GPA ? gpa : gpa & ~(PAGE - 1);
}

/* Everything but the memory's descriptor and mapping back to its state
 * after vm_create(), memory zeroed. */
int kvm_fake_reset(struct kvm_fake *f, int nr_vcpus)
{
	struct vm *vm = &f->vm;
	struct guest_mem mem = vm->mem;
	uint64_t ram = (KF_LOW_PAGES + KF_HIGH_PAGES) * PAGE;
	int efd = vm->exit_eventfd;
	size_t size = f->mem_size;

	if (nr_vcpus < 1 || nr_vcpus > VMM_MAX_VCPUS)
		return -EINVAL;
	gnttab_fini(&vm->gnttab);
	memset(f, 0, sizeof(*f));
	f->mem_size = size;
	vm->mem = mem;
	vm->exit_eventfd = efd;
	memset(mem.hva, 0, size);
	vm->kvm = &kvm_fake_ops;
	vm->kvm_fd = vm->fd = -1;
	vm->domid = 1;
	vm->name = "fake";
	vm->nr_vcpus = nr_vcpus;
	vm_sync_init(vm);
	pthread_mutex_init(&vm->pm_lock, NULL);
	evtchn_init(&vm->evtchn, (uint16_t)vm->domid, (uint32_t)nr_vcpus);
	gnttab_init(&vm->gnttab);
	vm->guest_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5, 10);
	for (int i = 0; i < nr_vcpus; i++) {
		vm->vcpus[i] = (struct vcpu){ .id = i, .fd = -1, .run = &f->run[i] };
		f->vcpu[i] = (struct kf_vcpu){ KF_NO_GPA, KF_NO_GPA, KF_NO_GPA, 0, 0, 0 };
	}
	for (uint64_t p = 0; p < KF_VA_PAGES; p++)
		f->va[p] = p * PAGE;
	f->shinfo_gpa = KF_NO_GPA;
	vm->special = vm->mem.hva + ram;
	vm->grant_frames = vm->special + SPECIAL_BYTES;
	vm->gnttab.core.frames = vm->grant_frames;
	/* vm_create()'s three slots. */
	f->slot[0] = (struct kf_slot){ true, 0, vm->mem.low_size, vm->mem.hva };
	f->slot[1] = (struct kf_slot){ true, LAYOUT_HIGH_BASE, vm->mem.high_size, vm->mem.hva + vm->mem.low_size };
	f->slot[2] = (struct kf_slot){ true, LAYOUT_SPECIAL_BASE, SPECIAL_BYTES, vm->special };
	vm->next_slot = 3;
	return 0;
}

int kvm_fake_create(struct kvm_fake **out, int nr_vcpus)
{
	struct kvm_fake *f;
	struct vm *vm;
	uint64_t ram = (KF_LOW_PAGES + KF_HIGH_PAGES) * PAGE;
	int rc = -EINVAL;

	if (nr_vcpus < 1 || nr_vcpus > VMM_MAX_VCPUS)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	vm = &f->vm;
	f->mem_size = ram + SPECIAL_BYTES + GNTTAB_MAX_FRAMES * PAGE;
	vm->mem.memfd = memfd_create("kvm-fake", MFD_CLOEXEC);
	vm->exit_eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->mem.memfd < 0 || vm->exit_eventfd < 0 || ftruncate(vm->mem.memfd, (off_t)f->mem_size) < 0) {
		rc = -errno;
		goto out;
	}
	vm->mem.hva = mmap(NULL, f->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->mem.memfd, 0);
	if (vm->mem.hva == MAP_FAILED) {
		vm->mem.hva = NULL;
		rc = -errno;
		goto out;
	}
	vm->mem.ram_size = ram;
	vm->mem.low_size = KF_LOW_PAGES * PAGE;
	vm->mem.high_size = KF_HIGH_PAGES * PAGE;
	rc = kvm_fake_reset(f, nr_vcpus);
	if (rc < 0)
		goto out;
	*out = f;
	return 0;
out:
	kvm_fake_destroy(f);
	return rc;
}

void kvm_fake_destroy(struct kvm_fake *f)
{
	if (!f)
		return;
	if (f->vm.mem.hva)
		munmap(f->vm.mem.hva, f->mem_size);
	if (f->vm.mem.memfd >= 0)
		close(f->vm.mem.memfd);
	if (f->vm.exit_eventfd >= 0)
		close(f->vm.exit_eventfd);
	gnttab_fini(&f->vm.gnttab);
	free(f);
}

static char why[256];

static const char *differs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *differs(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return why;
}

KF_NOCOV static const char *check_ports(const struct kvm_fake *f)
{
	const struct evtchn_table *t = &f->vm.evtchn;

	for (uint32_t p = 1; p < EVTCHN_NR_PORTS; p++) {
		const struct kf_port *k = &f->port[p];
		const struct evtchn_port *c = &t->core.ports[p];

		if (k->assigned != (t->kvm_registered[p] != 0))
			return differs("port %u: KVM has it assigned %d, the monitor believes %d", p, k->assigned,
				       t->kvm_registered[p]);
		if (!k->assigned)
			continue;
		if (c->state != k->type)
			return differs("port %u: KVM delivers it as state %u, the table says %u", p, k->type,
				       c->state);
		if (k->type == EVTCHNSTAT_ipi && k->vcpu != c->vcpu)
			return differs("port %u: KVM loops it back to vCPU %u, the table says %u", p, k->vcpu,
				       c->vcpu);
		if (k->type == EVTCHNSTAT_interdomain && k->fd != t->notify_fd[p])
			return differs("port %u: KVM signals fd %d, the table says %d", p, k->fd,
				       t->notify_fd[p]);
	}
	return NULL;
}

KF_NOCOV static const char *check_vcpus(const struct kvm_fake *f)
{
	const struct vm *vm = &f->vm;

	for (int i = 0; i < vm->nr_vcpus; i++) {
		const struct kf_vcpu *k = &f->vcpu[i];
		uint32_t tp = vm->vcpus[i].timer_port;
		uint64_t vi = vm->vcpus[i].vcpu_info_gpa;

		if (k->timer_port != tp)
			return differs("vCPU %d: KVM's timer fires port %u, the monitor believes %u", i,
				       k->timer_port, tp);
		if (tp) {
			const struct evtchn_port *c = evtchn_core_port(&vm->evtchn.core, tp);
			if (!c || c->state != EVTCHNSTAT_virq || c->virq != VIRQ_TIMER || c->vcpu != (uint32_t)i)
				return differs("vCPU %d: timer port %u is not its VIRQ_TIMER port (state %u)",
					       i, tp, c ? c->state : 0);
		}
		if ((k->vcpu_info == KF_NO_GPA ? 0 : k->vcpu_info) != vi)
			return differs("vCPU %d: KVM's vcpu_info is at %#llx, the monitor believes %#llx", i,
				       (unsigned long long)k->vcpu_info, (unsigned long long)vi);
	}
	return NULL;
}

KF_NOCOV static const char *check_slots(const struct kvm_fake *f)
{
	const struct vm *vm = &f->vm;
	const struct gnttab *g = &vm->gnttab;

	for (unsigned i = 0; i < GNTTAB_MAX_FRAMES; i++) {
		uint64_t gpa = g->core.frame_gpa[i];
		const struct kf_slot *s;

		if (g->slot[i] < 0) {
			if (gpa)
				return differs("grant frame %u: placed at %#llx without a slot", i, (unsigned long long)gpa);
			continue;
		}
		if (g->slot[i] >= KF_MAX_SLOTS || g->slot[i] < 3)
			return differs("grant frame %u: slot %d", i, g->slot[i]);
		s = &f->slot[g->slot[i]];
		if (!gpa) {
			if (s->used)
				return differs("grant frame %u: not placed, yet KVM maps its slot at %#llx", i,
					       (unsigned long long)s->gpa);
			continue;
		}
		if (!s->used || s->gpa != gpa || s->size != PAGE || s->hva != vm->grant_frames + i * PAGE)
			return differs("grant frame %u: placed at %#llx, KVM's slot is at %#llx", i, (unsigned long long)gpa,
				       (unsigned long long)(s->used ? s->gpa : 0));
	}
	for (int i = 0; i < KF_MAX_SLOTS; i++) {
		if (i >= vm->next_slot && f->slot[i].used)
			return differs("slot %d in use at %#llx beyond next_slot %d", i, (unsigned long long)f->slot[i].gpa,
				       vm->next_slot);
	}
	return NULL;
}

KF_NOCOV const char *kvm_fake_check(const struct kvm_fake *f)
{
	const struct vm *vm = &f->vm;
	uint64_t cb = vm->hvm_params[HVM_PARAM_CALLBACK_IRQ];
	const char *r;

	if ((r = check_ports(f)) || (r = check_vcpus(f)) || (r = check_slots(f)))
		return r;
	if ((f->shinfo_gpa == KF_NO_GPA ? 0 : f->shinfo_gpa) != vm->shared_info_gpa)
		return differs("shared_info: KVM has it at %#llx, the monitor believes %#llx", (unsigned long long)f->shinfo_gpa,
			       (unsigned long long)vm->shared_info_gpa);
	if (vm->shared_info_gpa && !f->long_mode)
		return differs("shared_info at %#llx without long mode", (unsigned long long)vm->shared_info_gpa);
	/* CALLBACK_IRQ type 2 is the vector KVM injects; none otherwise. */
	if ((cb >> 56) == 2 ? f->upcall_vector != (uint8_t)cb : f->upcall_vector != 0)
		return differs("HVM_PARAM_CALLBACK_IRQ is %#llx, KVM injects vector %#x", (unsigned long long)cb,
			       f->upcall_vector);
	return NULL;
}

KF_NOCOV const char *kvm_fake_same(const struct kvm_fake *a, const struct kvm_fake *b)
{
	/* Interdomain ports get their eventfds from the back ends after a load
	 * (evtchn_attach_notify): KVM's IPIs are compared. */
	for (uint32_t p = 1; p < EVTCHN_NR_PORTS; p++) {
		const struct kf_port *x = &a->port[p], *y = &b->port[p];
		bool xi = x->assigned && x->type == EVTCHNSTAT_ipi, yi = y->assigned && y->type == EVTCHNSTAT_ipi;
		if (xi != yi || (xi && x->vcpu != y->vcpu))
			return differs("port %u: an IPI KVM delivers %d before, %d after", p, xi, yi);
	}
	for (int i = 0; i < a->vm.nr_vcpus; i++) {
		if (a->vcpu[i].timer_port != b->vcpu[i].timer_port)
			return differs("vCPU %d: timer port %u before, %u after", i, a->vcpu[i].timer_port,
				       b->vcpu[i].timer_port);
	}
	for (unsigned i = 0; i < GNTTAB_MAX_FRAMES; i++) {
		if (a->vm.gnttab.core.frame_gpa[i] != b->vm.gnttab.core.frame_gpa[i])
			return differs("grant frame %u: at %#llx before, %#llx after", i, (unsigned long long)a->vm.gnttab.core.frame_gpa[i],
				       (unsigned long long)b->vm.gnttab.core.frame_gpa[i]);
	}
	if (a->shinfo_gpa != b->shinfo_gpa || a->long_mode != b->long_mode)
		return differs("shared_info: %#llx before, %#llx after", (unsigned long long)a->shinfo_gpa, (unsigned long long)b->shinfo_gpa);
	if (a->upcall_vector != b->upcall_vector)
		return differs("upcall vector: %#x before, %#x after", a->upcall_vector, b->upcall_vector);
	return NULL;
}
