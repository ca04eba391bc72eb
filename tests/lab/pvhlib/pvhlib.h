/* What our freestanding 32-bit PVH test guests share (tests/lab/xsattack,
 * tests/lab/hcrace): port I/O, the local APIC, a flat GDT, an IDT whose
 * exceptions end in the guest's own pvh_fault(), the local APIC timer
 * counting milliseconds in pvh_ticks, ACPI S5 power-off, and the Xen note
 * that names the guest's _start as its PVH entry (vmm/boot/kernel.c).
 *
 * 32-bit flat protected mode with paging off, as the PVH entry leaves it
 * (Xen docs/misc/pvh.pandoc): guest physical addresses are pointers.  The
 * entry (_start: a 64 KiB stack, `lgdt pvh_gdtr`, the far jump to
 * PVH_SEL_CODE) is here; each guest brings its pvh_main() and its fault
 * report. */
#ifndef PVHLIB_H
#define PVHLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PVH_DEBUG_PORT 0xe9
#define PVH_PM1A_CNT 0x604 /* vmm/boot/acpi.h ACPI_PM1A_CNT_PORT */
#define PVH_S5 ((5 << 10) | (1 << 13))
#define PVH_SEL_CODE 0x08 /* pvh_gdt: flat code */
#define PVH_SEL_DATA 0x10 /* pvh_gdt: flat data */

#define LAPIC_BASE 0xfee00000u
#define LAPIC_ID 0x20
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVTT 0x320
#define LAPIC_LVT0 0x350
#define LAPIC_LVT1 0x360
#define LAPIC_LVTERR 0x370
#define LAPIC_TMICT 0x380
#define LAPIC_TDCR 0x3e0
#define LVT_MASKED 0x10000u

/* Milliseconds, counted by the timer interrupt while pvh_timer_start()'s
 * timer runs and interrupts are on. */
extern volatile uint32_t pvh_ticks;

#define PVH_BOOT_STACK 65536
/* EBX at the PVH entry: the address of its struct hvm_start_info. */
extern uint32_t pvh_start_info;
/* The guest's own, called by _start on the boot stack. */
void pvh_main(void);

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void cpu_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline volatile uint32_t *lapic_reg(uint32_t off)
{
	return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + off);
}

/* What the compiler may call for struct copies and clearing. */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memmove(void *d, const void *s, size_t n);

/* VMMCALL on AMD, VMCALL elsewhere: KVM wants the host's instruction. */
bool pvh_is_amd(void);
/* Bytes to port 0xE9 (the monitor's console log), as they are. */
void pvh_puts(const char *s);
/* The IDT: exceptions 0-31 to pvh_fault, the timer's vector to the tick,
 * the rest acknowledged and ignored; loaded on this CPU. */
void pvh_idt_init(void);
/* The same IDT on another CPU (pvh_idt_init() ran first). */
void pvh_idt_load(void);
/* Everything of the local APIC masked but its timer, every millisecond
 * (KVM's APIC bus runs at 1 GHz, arch/x86/kvm/lapic.h APIC_BUS_CYCLE_NS),
 * and the 8259s masked (no firmware set them up).  Ticks once interrupts
 * are on. */
void pvh_timer_start(void);
void pvh_timer_stop(void);
/* ACPI S5 through the PM1a control port; never returns. */
__attribute__((noreturn)) void pvh_power_off(void);

/* The guest's own: an exception, by vector.  Called on the faulting
 * stack, interrupts off. */
__attribute__((noreturn)) void pvh_fault(uint32_t vector);

#endif
