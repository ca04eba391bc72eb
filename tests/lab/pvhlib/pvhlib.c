/* The pieces our freestanding PVH test guests share (pvhlib.h). */
#include "pvhlib.h"

#define LVTT_PERIODIC 0x20000u
#define TDCR_DIV128 0xa
#define TICKS_PER_MS 7812u /* 1 GHz / 128 */
#define VEC_TIMER 0xef
#define VEC_SPURIOUS 0xff

/* The Xen note the monitor looks for (vmm/boot/kernel.c): the guest's
 * _start is its 32-bit PVH entry. */
__asm__(".pushsection .note.Xen, \"a\", @note\n"
	".balign 4\n"
	".long 4, 4, 18\n" /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	".asciz \"Xen\"\n"
	".balign 4\n"
	".long _start\n"
	".popsection\n");

/* Our own GDT: the PVH entry loads flat segments but leaves the GDT
 * unspecified, and taking an interrupt loads CS from it. */
__asm__(".section .rodata\n"
	".balign 8\n"
	".globl pvh_gdt, pvh_gdtr\n"
	"pvh_gdt: .quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff\n"
	"pvh_gdtr: .word 23\n"
	".long pvh_gdt\n"
	".text\n");

volatile uint32_t pvh_ticks;
uint32_t pvh_start_info;

/* The boot vCPU's stack; other vCPUs bring their own (hcrace's SIPI
 * trampoline). */
static uint8_t boot_stack[PVH_BOOT_STACK] __attribute__((used, aligned(16)));

/* The PVH entry: EBX holds the start info's address; our stack, our GDT
 * and its flat segments, then the guest's pvh_main(). */
__attribute__((naked, noreturn, section(".text.start"))) void _start(void)
{
	__asm__ volatile("cli\n"
			 "mov %%ebx, pvh_start_info\n"
			 "lea %c0 + boot_stack, %%esp\n"
			 "lgdt pvh_gdtr\n"
			 "ljmp $0x08, $1f\n"
			 "1: mov $0x10, %%eax\n"
			 "mov %%eax, %%ds\n"
			 "mov %%eax, %%es\n"
			 "mov %%eax, %%ss\n"
			 "mov %%eax, %%fs\n"
			 "mov %%eax, %%gs\n"
			 "call pvh_main\n"
			 "2: hlt\n"
			 "jmp 2b\n"
			 :
			 : "i"(PVH_BOOT_STACK));
}

/* Interrupt entry points: the timer counts a millisecond; anything else
 * from the local APIC is acknowledged and ignored (nothing else is
 * unmasked); exceptions 0-31 go to pvh_fault with their number. */
__asm__(".text\n"
	"pvh_irq_timer:\n"
	"  lock incl pvh_ticks\n"
	"  movl $0, 0xfee000b0\n" /* LAPIC_EOI */
	"  iret\n"
	"pvh_irq_other:\n"
	"  movl $0, 0xfee000b0\n"
	"  iret\n"
	".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"pvh_exc\\n: push $\\n\n"
	"  call pvh_fault\n"
	".endr\n"
	".section .rodata\n"
	".balign 4\n"
	"pvh_exc_table:\n"
	".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"  .long pvh_exc\\n\n"
	".endr\n"
	".text\n");
extern const uint32_t pvh_exc_table[32];
void pvh_irq_timer(void);
void pvh_irq_other(void);

struct gate {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

static struct gate idt[256];
static struct {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed)) idtr = { sizeof(idt) - 1, 0 }; /* base: pvh_idt_init() */

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

bool pvh_is_amd(void)
{
	uint32_t a = 0, b, c, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
	return b == 0x68747541; /* "Auth" */
}

void pvh_puts(const char *s)
{
	while (*s)
		outb(PVH_DEBUG_PORT, (uint8_t)*s++);
}

static void set_gate(unsigned v, uint32_t handler)
{
	/* A present 32-bit interrupt gate of ring 0: IF is cleared on entry. */
	idt[v] = (struct gate){ .off_lo = (uint16_t)handler, .sel = PVH_SEL_CODE, .type = 0x8e,
				.off_hi = (uint16_t)(handler >> 16) };
}

void pvh_idt_load(void)
{
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void pvh_idt_init(void)
{
	idtr.base = (uint32_t)(uintptr_t)idt;
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, v < 32 ? pvh_exc_table[v] : (uint32_t)(uintptr_t)pvh_irq_other);
	set_gate(VEC_TIMER, (uint32_t)(uintptr_t)pvh_irq_timer);
	pvh_idt_load();
}

void pvh_timer_start(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	*lapic_reg(LAPIC_SVR) = 0x100 | VEC_SPURIOUS; /* software-enabled */
	*lapic_reg(LAPIC_LVT0) = LVT_MASKED;
	*lapic_reg(LAPIC_LVT1) = LVT_MASKED;
	*lapic_reg(LAPIC_LVTERR) = LVT_MASKED | 0xfe;
	*lapic_reg(LAPIC_TDCR) = TDCR_DIV128;
	*lapic_reg(LAPIC_LVTT) = LVTT_PERIODIC | VEC_TIMER;
	*lapic_reg(LAPIC_TMICT) = TICKS_PER_MS;
}

void pvh_timer_stop(void)
{
	*lapic_reg(LAPIC_LVTT) = LVT_MASKED | VEC_TIMER;
	*lapic_reg(LAPIC_TMICT) = 0;
}

void pvh_power_off(void)
{
	outw(PVH_PM1A_CNT, PVH_S5);
	for (;;)
		__asm__ volatile("cli; hlt");
}
