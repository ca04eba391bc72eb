/* One vCPU's KVM state (vcpu_state.h): ioctls around the pure record of
 * vcpu_rec.c.  The orders of reads and writes follow QEMU's
 * target/i386/kvm/kvm.c (kvm_arch_get_registers, kvm_arch_put_registers)
 * and hw/i386/kvm/apic.c (kvm_apic_put: APIC base, then the LAPIC), with
 * the reasons in docs/vmm-state.md. */
#include "vcpu_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "domus/log.h"
#include "vm.h"

static int vcpu_ioctl(struct vm *vm, int vcpu, unsigned long req, void *arg)
{
	return ioctl(vm->vcpus[vcpu].fd, req, arg) < 0 ? -errno : 0;
}

static int has_cap(struct vm *vm, int cap)
{
	int r = ioctl(vm->fd, KVM_CHECK_EXTENSION, cap);

	return r > 0 ? r : 0;
}

/* ---- get ---- */

static int complete_pending_exit(struct vm *vm, int vcpu)
{
	struct vcpu *v = &vm->vcpus[vcpu];

	if (!v->started)
		return 0;
	/* The vCPU thread clears immediate_exit again before its next entry
	 * (vm_pause.c vm_wait_unpaused). */
	v->run->immediate_exit = 1;
	if (ioctl(v->fd, KVM_RUN, 0) == 0 || errno == EINTR)
		return 0;
	return -errno;
}

static int get_xsave(struct vm *vm, int vcpu, struct vcpu_state *s)
{
	int size = has_cap(vm, KVM_CAP_XSAVE2);

	if (size > (int)VCPU_XSAVE_MAX)
		return -E2BIG;
	s->xsave_size = size > 0 ? (uint32_t)size : VCPU_XSAVE_MIN;
	return vcpu_ioctl(vm, vcpu, size > 0 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, s->xsave);
}

static int get_sregs(struct vm *vm, int vcpu, struct vcpu_state *s)
{
	struct kvm_sregs old;
	int rc;

	if (has_cap(vm, KVM_CAP_SREGS2))
		return vcpu_ioctl(vm, vcpu, KVM_GET_SREGS2, &s->sregs);
	/* Without SREGS2 there are no PDPTRs to move (flags 0); an injected
	 * interrupt in interrupt_bitmap is in VCPU_EVENTS too. */
	rc = vcpu_ioctl(vm, vcpu, KVM_GET_SREGS, &old);
	if (rc == 0) {
		memset(&s->sregs, 0, sizeof(s->sregs));
		memcpy(&s->sregs, &old, offsetof(struct kvm_sregs, interrupt_bitmap));
	}
	return rc;
}

_Static_assert(offsetof(struct kvm_sregs, interrupt_bitmap) == offsetof(struct kvm_sregs2, flags),
	       "kvm_sregs and kvm_sregs2 share their head");

/* The MSR indexes KVM saves and restores (KVM_GET_MSR_INDEX_LIST). */
static int msr_index_list(struct vm *vm, struct kvm_msr_list **out)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *l;

	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(l->indices[0]));
	if (!l)
		return -ENOMEM;
	l->nmsrs = probe.nmsrs;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		free(l);
		return -errno;
	}
	*out = l;
	return 0;
}

static int listed(const struct kvm_msr_list *l, uint32_t index)
{
	for (uint32_t i = 0; i < l->nmsrs; i++) {
		if (l->indices[i] == index)
			return 1;
	}
	return 0;
}

/* Reads every MSR of the table KVM can: KVM_GET_MSRS stops at the first
 * one it cannot read and returns how many it read, so that one is dropped
 * (or, if architectural, the save fails) and the rest read again. */
static int get_msrs(struct vm *vm, int vcpu, struct vcpu_state *s)
{
	struct kvm_msr_list *list = NULL;
	struct kvm_msrs *m = NULL;
	uint32_t n = 0;
	int rc = msr_index_list(vm, &list);

	if (rc == 0) {
		m = calloc(1, sizeof(*m) + VCPU_MAX_MSRS * sizeof(m->entries[0]));
		rc = m ? 0 : -ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < vcpu_rec_nr_msrs(); i++) {
		const struct vcpu_msr_desc *d = vcpu_rec_msr_at(i);

		if (!(d->kind & VCPU_MSR_LISTED) || listed(list, d->index))
			m->entries[n++] = (struct kvm_msr_entry){ .index = d->index };
	}
	while (rc == 0) {
		int got;

		m->nmsrs = n;
		got = ioctl(vm->vcpus[vcpu].fd, KVM_GET_MSRS, m);
		if (got < 0) {
			rc = -errno;
		} else if ((uint32_t)got < n) {
			const struct vcpu_msr_desc *d = vcpu_rec_msr(m->entries[got].index);

			if (d->kind & VCPU_MSR_ALWAYS) {
				log_err(vm->name, "vcpu%d: KVM cannot read %s (%#x)", vcpu, d->name, d->index);
				rc = -EIO;
			} else {
				memmove(&m->entries[got], &m->entries[got + 1], (n - (uint32_t)got - 1) * sizeof(m->entries[0]));
				n--;
			}
		} else {
			break;
		}
	}
	if (rc == 0) {
		s->nr_msrs = n;
		memcpy(s->msrs, m->entries, n * sizeof(m->entries[0]));
	}
	free(m);
	free(list);
	return rc;
}

static int tsc_offset_attr(struct vm *vm, int vcpu, unsigned long req, uint64_t *offset)
{
	struct kvm_device_attr a = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
				     .addr = (uint64_t)(uintptr_t)offset };

	if (ioctl(vm->vcpus[vcpu].fd, KVM_HAS_DEVICE_ATTR, &a) < 0)
		return -ENXIO;
	return vcpu_ioctl(vm, vcpu, req, &a);
}

static int get_tsc(struct vm *vm, int vcpu, struct vcpu_state *s)
{
	int khz = ioctl(vm->vcpus[vcpu].fd, KVM_GET_TSC_KHZ, 0);

	if (khz < 0)
		return -errno;
	s->tsc_khz = (uint32_t)khz;
	s->tsc_offset = 0;
	s->tsc_flags = 0;
	if (tsc_offset_attr(vm, vcpu, KVM_GET_DEVICE_ATTR, &s->tsc_offset) == 0)
		s->tsc_flags = VCPU_TSC_OFFSET_VALID;
	else
		s->tsc_offset = 0;
	return 0;
}

static int xen_get(struct vm *vm, int vcpu, struct kvm_xen_vcpu_attr *a, uint16_t type)
{
	*a = (struct kvm_xen_vcpu_attr){ .type = type };
	return vcpu_ioctl(vm, vcpu, KVM_XEN_VCPU_GET_ATTR, a);
}

static int get_xen(struct vm *vm, int vcpu, struct vcpu_xen *x)
{
	struct kvm_xen_vcpu_attr a;
	int rc;

	memset(x, 0, sizeof(*x));
	x->runstate_gpa = VCPU_XEN_NO_GPA;
	if ((rc = xen_get(vm, vcpu, &a, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO)) < 0)
		return rc;
	x->vcpu_info_gpa = a.u.gpa;
	if ((rc = xen_get(vm, vcpu, &a, KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO)) < 0)
		return rc;
	x->time_info_gpa = a.u.gpa;
	/* Runstate exists with CONFIG_SCHED_INFO only (-EOPNOTSUPP), and its
	 * address reads -ENOENT while none is set (6.1 xen.c). */
	rc = xen_get(vm, vcpu, &a, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA);
	if (rc == 0) {
		x->flags |= VCPU_XEN_RUNSTATE;
		x->runstate_state = a.u.runstate.state;
		x->runstate_entry_time = a.u.runstate.state_entry_time;
		x->runstate_time[0] = a.u.runstate.time_running;
		x->runstate_time[1] = a.u.runstate.time_runnable;
		x->runstate_time[2] = a.u.runstate.time_blocked;
		x->runstate_time[3] = a.u.runstate.time_offline;
		rc = xen_get(vm, vcpu, &a, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR);
		if (rc == 0)
			x->runstate_gpa = a.u.gpa;
		else if (rc != -ENOENT)
			return rc;
	} else if (rc != -EOPNOTSUPP) {
		return rc;
	}
	if ((rc = xen_get(vm, vcpu, &a, KVM_XEN_VCPU_ATTR_TYPE_VCPU_ID)) < 0)
		return rc;
	x->vcpu_id = a.u.vcpu_id;
	if ((rc = xen_get(vm, vcpu, &a, KVM_XEN_VCPU_ATTR_TYPE_TIMER)) < 0)
		return rc;
	x->timer_port = a.u.timer.port;
	x->timer_priority = a.u.timer.priority;
	x->timer_expires_ns = a.u.timer.expires_ns;
	if ((rc = xen_get(vm, vcpu, &a, KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR)) < 0)
		return rc;
	x->upcall_vector = a.u.vector;
	return 0;
}

int vcpu_state_get(struct vm *vm, int vcpu, struct vcpu_state *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->id = (uint32_t)vcpu;
	rc = complete_pending_exit(vm, vcpu);
	/* Events first, then MP state: KVM_GET_MP_STATE may take a pending
	 * INIT/SIPI and change CS and RIP, so it precedes REGS and SREGS
	 * (QEMU kvm_arch_get_registers). */
	if (rc == 0)
		rc = vcpu_ioctl(vm, vcpu, KVM_GET_VCPU_EVENTS, &s->events);
	if (rc == 0)
		rc = vcpu_ioctl(vm, vcpu, KVM_GET_MP_STATE, &s->mp_state);
	if (rc == 0)
		rc = vcpu_ioctl(vm, vcpu, KVM_GET_REGS, &s->regs);
	if (rc == 0)
		rc = get_xsave(vm, vcpu, s);
	if (rc == 0)
		rc = vcpu_ioctl(vm, vcpu, KVM_GET_XCRS, &s->xcrs);
	if (rc == 0)
		rc = get_sregs(vm, vcpu, s);
	if (rc == 0)
		rc = vcpu_ioctl(vm, vcpu, KVM_GET_LAPIC, &s->lapic);
	if (rc == 0)
		rc = get_msrs(vm, vcpu, s);
	if (rc == 0)
		rc = get_tsc(vm, vcpu, s);
	if (rc == 0)
		rc = vcpu_ioctl(vm, vcpu, KVM_GET_DEBUGREGS, &s->debugregs);
	if (rc == 0)
		rc = get_xen(vm, vcpu, &s->xen);
	return rc;
}

/* ---- put ---- */

static int put_sregs(struct vm *vm, const struct vcpu_state *s)
{
	struct kvm_sregs old;

	if (has_cap(vm, KVM_CAP_SREGS2))
		return vcpu_ioctl(vm, (int)s->id, KVM_SET_SREGS2, (void *)&s->sregs);
	memset(&old, 0, sizeof(old));
	memcpy(&old, &s->sregs, offsetof(struct kvm_sregs, interrupt_bitmap));
	return vcpu_ioctl(vm, (int)s->id, KVM_SET_SREGS, &old);
}

/* A guest's TSC rate moves with it; KVM scales or catches up when this
 * host's differs (6.1 x86.c set_tsc_khz), or refuses. */
static int put_tsc_khz(struct vm *vm, const struct vcpu_state *s)
{
	int here = ioctl(vm->vcpus[s->id].fd, KVM_GET_TSC_KHZ, 0);

	if (s->tsc_khz == 0 || here == (int)s->tsc_khz)
		return 0;
	return ioctl(vm->vcpus[s->id].fd, KVM_SET_TSC_KHZ, (unsigned long)s->tsc_khz) < 0 ? -errno : 0;
}

/* KVM_SET_XSAVE reads as many bytes as KVM_CAP_XSAVE2 says; a smaller
 * saved area is zero-padded (its XSTATE_BV leaves the rest in init state). */
static int put_xsave(struct vm *vm, const struct vcpu_state *s)
{
	int size = has_cap(vm, KVM_CAP_XSAVE2);

	if (size > (int)VCPU_XSAVE_MAX || (size > 0 && (uint32_t)size < s->xsave_size) ||
	    (size <= 0 && s->xsave_size > VCPU_XSAVE_MIN))
		return -E2BIG;
	return vcpu_ioctl(vm, (int)s->id, KVM_SET_XSAVE, (void *)s->xsave);
}

/* The saved MSRs of one phase: late (IA32_TSC_DEADLINE) or the rest. */
static int put_msrs(struct vm *vm, const struct vcpu_state *s, int late)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + VCPU_MAX_MSRS * sizeof(m->entries[0]));
	uint32_t n = 0;
	int rc = 0, put;

	if (!m)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nr_msrs; i++) {
		if (!(vcpu_rec_msr(s->msrs[i].index)->kind & VCPU_MSR_LATE) == !late)
			m->entries[n++] = s->msrs[i];
	}
	m->nmsrs = n;
	put = n ? ioctl(vm->vcpus[s->id].fd, KVM_SET_MSRS, m) : 0;
	if (put < 0) {
		rc = -errno;
	} else if ((uint32_t)put < n) {
		log_err(vm->name, "vcpu%u: KVM refused MSR %#x = %#llx", s->id, m->entries[put].index,
			(unsigned long long)m->entries[put].data);
		rc = -EINVAL;
	}
	free(m);
	return rc;
}

/* The offset rule when both hosts had a master clock; otherwise IA32_TSC,
 * already set with the MSRs, stays at its saved value (the TSC does not
 * count the time away, but never goes back). */
static int put_tsc_offset(struct vm *vm, const struct vcpu_state *s, const struct platform_clock *clk)
{
	uint64_t ofs;

	if (!(s->tsc_flags & VCPU_TSC_OFFSET_VALID) || platform_tsc_offset(clk, s->tsc_offset, s->tsc_khz, &ofs) < 0)
		return 0;
	return tsc_offset_attr(vm, (int)s->id, KVM_SET_DEVICE_ATTR, &ofs);
}

/* SET takes what GET reported, plus the parts GET always fills but does
 * not flag (QEMU kvm_put_vcpu_events, full-state level). */
static int put_events(struct vm *vm, const struct vcpu_state *s)
{
	struct kvm_vcpu_events e = s->events;

	e.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR | KVM_VCPUEVENT_VALID_SHADOW;
	return vcpu_ioctl(vm, (int)s->id, KVM_SET_VCPU_EVENTS, &e);
}

static int xen_set(struct vm *vm, uint32_t vcpu, struct kvm_xen_vcpu_attr *a)
{
	return vcpu_ioctl(vm, (int)vcpu, KVM_XEN_VCPU_SET_ATTR, a);
}

/* After the clock: RUNSTATE_DATA must not start after kvmclock's now, and
 * TIMER's expiry counts from it (6.1 xen.c kvm_xen_vcpu_set_attr).  The
 * monitor's own copies (vcpu_info_gpa, timer_port) follow. */
static int put_xen(struct vm *vm, const struct vcpu_state *s)
{
	const struct vcpu_xen *x = &s->xen;
	struct kvm_xen_vcpu_attr a;
	int rc = 0;

	if (x->vcpu_info_gpa != VCPU_XEN_NO_GPA) {
		a = (struct kvm_xen_vcpu_attr){ .type = KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO, .u.gpa = x->vcpu_info_gpa };
		rc = xen_set(vm, s->id, &a);
		if (rc == 0)
			vm->vcpus[s->id].vcpu_info_gpa = x->vcpu_info_gpa;
	}
	if (rc == 0 && x->time_info_gpa != VCPU_XEN_NO_GPA) {
		a = (struct kvm_xen_vcpu_attr){ .type = KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO, .u.gpa = x->time_info_gpa };
		rc = xen_set(vm, s->id, &a);
	}
	if (rc == 0 && (x->flags & VCPU_XEN_RUNSTATE) && x->runstate_gpa != VCPU_XEN_NO_GPA) {
		a = (struct kvm_xen_vcpu_attr){ .type = KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR, .u.gpa = x->runstate_gpa };
		rc = xen_set(vm, s->id, &a);
	}
	if (rc == 0 && (x->flags & VCPU_XEN_RUNSTATE)) {
		a = (struct kvm_xen_vcpu_attr){ .type = KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA };
		a.u.runstate.state = x->runstate_state;
		a.u.runstate.state_entry_time = x->runstate_entry_time;
		a.u.runstate.time_running = x->runstate_time[0];
		a.u.runstate.time_runnable = x->runstate_time[1];
		a.u.runstate.time_blocked = x->runstate_time[2];
		a.u.runstate.time_offline = x->runstate_time[3];
		rc = xen_set(vm, s->id, &a);
	}
	if (rc == 0 && x->timer_port) {
		a = (struct kvm_xen_vcpu_attr){ .type = KVM_XEN_VCPU_ATTR_TYPE_TIMER };
		a.u.timer.port = x->timer_port;
		a.u.timer.priority = x->timer_priority;
		a.u.timer.expires_ns = x->timer_expires_ns;
		rc = xen_set(vm, s->id, &a);
		if (rc == 0)
			vm->vcpus[s->id].timer_port = x->timer_port;
	}
	if (rc == 0 && x->upcall_vector) {
		a = (struct kvm_xen_vcpu_attr){ .type = KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR, .u.vector = x->upcall_vector };
		rc = xen_set(vm, s->id, &a);
	}
	return rc;
}

int vcpu_state_put(struct vm *vm, const struct vcpu_state *s, const struct platform_clock *clk)
{
	int v = (int)s->id;
	int rc;

	if (!clk->loaded)
		return -EINVAL;
	/* SREGS first: it carries EFER and APIC_BASE, which the LAPIC load
	 * uses (6.1 lapic.c kvm_apic_set_state takes vcpu->arch.apic_base). */
	rc = put_sregs(vm, s);
	if (rc == 0)
		rc = put_tsc_khz(vm, s);
	if (rc == 0)
		rc = vcpu_ioctl(vm, v, KVM_SET_LAPIC, (void *)&s->lapic);
	if (rc == 0)
		rc = vcpu_ioctl(vm, v, KVM_SET_REGS, (void *)&s->regs);
	if (rc == 0)
		rc = put_xsave(vm, s);
	if (rc == 0 && s->xcrs.nr_xcrs)
		rc = vcpu_ioctl(vm, v, KVM_SET_XCRS, (void *)&s->xcrs);
	if (rc == 0)
		rc = put_msrs(vm, s, 0);
	if (rc == 0)
		rc = put_tsc_offset(vm, s, clk);
	if (rc == 0)
		rc = put_events(vm, s);
	if (rc == 0)
		rc = vcpu_ioctl(vm, v, KVM_SET_MP_STATE, (void *)&s->mp_state);
	/* The deadline is a guest TSC value that KVM takes only while the
	 * LAPIC timer is in TSC-deadline mode (6.1 lapic.c
	 * kvm_set_lapic_tscdeadline_msr): after the LAPIC and the TSC. */
	if (rc == 0)
		rc = put_msrs(vm, s, 1);
	if (rc == 0)
		rc = vcpu_ioctl(vm, v, KVM_SET_DEBUGREGS, (void *)&s->debugregs);
	if (rc == 0)
		rc = put_xen(vm, s);
	return rc;
}

int vcpu_state_save(struct vm *vm, int vcpu, struct stream_writer *w)
{
	struct vcpu_state *s = calloc(1, sizeof(*s));
	struct stream_writer p;
	int rc;

	if (!s)
		return -ENOMEM;
	stream_writer_init_mem(&p);
	rc = vcpu_state_get(vm, vcpu, s);
	if (rc == 0)
		rc = vcpu_rec_encode(s, &p);
	if (rc == 0)
		rc = stream_write_record(w, STREAM_REC_VCPU, p.buf, (uint32_t)p.len);
	stream_writer_fini(&p);
	free(s);
	return rc;
}

int vcpu_state_load(struct vm *vm, const struct platform_clock *clk, struct stream_reader *r,
		    const struct stream_record *rec)
{
	struct vcpu_state *s = calloc(1, sizeof(*s));
	char why[STREAM_ERR_MAX];
	int rc;

	if (!s)
		return -ENOMEM;
	rc = vcpu_rec_decode(rec, (uint32_t)vm->nr_vcpus, s, why, sizeof(why));
	if (rc < 0) {
		rc = stream_reject(r, rec, why);
	} else if (!clk->loaded) {
		rc = stream_reject(r, rec, "comes before the CLOCK record it needs");
	} else {
		rc = vcpu_state_put(vm, s, clk);
		if (rc < 0) {
			snprintf(why, sizeof(why), "vCPU %u: KVM refused it: %s", s->id, strerror(-rc));
			stream_reject(r, rec, why);
		}
	}
	free(s);
	return rc;
}
