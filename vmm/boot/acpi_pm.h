/* The ACPI fixed hardware behind the FADT (acpi.h), as a pure model the
 * monitor's port I/O handler calls: PM1a event block (status, enable),
 * PM1a control, the PM timer, and the reset paths Linux 6.1 tries.
 *
 * Ports and what happens (ACPI 6.4 §4.8.3):
 *   ACPI_PM1A_EVT_PORT  +0 PM1_STS (16 bits, write 1 to clear)
 *                       +2 PM1_EN  (16 bits, read/write: ACPICA checks that
 *                          GBL_EN sticks, else logs "Could not enable
 *                          GlobalLock event" at boot)
 *   ACPI_PM1A_CNT_PORT  PM1_CNT (16 bits): SCI_EN reads 1 (no SMI_CMD, always
 *                       in ACPI mode); SLP_EN with SLP_TYP = ACPI_S5_SLP_TYP
 *                       is power-off (ACPI_PM_POWEROFF)
 *   ACPI_PM_TMR_PORT    PM_TMR (32 bits, read-only), from the caller's clock
 *   ACPI_RESET_PORT     0xCF9, the FADT reset register and PIIX reset control:
 *                       a write with bit 2 (RST_CPU) set is a reset
 *   0x64                i8042 command port: 0xFE (pulse reset) is a reset;
 *                       status reads 0 so Linux's kb_wait() does not spin
 *                       (arch/x86/kernel/reboot.c BOOT_KBD)
 * Any access width and alignment inside a block works, byte by byte. */
#ifndef DOMUS_VMM_BOOT_ACPI_PM_H
#define DOMUS_VMM_BOOT_ACPI_PM_H

#include <stdint.h>

#include "acpi.h"
#include "domus/stream.h"

#define ACPI_KBD_CMD_PORT 0x64
#define ACPI_KBD_PULSE_RESET 0xFE

/* PM1_STS / PM1_EN bits (ACPI 6.4 §4.8.3.1). */
#define ACPI_PM1_TMR (1u << 0)
#define ACPI_PM1_GBL (1u << 5)
#define ACPI_PM1_PWRBTN (1u << 8)
#define ACPI_PM1_WAK_STS (1u << 15)

struct acpi_pm {
	uint16_t sts;
	uint16_t en;
	uint16_t cnt;   /* as last written, SLP_EN cleared */
	uint8_t reset;  /* 0xCF9 as last written */
	/* Added to the caller's now_ns: 0 from boot, so that a loaded timer
	 * goes on from its saved count on another clock (acpi_pm_load). */
	uint64_t tmr_offset_ns;
};

enum acpi_pm_event {
	ACPI_PM_NONE = 0,
	ACPI_PM_POWEROFF, /* the guest asked for S5: power off */
	ACPI_PM_RESET,    /* the guest asked for a reset */
};

/* Handles an I/O port access of size 1, 2 or 4 bytes.  For a read, *val is
 * set; for a write, *val is the value written.  now_ns is any monotonic
 * clock in nanoseconds (the PM timer counts from its origin).  Returns an
 * enum acpi_pm_event, or -ENOENT if no byte of the access is ours (the
 * caller offers it to its other devices), -EINVAL for a bad size. */
int acpi_pm_io(struct acpi_pm *pm, uint16_t port, unsigned size, int is_write, uint32_t *val,
	       uint64_t now_ns);

/* The SCI's level (GSI ACPI_SCI_IRQ, level-triggered, active high): 1 while
 * an enabled status bit is set.  The caller re-evaluates it after each
 * acpi_pm_io() write and after acpi_pm_power_button(). */
int acpi_pm_sci(const struct acpi_pm *pm);

/* Presses the fixed-hardware power button (the FADT declares one): sets
 * PWRBTN_STS.  Linux then runs its orderly power-off (drivers/acpi/button.c),
 * ending in an S5 write.  Returns acpi_pm_sci(). */
int acpi_pm_power_button(struct acpi_pm *pm);

/* The PM timer's count in nanoseconds at now_ns, and setting it: the timer
 * then reads timer_ns at now_ns and counts on from there. */
uint64_t acpi_pm_timer_ns(const struct acpi_pm *pm, uint64_t now_ns);
void acpi_pm_set_timer_ns(struct acpi_pm *pm, uint64_t timer_ns, uint64_t now_ns);

/* The ACPI_PM record's payload (docs/vmm-state.md): u16 PM1_STS, u16 PM1_EN,
 * u16 PM1_CNT, u8 0xCF9, u8 0, u64 the timer's count in ns at now_ns. */
int acpi_pm_save(const struct acpi_pm *pm, uint64_t now_ns, struct stream_writer *w);
/* Loads a payload into *pm only if every value is one the registers can
 * hold (else -EBADMSG and *why); the timer reads its saved count at now_ns,
 * so a caller that wants the timer to count time spent saved passes a
 * now_ns that far in the past. */
int acpi_pm_load(struct acpi_pm *pm, struct stream_cursor *c, uint64_t now_ns, const char **why);

#endif
