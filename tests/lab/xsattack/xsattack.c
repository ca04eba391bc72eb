/* The xenstore attacker as a Xen PVH guest of our own (issue 12 item 3):
 * Linux's xenbus would never put malformed bytes on its ring, so this guest
 * does.  It finds its ring as any Xen guest does (HVMOP_get_param of
 * HVM_PARAM_STORE_PFN and HVM_PARAM_STORE_EVTCHN), notifies xenstored with
 * EVTCHNOP_send, runs the rounds of xsattack_core.c, prints each round's
 * "XSATTACK ..." line and then "XSATTACK-DONE" on port 0xE9 (the monitor's
 * console log), and powers off through ACPI S5 as hostile.S does.
 *
 * 32-bit flat protected mode with paging off, as the PVH entry leaves it
 * (docs/pvh.md in Xen), so guest physical addresses are pointers.  Its
 * only interrupt is the local APIC timer, every millisecond (KVM's APIC bus
 * runs at 1 GHz, arch/x86/kvm/lapic.h APIC_BUS_CYCLE_NS): that is its clock,
 * and what wakes it from HLT while it waits for xenstored, so a waiting
 * attacker does not spin its vCPU.  It takes no event-channel upcall
 * (xenstored's notifications are seen at the next tick).  Should the timer
 * not tick, it polls instead and counts time by its waits.  An exception
 * ends it with "XSATTACK-DONE fault vector=N".  Its GDT, IDT, timer and
 * Xen note are the test guests' common ones (tests/lab/pvhlib). */
#define __XEN_INTERFACE_VERSION__ 0x00040e00 /* the current hypercall numbers */
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

#include "xsattack_core.h"

#include "../pvhlib/pvhlib.h"

struct guest {
	bool amd;
	uint32_t port;
	struct xenstore_domain_interface *ring;
	bool ticking;	     /* the timer interrupt counts pvh_ticks */
	uint64_t counted_ms; /* otherwise: time as the waits add it up */
};

static void put_u(uint32_t v)
{
	char d[12];
	int k = 11;

	d[k] = '\0';
	do {
		d[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	pvh_puts(d + k);
}

/* A hypercall with two arguments (EBX, ECX in 32-bit mode); VMMCALL on
 * AMD, VMCALL elsewhere: KVM wants the host's instruction. */
static long hypercall2(const struct guest *g, uint32_t op, uint32_t a1, uint32_t a2)
{
	long r;

	if (g->amd)
		__asm__ volatile("vmmcall" : "=a"(r), "+b"(a1), "+c"(a2) : "a"(op) : "memory");
	else
		__asm__ volatile("vmcall" : "=a"(r), "+b"(a1), "+c"(a2) : "a"(op) : "memory");
	return r;
}

static long get_param(const struct guest *g, uint32_t index, uint64_t *value)
{
	struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
	long rc = hypercall2(g, __HYPERVISOR_hvm_op, HVMOP_get_param, (uint32_t)(uintptr_t)&p);

	*value = p.value;
	return rc;
}

/* The IDT and the local APIC's timer every millisecond (pvhlib.c); then a
 * check that it ticks, or polling instead. */
static void clock_init(struct guest *g)
{
	pvh_idt_init();
	pvh_timer_start();
	/* Two ticks within a generous spin (seconds even under emulation). */
	__asm__ volatile("sti" ::: "memory");
	for (uint32_t i = 0; i < 20000000u && pvh_ticks < 2; i++)
		cpu_pause();
	__asm__ volatile("cli" ::: "memory");
	g->ticking = pvh_ticks >= 2;
	if (!g->ticking)
		pvh_timer_stop();
}

static uint64_t env_now_ms(void *ctx)
{
	struct guest *g = ctx;

	return g->ticking ? pvh_ticks : g->counted_ms;
}

static void env_kick(void *ctx)
{
	struct guest *g = ctx;
	struct evtchn_send s = { .port = g->port };

	hypercall2(g, __HYPERVISOR_event_channel_op, EVTCHNOP_send, (uint32_t)(uintptr_t)&s);
}

/* Until xenstored moved an index or set the error, or ms passed: asleep
 * between timer ticks (STI; HLT, so that a tick between the two is not
 * lost), or polling without a timer, each call then counting as the time
 * it was given. */
static void env_wait(void *ctx, unsigned ms)
{
	struct guest *g = ctx;
	struct xenstore_domain_interface *r = g->ring;
	uint32_t rp = __atomic_load_n(&r->rsp_prod, __ATOMIC_ACQUIRE);
	uint32_t rc = __atomic_load_n(&r->req_cons, __ATOMIC_ACQUIRE);
	/* A change of the error field ends the wait, not the field being set:
	 * once xenstored has given up on the ring it stays set, and returning
	 * at once would spin with interrupts off, the clock stopped (the
	 * oversized-header round hung so in the lab). */
	uint32_t er = __atomic_load_n(&r->error, __ATOMIC_ACQUIRE);
	uint64_t end = env_now_ms(g) + ms;

	for (uint32_t spins = 0;; spins++) {
		if (__atomic_load_n(&r->rsp_prod, __ATOMIC_ACQUIRE) != rp ||
		    __atomic_load_n(&r->req_cons, __ATOMIC_ACQUIRE) != rc ||
		    __atomic_load_n(&r->error, __ATOMIC_ACQUIRE) != er)
			return;
		if (g->ticking) {
			if (env_now_ms(g) >= end)
				return;
			__asm__ volatile("sti; hlt; cli" ::: "memory");
		} else {
			if (spins >= 20000u * ms) {
				g->counted_ms += ms;
				return;
			}
			cpu_pause();
		}
	}
}

static void env_say(void *ctx, const char *line)
{
	(void)ctx;
	pvh_puts(line);
	pvh_puts("\n");
}

void pvh_fault(uint32_t vector)
{
	pvh_puts("\nXSATTACK-DONE fault vector=");
	put_u(vector);
	pvh_puts("\n");
#ifdef XSA_SELFTEST
	outb(0xf4, 0x10); /* QEMU's isa-debug-exit: it exits with status 33 */
#endif
	pvh_power_off();
}

void pvh_main(void)
{
	static struct xsa_state st;
	struct guest g = { .amd = pvh_is_amd() };
	const struct xsa_env env = { &g, env_kick, env_wait, env_now_ms, env_say };
	struct xsa_opts o = XSA_OPTS_DEFAULT;
	struct xsa_result r;
	uint64_t pfn = 0, port = 0;

	pvh_puts("XSATTACK-START ");
#ifdef XSA_SELFTEST
	/* Under plain QEMU (no Xen; selftest.sh): the clock, a wait, then a
	 * fault, so that what a hypercall cannot show is shown there. */
	clock_init(&g);
	pvh_puts(g.ticking ? "clock=lapic-timer" : "clock=counted");
	{
		struct xenstore_domain_interface ring = { 0 };
		uint64_t t0;

		g.ring = &ring;
		t0 = env_now_ms(&g);
		env_wait(&g, 300);
		pvh_puts(" waited_ms=");
		put_u((uint32_t)(env_now_ms(&g) - t0));
		pvh_puts("\n");
	}
	__asm__ volatile("ud2");
#endif
	if (get_param(&g, HVM_PARAM_STORE_PFN, &pfn) != 0 ||
	    get_param(&g, HVM_PARAM_STORE_EVTCHN, &port) != 0 || pfn == 0 || pfn >= (1u << 20)) {
		pvh_puts("no xenstore ring\nXSATTACK-DONE rounds=0\n");
		pvh_power_off();
	}
	g.ring = (struct xenstore_domain_interface *)(uintptr_t)(pfn << 12);
	g.port = (uint32_t)port;
	clock_init(&g);
	pvh_puts("store_pfn=0x");
	for (int s = 28; s >= 0; s -= 4)
		outb(PVH_DEBUG_PORT, (uint8_t)"0123456789abcdef"[(pfn >> s) & 15]);
	pvh_puts(" evtchn=");
	put_u(g.port);
	pvh_puts(g.ticking ? " clock=lapic-timer\n" : " clock=counted\n");
	xsa_run(&st, g.ring, &env, &o, &r);
	pvh_puts("XSATTACK-DONE rounds=");
	put_u(r.rounds);
	pvh_puts(" lost=");
	put_u(r.lost);
	pvh_puts(" events=");
	put_u(r.events);
	pvh_puts("\n");
	pvh_power_off();
}
