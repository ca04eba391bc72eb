/* The xenstore attacker as a Xen PVH guest of our own (issue 12 item 3):
 * Linux's xenbus would never put malformed bytes on its ring, so this guest
 * does.  It finds its ring as any Xen guest does (HVMOP_get_param of
 * HVM_PARAM_STORE_PFN and HVM_PARAM_STORE_EVTCHN), notifies xenstored with
 * EVTCHNOP_send, runs the rounds of xsattack_core.c, prints each round's
 * "XSATTACK ..." line and then "XSATTACK-DONE" on port 0xE9 (the monitor's
 * console log), and powers off through ACPI S5 as hostile.S does.
 *
 * 32-bit flat protected mode with paging off, as the PVH entry leaves it
 * (docs/pvh.md in Xen), so guest physical addresses are pointers.  No
 * interrupts: it waits by polling its ring, and tells time from the local
 * APIC timer's count (KVM's APIC bus runs at 1 GHz, arch/x86/kvm/lapic.h
 * APIC_BUS_CYCLE_NS), masked so that it never fires. */
#define __XEN_INTERFACE_VERSION__ 0x00040e00 /* the current hypercall numbers */
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

#include "xsattack_core.h"

#define DEBUG_PORT 0xe9
#define PM1A_CNT 0x604 /* vmm/boot/acpi.h ACPI_PM1A_CNT_PORT */
#define S5 ((5 << 10) | (1 << 13))
#define LAPIC 0xfee00000u
#define LAPIC_SVR 0xf0
#define LAPIC_LVTT 0x320
#define LAPIC_TMICT 0x380
#define LAPIC_TMCCT 0x390
#define LAPIC_TDCR 0x3e0
#define TDCR_DIV128 0xa
#define TICKS_PER_MS 7812u /* 1 GHz / 128 */

/* The Xen note the monitor looks for (vmm/boot/kernel.c). */
__asm__(".pushsection .note.Xen, \"a\", @note\n"
	".balign 4\n"
	".long 4, 4, 18\n" /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	".asciz \"Xen\"\n"
	".balign 4\n"
	".long _start\n"
	".popsection\n");

static char stack[65536] __attribute__((used, aligned(16)));

void xsa_main(void);

__attribute__((naked, noreturn, section(".text.start"))) void _start(void)
{
	__asm__ volatile("cli\n"
			 "lea stack + 65536, %esp\n"
			 "call xsa_main\n"
			 "1: hlt\n"
			 "jmp 1b\n");
}

/* What the compiler may call for struct copies and clearing. */
void *memcpy(void *d, const void *s, size_t n)
{
	char *dd = d;
	const char *ss = s;

	while (n--)
		*dd++ = *ss++;
	return d;
}

void *memset(void *d, int c, size_t n)
{
	char *dd = d;

	while (n--)
		*dd++ = (char)c;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	char *dd = d;
	const char *ss = s;

	if (dd < ss)
		return memcpy(d, s, n);
	while (n--)
		dd[n] = ss[n];
	return d;
}

struct guest {
	bool amd;
	uint32_t port;
	struct xenstore_domain_interface *ring;
	/* The clock: the APIC timer counts down from ~0 and is re-armed
	 * before it runs out; ticks are summed here. */
	bool lapic;
	uint32_t last;
	uint64_t ticks, counted_ms;
};

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static void puts_e9(const char *s)
{
	while (*s)
		outb(DEBUG_PORT, (uint8_t)*s++);
}

static void put_u(uint32_t v)
{
	char d[12];
	int k = 11;

	d[k] = '\0';
	do {
		d[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_e9(d + k);
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

static bool is_amd(void)
{
	uint32_t a = 0, b, c, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
	return b == 0x68747541; /* "Auth" */
}

static long get_param(const struct guest *g, uint32_t index, uint64_t *value)
{
	struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
	long rc = hypercall2(g, __HYPERVISOR_hvm_op, HVMOP_get_param, (uint32_t)(uintptr_t)&p);

	*value = p.value;
	return rc;
}

static volatile uint32_t *lapic_reg(uint32_t off)
{
	return (volatile uint32_t *)(uintptr_t)(LAPIC + off);
}

static void clock_init(struct guest *g)
{
	uint32_t a, b;

	*lapic_reg(LAPIC_SVR) = 0x1ff;	     /* enabled, spurious vector 0xff */
	*lapic_reg(LAPIC_LVTT) = 0x10000 | 0xef; /* masked: it never fires */
	*lapic_reg(LAPIC_TDCR) = TDCR_DIV128;
	*lapic_reg(LAPIC_TMICT) = 0xffffffffu;
	a = *lapic_reg(LAPIC_TMCCT);
	for (volatile int i = 0; i < 100000; i++)
		;
	b = *lapic_reg(LAPIC_TMCCT);
	g->lapic = a != 0 && b < a;
	g->last = b;
}

static uint64_t env_now_ms(void *ctx)
{
	struct guest *g = ctx;
	uint32_t cur;

	if (!g->lapic)
		return g->counted_ms;
	cur = *lapic_reg(LAPIC_TMCCT);
	g->ticks += g->last - cur;
	g->last = cur;
	if (cur < 0x80000000u) { /* re-armed long before it would stop */
		*lapic_reg(LAPIC_TMICT) = 0xffffffffu;
		g->last = *lapic_reg(LAPIC_TMCCT);
	}
	return g->ticks / TICKS_PER_MS;
}

static void env_kick(void *ctx)
{
	struct guest *g = ctx;
	struct evtchn_send s = { .port = g->port };

	hypercall2(g, __HYPERVISOR_event_channel_op, EVTCHNOP_send, (uint32_t)(uintptr_t)&s);
}

/* Polls the ring until xenstored moved an index or set the error, or ms
 * passed.  Without a clock, each call counts as the time it was given. */
static void env_wait(void *ctx, unsigned ms)
{
	struct guest *g = ctx;
	struct xenstore_domain_interface *r = g->ring;
	uint32_t rp = __atomic_load_n(&r->rsp_prod, __ATOMIC_ACQUIRE);
	uint32_t rc = __atomic_load_n(&r->req_cons, __ATOMIC_ACQUIRE);
	uint64_t end = env_now_ms(g) + ms;

	for (unsigned spins = 0;; spins++) {
		if (__atomic_load_n(&r->rsp_prod, __ATOMIC_ACQUIRE) != rp ||
		    __atomic_load_n(&r->req_cons, __ATOMIC_ACQUIRE) != rc ||
		    __atomic_load_n(&r->error, __ATOMIC_ACQUIRE) != 0)
			return;
		if (g->lapic ? env_now_ms(g) >= end : spins >= 20000u * ms) {
			g->counted_ms += g->lapic ? 0 : ms;
			return;
		}
		__asm__ volatile("pause");
	}
}

static void env_say(void *ctx, const char *line)
{
	(void)ctx;
	puts_e9(line);
	puts_e9("\n");
}

static void power_off(void)
{
	outw(PM1A_CNT, S5);
	for (;;)
		__asm__ volatile("hlt");
}

void xsa_main(void)
{
	static struct xsa_state st;
	struct guest g = { .amd = is_amd() };
	const struct xsa_env env = { &g, env_kick, env_wait, env_now_ms, env_say };
	struct xsa_opts o = XSA_OPTS_DEFAULT;
	struct xsa_result r;
	uint64_t pfn = 0, port = 0;

	puts_e9("XSATTACK-START ");
	if (get_param(&g, HVM_PARAM_STORE_PFN, &pfn) != 0 ||
	    get_param(&g, HVM_PARAM_STORE_EVTCHN, &port) != 0 || pfn == 0 || pfn >= (1u << 20)) {
		puts_e9("no xenstore ring\nXSATTACK-DONE rounds=0\n");
		power_off();
	}
	g.ring = (struct xenstore_domain_interface *)(uintptr_t)(pfn << 12);
	g.port = (uint32_t)port;
	clock_init(&g);
	puts_e9("store_pfn=0x");
	for (int s = 28; s >= 0; s -= 4)
		outb(DEBUG_PORT, (uint8_t)"0123456789abcdef"[(pfn >> s) & 15]);
	puts_e9(" evtchn=");
	put_u(g.port);
	puts_e9(g.lapic ? " clock=lapic\n" : " clock=counted\n");
	xsa_run(&st, g.ring, &env, &o, &r);
	puts_e9("XSATTACK-DONE rounds=");
	put_u(r.rounds);
	puts_e9(" lost=");
	put_u(r.lost);
	puts_e9(" events=");
	put_u(r.events);
	puts_e9("\n");
	power_off();
}
