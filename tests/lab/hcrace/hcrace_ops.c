/* The hypercalls the racer's vCPUs throw at the monitor at once (issue 12
 * item 3): each touches state the monitor shares between its vCPU threads
 * (the port table and KVM's port routes, the grant frames' memslots,
 * shared_info and vcpu_info placement, HVM params, other vCPUs' timers and
 * areas set on their own threads through vm_vcpu_run_on).  One row each,
 * chosen by weight with the vCPU's own PRNG.
 *
 * Nothing here may hurt what the guest itself runs on: every address it
 * hands over is in env->scratch (pages of nothing else) or, for grant
 * frames, at HCR_GRANT_GFN and above where this guest has no RAM.  Its
 * console is port 0xE9, which no hypercall touches.  Interrupts stay off
 * while it races, so a callback vector or a timer it sets is never taken. */
#define __XEN_INTERFACE_VERSION__ 0x00040e00 /* the current hypercall numbers */
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>

#include "hcrace.h"

/* The structs of Xen's headers used as they are: 32-bit and x86-64
 * layouts are the same (abi_check.c checks the sizes of the 64-bit ones). */
_Static_assert(sizeof(struct evtchn_status) == 24, "evtchn_status: one layout");
_Static_assert(sizeof(struct xen_hvm_param) == 16, "xen_hvm_param: one layout");
_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "vcpu_register_vcpu_info: one layout");
_Static_assert(sizeof(struct vcpu_register_runstate_memory_area) == 8, "a 64-bit address either way");
_Static_assert(sizeof(struct gnttab_query_size) == 16, "gnttab_query_size: one layout");

#define P(x) ((uint32_t)(uintptr_t)(x))

static uint32_t pick(struct hcr_cpu *c, uint32_t n)
{
	return hcr_rand(c) % n;
}

/* A port worth naming: one this vCPU got, or any low one (the console's
 * and xenstore's, the other vCPUs'), now and then one out of range. */
static uint32_t some_port(struct hcr_cpu *c)
{
	uint32_t r = pick(c, 16);

	if (r < 10)
		return c->ports[pick(c, HCR_PORTS_KEPT)];
	if (r < 15)
		return pick(c, 64);
	return 4096 + pick(c, 8);
}

static void keep_port(struct hcr_cpu *c, uint32_t port)
{
	c->ports[c->next_port++ % HCR_PORTS_KEPT] = port;
}

static uint32_t some_vcpu(struct hcr_cpu *c, const struct hcr_env *env)
{
	return pick(c, env->nr_cpus);
}

static uint64_t scratch_gfn(struct hcr_cpu *c, const struct hcr_env *env)
{
	return (P(env->scratch) >> 12) + pick(c, HCR_SCRATCH_PAGES);
}

/* An address in scratch for an area of len bytes that crosses no page
 * (KVM 6.1 refuses a runstate area across pages), 64-byte aligned. */
static uint32_t scratch_area(struct hcr_cpu *c, const struct hcr_env *env, uint32_t len)
{
	uint32_t page = pick(c, HCR_SCRATCH_PAGES), off = pick(c, (4096 - len) / 64 + 1) * 64;

	return P(env->scratch) + page * 4096 + off;
}

static long evtchn(uint32_t cmd, void *arg)
{
	return hcr_hypercall(__HYPERVISOR_event_channel_op, cmd, P(arg), 0);
}

/* ---- event channels ---- */

static long ev_alloc_unbound(struct hcr_cpu *c, const struct hcr_env *env)
{
	/* To itself, as a loopback pair begins, or to Domain 0 as a
	 * frontend's port for its back end. */
	struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = pick(c, 2) ? DOMID_SELF : 0 };
	long rc = evtchn(EVTCHNOP_alloc_unbound, &a);

	if (rc == 0)
		keep_port(c, a.port);
	return rc;
}

static long ev_bind_interdomain(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct evtchn_bind_interdomain b = { .remote_dom = DOMID_SELF, .remote_port = some_port(c) };
	long rc = evtchn(EVTCHNOP_bind_interdomain, &b);

	if (rc == 0)
		keep_port(c, b.local_port);
	return rc;
}

static long ev_bind_ipi(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct evtchn_bind_ipi b = { .vcpu = some_vcpu(c, env) };
	long rc = evtchn(EVTCHNOP_bind_ipi, &b);

	if (rc == 0)
		keep_port(c, b.port);
	return rc;
}

/* VIRQ_TIMER mostly: binding it hands the port to KVM's timer of that
 * vCPU, on that vCPU's thread (vmm/evtchn.c bind_timer). */
static long ev_bind_virq(struct hcr_cpu *c, const struct hcr_env *env)
{
	static const uint32_t virqs[] = { VIRQ_TIMER, VIRQ_TIMER, VIRQ_TIMER, VIRQ_DEBUG, VIRQ_CONSOLE, VIRQ_ARGO };
	struct evtchn_bind_virq b = { .virq = virqs[pick(c, sizeof(virqs) / sizeof(virqs[0]))],
				      .vcpu = some_vcpu(c, env) };
	long rc = evtchn(EVTCHNOP_bind_virq, &b);

	if (rc == 0)
		keep_port(c, b.port);
	return rc;
}

static long ev_send(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct evtchn_send s = { .port = some_port(c) };

	return evtchn(EVTCHNOP_send, &s);
}

static long ev_close(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct evtchn_close x = { .port = some_port(c) };

	return evtchn(EVTCHNOP_close, &x);
}

static long ev_unmask(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct evtchn_unmask u = { .port = some_port(c) };

	return evtchn(EVTCHNOP_unmask, &u);
}

static long ev_status(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct evtchn_status s = { .dom = DOMID_SELF, .port = some_port(c) };

	return evtchn(EVTCHNOP_status, &s);
}

static long ev_bind_vcpu(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct evtchn_bind_vcpu b = { .port = some_port(c), .vcpu = some_vcpu(c, env) };

	return evtchn(EVTCHNOP_bind_vcpu, &b);
}

/* Every port at once, the console's and xenstore's too (the racer does
 * not use them; port 0xE9 is its console). */
static long ev_reset(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct evtchn_reset r = { .dom = DOMID_SELF };

	return evtchn(EVTCHNOP_reset, &r);
}

/* ---- grant table ---- */

static long gnttab(uint32_t cmd, void *arg)
{
	return hcr_hypercall(__HYPERVISOR_grant_table_op, cmd, P(arg), 1);
}

static long gt_setup_table(struct hcr_cpu *c, const struct hcr_env *env)
{
	uint64_t frames[4] = { 0 };
	struct hcr_setup_table s = { .dom = DOMID_SELF, .nr_frames = 1 + pick(c, 4), .frame_list = P(frames) };

	return gnttab(GNTTABOP_setup_table, &s);
}

static long gt_query_size(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct gnttab_query_size q = { .dom = DOMID_SELF };

	return gnttab(GNTTABOP_query_size, &q);
}

static long gt_set_version(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct gnttab_set_version v = { .version = 1 + pick(c, 2) };

	return gnttab(GNTTABOP_set_version, &v);
}

static long gt_get_version(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct gnttab_get_version v = { .dom = DOMID_SELF };

	return gnttab(GNTTABOP_get_version, &v);
}

static long gt_get_status_frames(struct hcr_cpu *c, const struct hcr_env *env)
{
	uint64_t frames[2] = { 0 };
	struct hcr_get_status_frames s = { .nr_frames = 1 + pick(c, 2), .dom = DOMID_SELF, .frame_list = P(frames) };

	return gnttab(GNTTABOP_get_status_frames, &s);
}

/* ---- memory ---- */

static long memory(uint32_t cmd, void *arg)
{
	return hcr_hypercall(__HYPERVISOR_memory_op, cmd, P(arg), 0);
}

/* shared_info moves between scratch pages while the other vCPUs send on
 * ports and place vcpu_info (vmm/shinfo.c shinfo_place). */
static long mem_place_shinfo(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct hcr_add_to_physmap x = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
					.gpfn = scratch_gfn(c, env) };

	return memory(XENMEM_add_to_physmap, &x);
}

/* A grant frame moves its memslot (vmm/gnttab.c place); two frames on one
 * frame number make KVM refuse the second. */
static long mem_place_grant(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct hcr_add_to_physmap x = { .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
					.idx = pick(c, 8), .gpfn = HCR_GRANT_GFN + pick(c, 16) };

	return memory(XENMEM_add_to_physmap, &x);
}

/* A scratch page given back (its memfd range punched) or taken again,
 * perhaps the one shared_info or a vcpu_info is on. */
static long mem_reservation(struct hcr_cpu *c, const struct hcr_env *env)
{
	uint64_t pfn = scratch_gfn(c, env);
	struct hcr_reservation r = { .extent_start = P(&pfn), .nr_extents = 1, .domid = DOMID_SELF };

	return memory(pick(c, 2) ? XENMEM_decrease_reservation : XENMEM_populate_physmap, &r);
}

static long mem_current(struct hcr_cpu *c, const struct hcr_env *env)
{
	domid_t d = DOMID_SELF;

	return memory(XENMEM_current_reservation, &d);
}

/* ---- HVM params ---- */

static long hvm_param(uint32_t op, uint32_t index, uint64_t value)
{
	struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index, .value = value };

	return hcr_hypercall(__HYPERVISOR_hvm_op, op, P(&p), 0);
}

/* The upcall vector goes to KVM (vmm/xen/hvm.c): a vector, none, or a
 * GSI callback (refused). */
static long hvm_callback(struct hcr_cpu *c, const struct hcr_env *env)
{
	static const uint64_t vals[] = { 2ULL << 56 | 0xf3, 2ULL << 56 | 0x40, 0, 1ULL << 56 | 5 };

	return hvm_param(HVMOP_set_param, HVM_PARAM_CALLBACK_IRQ, vals[pick(c, 4)]);
}

/* Params only stored, and one the guest may not set. */
static long hvm_set_other(struct hcr_cpu *c, const struct hcr_env *env)
{
	static const uint32_t idx[] = { HVM_PARAM_TIMER_MODE, HVM_PARAM_HPET_ENABLED, HVM_PARAM_VPT_ALIGN,
					HVM_PARAM_STORE_EVTCHN };

	return hvm_param(HVMOP_set_param, idx[pick(c, 4)], pick(c, 2));
}

static long hvm_get(struct hcr_cpu *c, const struct hcr_env *env)
{
	return hvm_param(HVMOP_get_param, pick(c, HVM_NR_PARAMS), 0);
}

/* ---- vCPU ops, on any vCPU: the monitor runs them on the target's
 * thread while it races too ---- */

static long vcpu_op(uint32_t cmd, uint32_t vcpu, void *arg)
{
	return hcr_hypercall(__HYPERVISOR_vcpu_op, cmd, vcpu, P(arg));
}

static long vc_vcpu_info(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct vcpu_register_vcpu_info r = { .mfn = scratch_gfn(c, env), .offset = pick(c, 64) * 64 };

	return vcpu_op(VCPUOP_register_vcpu_info, some_vcpu(c, env), &r);
}

static long vc_periodic(struct hcr_cpu *c, const struct hcr_env *env)
{
	struct vcpu_set_periodic_timer t = { .period_ns = 1000000 };

	return vcpu_op(pick(c, 2) ? VCPUOP_set_periodic_timer : VCPUOP_stop_periodic_timer, some_vcpu(c, env), &t);
}

/* Now (it fires at once), or in 2^50 ns; a timer on another vCPU is set
 * on that vCPU's thread (vmm/xen/vcpu_op.c set_timer).  The monitor reads
 * the struct's x86-64 size, 16 bytes: the union gives it room. */
static long vc_singleshot(struct hcr_cpu *c, const struct hcr_env *env)
{
	union {
		struct vcpu_set_singleshot_timer t;
		uint8_t room[16];
	} u = { .t = { .timeout_abs_ns = pick(c, 2) ? 1 : 1ULL << 50, .flags = pick(c, 2) ? VCPU_SSHOTTMR_future : 0 } };

	return vcpu_op(pick(c, 4) ? VCPUOP_set_singleshot_timer : VCPUOP_stop_singleshot_timer, some_vcpu(c, env), &u);
}

static long vc_is_up(struct hcr_cpu *c, const struct hcr_env *env)
{
	return vcpu_op(VCPUOP_is_up, some_vcpu(c, env), NULL);
}

/* Another vCPU down and, if that worked, up again at once: the racer
 * needs all of them running. */
static long vc_down_up(struct hcr_cpu *c, const struct hcr_env *env)
{
	uint32_t v = some_vcpu(c, env);
	long rc;

	if (v == c->id)
		return vcpu_op(VCPUOP_is_up, v, NULL);
	rc = vcpu_op(VCPUOP_down, v, NULL);
	if (rc == 0)
		rc = vcpu_op(VCPUOP_up, v, NULL);
	return rc;
}

/* KVM writes these areas from then on: scratch only. */
static long vc_areas(struct hcr_cpu *c, const struct hcr_env *env)
{
	bool runstate = pick(c, 2);
	/* The x86-64 sizes: struct vcpu_runstate_info is 44 bytes in i386. */
	struct vcpu_register_runstate_memory_area r = { .addr.p = scratch_area(c, env, runstate ? 48 : 32) };

	return vcpu_op(runstate ? VCPUOP_register_runstate_memory_area : VCPUOP_register_vcpu_time_memory_area,
		       some_vcpu(c, env), &r);
}

/* ---- sched_op, set_timer_op, console_io, xen_version ---- */

static long sc_yield(struct hcr_cpu *c, const struct hcr_env *env)
{
	return hcr_hypercall(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);
}

/* KVM answers it in kernel and reads the 32-bit layout in 32-bit mode
 * (arch/x86/kvm/xen.c kvm_xen_schedop_poll, compat_sched_poll), which is
 * Xen's header's here.  A timeout always: 0 would wait for the port.  KVM
 * takes it as relative, Xen as absolute (then it is long past): 1 ms. */
static long sc_poll(struct hcr_cpu *c, const struct hcr_env *env)
{
	evtchn_port_t ports[2] = { some_port(c), some_port(c) };
	struct sched_poll p = { .nr_ports = 1 + pick(c, 2), .timeout = 1000000 };

	set_xen_guest_handle(p.ports, ports);
	return hcr_hypercall(__HYPERVISOR_sched_op, SCHEDOP_poll, P(&p), 0);
}

/* Its 64-bit expiry in two registers in 32-bit mode (KVM's
 * kvm_xen_hypercall); the monitor takes the first. */
static long sc_set_timer_op(struct hcr_cpu *c, const struct hcr_env *env)
{
	return hcr_hypercall(__HYPERVISOR_set_timer_op, pick(c, 2) ? 1 : 0, pick(c, 2), 0);
}

/* Mostly nothing; now and then an empty line, between the racer's own
 * lines so that none is cut. */
static long co_write(struct hcr_cpu *c, const struct hcr_env *env)
{
	static const char nl[] = "\n";
	long rc;

	if (pick(c, 16))
		return hcr_hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, 0, P(nl));
	hcr_lock_out();
	rc = hcr_hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, 1, P(nl));
	hcr_unlock_out();
	return rc;
}

static long xv_version(struct hcr_cpu *c, const struct hcr_env *env)
{
	return hcr_hypercall(__HYPERVISOR_xen_version, XENVER_version, 0, 0);
}

/* Weights: the port table's allocations are matched by closes (and the
 * rare reset), so that it neither fills up nor stays empty. */
static const struct {
	long (*fn)(struct hcr_cpu *c, const struct hcr_env *env);
	uint8_t weight;
} ops[] = {
	{ ev_alloc_unbound, 6 }, { ev_bind_interdomain, 2 }, { ev_bind_ipi, 6 }, { ev_bind_virq, 6 },
	{ ev_send, 10 },	 { ev_close, 20 },	     { ev_unmask, 4 },	 { ev_status, 4 },
	{ ev_bind_vcpu, 4 },	 { ev_reset, 1 },	     { gt_setup_table, 1 }, { gt_query_size, 2 },
	{ gt_set_version, 1 },	 { gt_get_version, 1 },	     { gt_get_status_frames, 1 },
	{ mem_place_shinfo, 4 }, { mem_place_grant, 4 },     { mem_reservation, 4 }, { mem_current, 1 },
	{ hvm_callback, 3 },	 { hvm_set_other, 2 },	     { hvm_get, 3 },	 { vc_vcpu_info, 6 },
	{ vc_periodic, 2 },	 { vc_singleshot, 6 },	     { vc_is_up, 2 },	 { vc_down_up, 2 },
	{ vc_areas, 4 },	 { sc_yield, 3 },	     { sc_poll, 3 },	 { sc_set_timer_op, 3 },
	{ co_write, 2 },	 { xv_version, 1 },
};

long hcr_race_one(struct hcr_cpu *c, const struct hcr_env *env)
{
	uint32_t total = 0, r;
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		total += ops[i].weight;
	r = pick(c, total);
	for (i = 0; r >= ops[i].weight; i++)
		r -= ops[i].weight;
	return ops[i].fn(c, env);
}
