/* The hypercall racer (issue 12 item 3), a Xen PVH guest of our own with
 * several vCPUs: every vCPU throws hypercalls that touch the monitor's
 * shared state (hcrace_ops.c) as fast as it can, all at once, for a while
 * or for ever, and vCPU 0 may end the domain (SCHEDOP_shutdown) while the
 * others are still at it.  The monitor must neither crash, hang nor
 * corrupt anything; tests/lab/domain-hcrace.sh watches it, and two other
 * guests beside it.
 *
 * The kernel command line picks the mode:
 *   hcrace=poweroff:N  race N seconds, then vCPU 0 powers the domain off
 *                      (default, N = 10)
 *   hcrace=forever     race until destroyed
 *   hcrace.vcpus=N     how many vCPUs to wait for (default 4)
 * It says on port 0xE9 (the monitor's console log), one whole line at a
 * time:
 *   HCRACE-BOOT mode=... secs=N want=N
 *   HCRACE-START vcpus=N clock=lapic-timer tsc_per_ms=N
 *   HCRACE-ROUND vcpu=N calls=N ok=N    (each vCPU, every second or two)
 *   HCRACE-SHUTDOWN vcpu=0 calls=N ok=N (just before SCHEDOP_shutdown)
 *   HCRACE-ERROR ...  or  HCRACE-FAULT vcpu=N vector=N  when it went wrong.
 *
 * 32-bit flat protected mode with paging off, as the PVH entry leaves vCPU
 * 0 (Xen docs/misc/pvh.pandoc); its Xen note, GDT, IDT and timer are the
 * test guests' common ones (tests/lab/pvhlib).  The others start as on
 * any PC: our monitor has no VCPUOP_initialise or VCPUOP_up (vmm/xen/
 * vcpu_op.c answers -ENOSYS, as Xen does for an HVM guest's initialise);
 * Linux brings a PVH guest's CPUs up with INIT and SIPI through KVM's local
 * APIC, and so does this guest, with a real-mode trampoline at 0x8000.
 *
 * Its clock is the TSC, measured against the local APIC timer (1 GHz bus
 * under KVM, arch/x86/kvm/lapic.h APIC_BUS_CYCLE_NS) before the race;
 * interrupts are off while it races, so an upcall vector or a Xen timer it
 * sets up is never taken. */
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/sched.h>
#include <xen/arch-x86/hvm/start_info.h>

#include "hcrace.h"
#include "../pvhlib/pvhlib.h"

#define ICR_BUSY 0x1000u
/* All but self, level assert: INIT, and SIPI at vector 0x08 (0x8000). */
#define ICR_INIT_OTHERS 0x000c4500u
#define ICR_SIPI_OTHERS 0x000c4600u
#define TRAMPOLINE 0x8000u
#define STACK_SHIFT 14
#define STACK_SIZE (1 << STACK_SHIFT)
#define STR(x) #x
#define XSTR(x) STR(x)
#define CALIBRATE_TICKS 128 /* a power of two: no 64-bit division here */

/* One stack per vCPU, by APIC id (vCPU 0 runs on pvhlib's boot stack:
 * its slot here is unused). */
uint8_t hcr_stacks[HCR_MAX_CPUS][STACK_SIZE] __attribute__((aligned(16)));
/* The pages the ops may hand to the monitor for it (and KVM) to write or
 * take away: nothing else lives there. */
static uint8_t scratch[HCR_SCRATCH_PAGES][4096] __attribute__((aligned(4096)));

void hcr_ap_main(uint32_t id) __attribute__((noreturn, used));

/* The other vCPUs' first instructions, copied to TRAMPOLINE: real mode at
 * CS = 0x800, IP = 0 after the SIPI; our GDT (its descriptor copied along,
 * as lgdt in real mode reads it through DS), protected mode, then a far
 * jump to hcr_ap32 where the image is.  There: the stack of its APIC id,
 * and C. */
__asm__(".section .rodata\n"
	".globl hcr_tramp, hcr_tramp_end\n"
	".code16\n"
	"hcr_tramp:\n"
	"  cli\n"
	"  mov %cs, %ax\n"
	"  mov %ax, %ds\n"
	"  lgdtl hcr_tramp_gdtr - hcr_tramp\n"
	"  mov %cr0, %eax\n"
	"  or $1, %eax\n"
	"  mov %eax, %cr0\n"
	"  ljmpl $0x08, $hcr_ap32\n"
	"  .balign 4\n"
	"hcr_tramp_gdtr: .word 23\n"
	"  .long pvh_gdt\n"
	"hcr_tramp_end:\n"
	".code32\n"
	".text\n"
	"hcr_ap32:\n"
	"  mov $0x10, %eax\n"
	"  mov %eax, %ds\n"
	"  mov %eax, %es\n"
	"  mov %eax, %ss\n"
	"  mov %eax, %fs\n"
	"  mov %eax, %gs\n"
	"  mov 0xfee00020, %eax\n"
	"  shr $24, %eax\n"
	"  cmp $" XSTR(HCR_MAX_CPUS) ", %eax\n" /* more stay here */
	"  jae 3f\n"
	"  mov %eax, %ebx\n"
	"  inc %ebx\n"
	"  shl $" XSTR(STACK_SHIFT) ", %ebx\n"
	"  lea hcr_stacks(%ebx), %esp\n"
	"  push %eax\n"
	"  call hcr_ap_main\n"
	"3: cli\n"
	"  hlt\n"
	"  jmp 3b\n");
extern const uint8_t hcr_tramp[], hcr_tramp_end[];

/* The race's settings and what the vCPUs share. */
struct race {
	bool forever;
	uint32_t secs, want;
	bool amd;
	uint64_t tsc_per_ms; /* 0: the timer never ticked */
	struct hcr_env env;
	struct hcr_cpu cpus[HCR_MAX_CPUS];
};

static struct race race;
static volatile uint32_t online = 1; /* vCPUs in C, vCPU 0 counted */
static volatile uint32_t go;	     /* vCPU 0 says: race */
static volatile uint32_t out_lock;

static uint32_t my_id(void)
{
	return *lapic_reg(LAPIC_ID) >> 24;
}

void hcr_lock_out(void)
{
	while (__atomic_exchange_n(&out_lock, 1, __ATOMIC_ACQUIRE))
		cpu_pause();
}

void hcr_unlock_out(void)
{
	__atomic_store_n(&out_lock, 0, __ATOMIC_RELEASE);
}

/* A line under construction: text and numbers, then said whole. */
struct line {
	char b[160];
	unsigned n;
};

static void add_s(struct line *l, const char *s)
{
	while (*s && l->n < sizeof(l->b) - 2)
		l->b[l->n++] = *s++;
}

static void add_u(struct line *l, uint64_t v)
{
	char d[24];
	int k = 23;

	d[k] = '\0';
	do {
		/* Decimal without a 64-bit division (no libgcc here). */
		uint64_t q = 0, r = 0;
		for (int bit = 63; bit >= 0; bit--) {
			r = r << 1 | ((v >> bit) & 1);
			if (r >= 10) {
				r -= 10;
				q |= 1ULL << bit;
			}
		}
		d[--k] = (char)('0' + r);
		v = q;
	} while (v);
	add_s(l, d + k);
}

static void say(struct line *l)
{
	l->b[l->n++] = '\n';
	l->b[l->n] = '\0';
	hcr_lock_out();
	pvh_puts(l->b);
	hcr_unlock_out();
	l->n = 0;
}

static __attribute__((noreturn)) void finish(void)
{
#ifdef HCR_SELFTEST
	outb(0xf4, 0x10); /* QEMU's isa-debug-exit: status 33 */
#endif
	pvh_power_off();
}

/* No lock: the faulting vCPU may hold it. */
void pvh_fault(uint32_t vector)
{
	struct line l = { .n = 0 };

	add_s(&l, "\nHCRACE-FAULT vcpu=");
	add_u(&l, my_id());
	add_s(&l, " vector=");
	add_u(&l, vector);
	l.b[l.n++] = '\n';
	l.b[l.n] = '\0';
	pvh_puts(l.b);
	finish();
}

uint32_t hcr_rand(struct hcr_cpu *c)
{
	uint32_t x = c->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	c->rng = x;
	return x;
}

long hcr_hypercall(uint32_t op, uint32_t a1, uint32_t a2, uint32_t a3)
{
	long r;

#ifdef HCR_SELFTEST
	/* No Xen under plain QEMU (selftest.sh): VMCALL would be #UD. */
	(void)op, (void)a1, (void)a2, (void)a3;
	__asm__ volatile("" : "=a"(r) : "0"(-38) : "memory");
#else
	/* VMMCALL on AMD, VMCALL elsewhere: KVM wants the host's instruction. */
	if (race.amd)
		__asm__ volatile("vmmcall" : "=a"(r), "+b"(a1), "+c"(a2), "+d"(a3) : "a"(op) : "memory");
	else
		__asm__ volatile("vmcall" : "=a"(r), "+b"(a1), "+c"(a2), "+d"(a3) : "a"(op) : "memory");
#endif
	return r;
}

static bool starts(const char *s, const char *p, const char **rest)
{
	while (*p)
		if (*s++ != *p++)
			return false;
	*rest = s;
	return true;
}

static uint32_t number(const char *s)
{
	uint32_t v = 0;

	while (*s >= '0' && *s <= '9' && v < 100000)
		v = v * 10 + (uint32_t)(*s++ - '0');
	return v;
}

/* The words of the command line that are ours. */
static void parse_cmdline(struct race *r)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)pvh_start_info;
	const char *s, *v;

	r->secs = 10;
	r->want = 4;
	if (!si || si->magic != XEN_HVM_START_MAGIC_VALUE || !si->cmdline_paddr || si->cmdline_paddr >= 1ULL << 32)
		return;
	for (s = (const char *)(uintptr_t)si->cmdline_paddr; *s; s++) {
		if (s != (const char *)(uintptr_t)si->cmdline_paddr && s[-1] != ' ')
			continue;
		if (starts(s, "hcrace=forever", &v))
			r->forever = true;
		else if (starts(s, "hcrace=poweroff:", &v))
			r->secs = number(v);
		else if (starts(s, "hcrace.vcpus=", &v))
			r->want = number(v);
	}
	if (r->want < 1 || r->want > HCR_MAX_CPUS)
		r->want = 4;
}

/* The TSC against CALIBRATE_TICKS ms of the local APIC timer (pvhlib.c),
 * which is then stopped. */
static void clock_init(struct race *r)
{
	uint64_t t0;

	pvh_idt_init();
	pvh_timer_start();
	__asm__ volatile("sti" ::: "memory");
	/* Generous spins: seconds even under emulation. */
	for (uint32_t i = 0; i < 50000000u && pvh_ticks < 2; i++)
		cpu_pause();
	if (pvh_ticks >= 2) {
		uint32_t from = pvh_ticks;
		t0 = rdtsc();
		while (pvh_ticks < from + CALIBRATE_TICKS)
			__asm__ volatile("hlt" ::: "memory");
		r->tsc_per_ms = (rdtsc() - t0) >> 7;
	}
	__asm__ volatile("cli" ::: "memory");
	pvh_timer_stop();
}

/* Spin for ms milliseconds by the TSC (interrupts are off). */
static void delay_ms(const struct race *r, uint32_t ms)
{
	uint64_t end = rdtsc() + r->tsc_per_ms * ms;

	while (rdtsc() < end)
		cpu_pause();
}

static void send_ipi(uint32_t icr)
{
	*lapic_reg(LAPIC_ICR_HI) = 0;
	*lapic_reg(LAPIC_ICR_LO) = icr;
	for (uint32_t i = 0; i < 1000000u && (*lapic_reg(LAPIC_ICR_LO) & ICR_BUSY); i++)
		cpu_pause();
}

/* INIT, then SIPI twice (Intel SDM vol. 3 "MP initialization"), to every
 * other vCPU; those that arrive count themselves in `online`. */
static void start_others(struct race *r)
{
	uint8_t *t = (uint8_t *)(uintptr_t)TRAMPOLINE;
	uint64_t end;

	memcpy(t, hcr_tramp, (size_t)(hcr_tramp_end - hcr_tramp));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	send_ipi(ICR_INIT_OTHERS);
	delay_ms(r, 10);
	send_ipi(ICR_SIPI_OTHERS | (TRAMPOLINE >> 12));
	delay_ms(r, 1);
	send_ipi(ICR_SIPI_OTHERS | (TRAMPOLINE >> 12));
	end = rdtsc() + r->tsc_per_ms * 10000;
	while (__atomic_load_n(&online, __ATOMIC_ACQUIRE) < r->want && rdtsc() < end)
		cpu_pause();
}

static void say_round(const struct hcr_cpu *c, const char *what)
{
	struct line l = { .n = 0 };

	add_s(&l, what);
	add_s(&l, " vcpu=");
	add_u(&l, c->id);
	add_s(&l, " calls=");
	add_u(&l, c->calls);
	add_s(&l, " ok=");
	add_u(&l, c->ok);
	say(&l);
}

/* Race until `until` (TSC; 0: for ever), saying how far it got every
 * `every` TSC units. */
static void run(struct hcr_cpu *c, uint64_t until, uint64_t every)
{
	uint64_t next = rdtsc() + every;

	for (;;) {
		uint64_t now = rdtsc();

		if (until && now >= until)
			return;
		if (now >= next) {
			say_round(c, "HCRACE-ROUND");
			next = now + every;
		}
		if (hcr_race_one(c, &race.env) >= 0)
			c->ok++;
		c->calls++;
	}
}

static uint64_t round_every(const struct race *r)
{
	return r->tsc_per_ms * (r->forever ? 2000 : 1000);
}

static void cpu_init(struct hcr_cpu *c, uint32_t id)
{
	c->id = id;
	c->rng = ((id + 1) * 0x9e3779b9u) ^ (uint32_t)rdtsc();
	if (!c->rng)
		c->rng = 1;
}

void hcr_ap_main(uint32_t id)
{
	struct hcr_cpu *c = &race.cpus[id];

	pvh_idt_load();
	cpu_init(c, id);
	__atomic_fetch_add(&online, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		cpu_pause();
	run(c, 0, round_every(&race));
	for (;;)
		__asm__ volatile("cli; hlt");
}

void pvh_main(void)
{
	struct race *r = &race;
	struct hcr_cpu *c = &r->cpus[0];
	struct line l = { .n = 0 };
	struct sched_shutdown sd = { .reason = SHUTDOWN_poweroff };
	uint32_t n;
	long rc;

	r->amd = pvh_is_amd();
	r->env.scratch = &scratch[0][0];
	parse_cmdline(r);
	add_s(&l, "HCRACE-BOOT mode=");
	add_s(&l, r->forever ? "forever" : "poweroff");
	add_s(&l, " secs=");
	add_u(&l, r->secs);
	add_s(&l, " want=");
	add_u(&l, r->want);
	say(&l);
	clock_init(r);
	if (!r->tsc_per_ms) {
		add_s(&l, "HCRACE-ERROR the local APIC timer did not tick: no clock");
		say(&l);
		finish();
	}
	cpu_init(c, 0);
	if (r->want > 1)
		start_others(r);
	n = __atomic_load_n(&online, __ATOMIC_ACQUIRE);
	r->env.nr_cpus = n;
	add_s(&l, "HCRACE-START vcpus=");
	add_u(&l, n);
	add_s(&l, " clock=lapic-timer tsc_per_ms=");
	add_u(&l, r->tsc_per_ms);
	say(&l);
	if (n != r->want) {
		add_s(&l, "HCRACE-ERROR only ");
		add_u(&l, n);
		add_s(&l, " of ");
		add_u(&l, r->want);
		add_s(&l, " vCPUs came up within 10 s (INIT/SIPI to 0x8000)");
		say(&l);
	}
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	if (r->forever)
		run(c, 0, round_every(r));
	run(c, rdtsc() + r->tsc_per_ms * 1000 * r->secs, round_every(r));
	say_round(c, "HCRACE-SHUTDOWN");
#ifdef HCR_SELFTEST
	finish();
#endif
	rc = hcr_hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (uint32_t)(uintptr_t)&sd, 0);
	/* The monitor ends the domain at once: this runs only if it did not. */
	delay_ms(r, rc == 0 ? 5000 : 0);
	add_s(&l, "HCRACE-ERROR SCHEDOP_shutdown returned ");
	add_s(&l, rc < 0 ? "-" : "");
	add_u(&l, (uint64_t)(rc < 0 ? -rc : rc));
	add_s(&l, rc == 0 ? " and the domain still ran 5 s later" : "");
	say(&l);
	pvh_power_off();
}
