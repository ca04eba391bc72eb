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
 * ends it with "XSATTACK-DONE fault vector=N". */
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
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_LVTT 0x320
#define LAPIC_LVT0 0x350
#define LAPIC_LVT1 0x360
#define LAPIC_LVTERR 0x370
#define LAPIC_TMICT 0x380
#define LAPIC_TDCR 0x3e0
#define LVT_MASKED 0x10000u
#define LVTT_PERIODIC 0x20000u
#define TDCR_DIV128 0xa
#define TICKS_PER_MS 7812u /* 1 GHz / 128 */
#define VEC_TIMER 0xef
#define VEC_SPURIOUS 0xff
#define SEL_CODE 0x08

/* The Xen note the monitor looks for (vmm/boot/kernel.c). */
__asm__(".pushsection .note.Xen, \"a\", @note\n"
	".balign 4\n"
	".long 4, 4, 18\n" /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	".asciz \"Xen\"\n"
	".balign 4\n"
	".long _start\n"
	".popsection\n");

static char stack[65536] __attribute__((used, aligned(16)));

/* Milliseconds, counted by the timer interrupt (the stub below). */
volatile uint32_t xsa_ticks;

void xsa_main(void);
void xsa_fault(uint32_t vector) __attribute__((noreturn, used));

/* Our own GDT: the PVH entry loads flat segments but leaves the GDT
 * unspecified, and taking an interrupt loads CS from it. */
__asm__(".section .rodata\n"
	".balign 8\n"
	"xsa_gdt: .quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff\n"
	"xsa_gdtr: .word 23\n"
	".long xsa_gdt\n"
	".text\n");

__attribute__((naked, noreturn, section(".text.start"))) void _start(void)
{
	__asm__ volatile("cli\n"
			 "lea stack + 65536, %esp\n"
			 "lgdt xsa_gdtr\n"
			 "ljmp $0x08, $1f\n"
			 "1: mov $0x10, %eax\n"
			 "mov %eax, %ds\n"
			 "mov %eax, %es\n"
			 "mov %eax, %ss\n"
			 "mov %eax, %fs\n"
			 "mov %eax, %gs\n"
			 "call xsa_main\n"
			 "2: hlt\n"
			 "jmp 2b\n");
}

/* Interrupt entry points: the timer counts a millisecond; anything else
 * from the local APIC is acknowledged and ignored (nothing else is
 * unmasked); exceptions 0-31 go to xsa_fault with their number. */
__asm__(".text\n"
	".globl xsa_irq_timer, xsa_irq_other, xsa_exc_table\n"
	"xsa_irq_timer:\n"
	"  incl xsa_ticks\n"
	"  movl $0, 0xfee000b0\n"
	"  iret\n"
	"xsa_irq_other:\n"
	"  movl $0, 0xfee000b0\n"
	"  iret\n"
	".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"xsa_exc\\n: push $\\n\n"
	"  call xsa_fault\n"
	".endr\n"
	".section .rodata\n"
	".balign 4\n"
	"xsa_exc_table:\n"
	".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"  .long xsa_exc\\n\n"
	".endr\n"
	".text\n");
extern const uint32_t xsa_exc_table[32];
void xsa_irq_timer(void);
void xsa_irq_other(void);

struct gate {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

static struct gate idt[256];

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
	bool ticking;	     /* the timer interrupt counts xsa_ticks */
	uint64_t counted_ms; /* otherwise: time as the waits add it up */
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

static void set_gate(unsigned v, uint32_t handler)
{
	/* A present 32-bit interrupt gate of ring 0: IF is cleared on entry. */
	idt[v] = (struct gate){ .off_lo = (uint16_t)handler, .sel = SEL_CODE, .type = 0x8e,
				.off_hi = (uint16_t)(handler >> 16) };
}

/* The IDT, the local APIC's timer every millisecond, everything else
 * masked (the 8259s too, which no firmware set up here); then a check that
 * it ticks, or polling instead. */
static void clock_init(struct guest *g)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };

	for (unsigned v = 0; v < 256; v++)
		set_gate(v, v < 32 ? xsa_exc_table[v] : (uint32_t)(uintptr_t)xsa_irq_other);
	set_gate(VEC_TIMER, (uint32_t)(uintptr_t)xsa_irq_timer);
	__asm__ volatile("lidt %0" : : "m"(idtr));
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	*lapic_reg(LAPIC_SVR) = 0x100 | VEC_SPURIOUS; /* software-enabled */
	*lapic_reg(LAPIC_LVT0) = LVT_MASKED;
	*lapic_reg(LAPIC_LVT1) = LVT_MASKED;
	*lapic_reg(LAPIC_LVTERR) = LVT_MASKED | 0xfe;
	*lapic_reg(LAPIC_TDCR) = TDCR_DIV128;
	*lapic_reg(LAPIC_LVTT) = LVTT_PERIODIC | VEC_TIMER;
	*lapic_reg(LAPIC_TMICT) = TICKS_PER_MS;
	/* Two ticks within a generous spin (seconds even under emulation). */
	__asm__ volatile("sti" ::: "memory");
	for (uint32_t i = 0; i < 20000000u && xsa_ticks < 2; i++)
		__asm__ volatile("pause" ::: "memory");
	__asm__ volatile("cli" ::: "memory");
	g->ticking = xsa_ticks >= 2;
	if (!g->ticking)
		*lapic_reg(LAPIC_LVTT) = LVT_MASKED | VEC_TIMER;
}

static uint64_t env_now_ms(void *ctx)
{
	struct guest *g = ctx;

	return g->ticking ? xsa_ticks : g->counted_ms;
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
			__asm__ volatile("pause" ::: "memory");
		}
	}
}

static void env_say(void *ctx, const char *line)
{
	(void)ctx;
	puts_e9(line);
	puts_e9("\n");
}

static __attribute__((noreturn)) void power_off(void)
{
	outw(PM1A_CNT, S5);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void xsa_fault(uint32_t vector)
{
	puts_e9("\nXSATTACK-DONE fault vector=");
	put_u(vector);
	puts_e9("\n");
#ifdef XSA_SELFTEST
	outb(0xf4, 0x10); /* QEMU's isa-debug-exit: it exits with status 33 */
#endif
	power_off();
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
#ifdef XSA_SELFTEST
	/* Under plain QEMU (no Xen; selftest.sh): the clock, a wait, then a
	 * fault, so that what a hypercall cannot show is shown there. */
	clock_init(&g);
	puts_e9(g.ticking ? "clock=lapic-timer" : "clock=counted");
	{
		struct xenstore_domain_interface ring = { 0 };
		uint64_t t0;

		g.ring = &ring;
		t0 = env_now_ms(&g);
		env_wait(&g, 300);
		puts_e9(" waited_ms=");
		put_u((uint32_t)(env_now_ms(&g) - t0));
		puts_e9("\n");
	}
	__asm__ volatile("ud2");
#endif
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
	puts_e9(g.ticking ? " clock=lapic-timer\n" : " clock=counted\n");
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
