/* The ACPI tables of a domus PVH guest: RSDP, RSDT, XSDT, FADT, FACS, DSDT
 * and MADT, built in the guest's ACPI area (layout.h LAYOUT_ACPI).
 *
 * They give the guest its CPUs (MADT) and the two machine paths the monitor
 * has to see, because Linux 6.1 as a Xen HVM/PVH guest powers off natively
 * (xen-guest-abi.md §3.4, §11):
 *   - power-off: ACPI S5, a 16-bit write of SLP_TYP|SLP_EN to PM1a_CNT
 *     (ACPICA hwsleep.c acpi_hw_legacy_sleep); acpi_pm1_cnt_is_s5() decodes it;
 *   - reset: the FADT reset register, an 8-bit write of ACPI_RESET_VALUE to
 *     I/O port ACPI_RESET_PORT (drivers/acpi/reboot.c; the same port and value
 *     as the PIIX 0xCF9 reset control register Linux's reboot=pci uses).
 *
 * The registers behind these ports are modelled in acpi_pm.h
 * (acpi_pm_io()), which the monitor's port I/O handler calls.
 *
 * Interrupts (MADT): one I/O APIC, GSI base 0, and a single source override,
 * IRQ 9 (the SCI) level/active-high.  There is no IRQ 0 -> GSI 2 override:
 * that matches KVM's default GSI routing (GSI n -> I/O APIC pin n).  A
 * monitor that installs QEMU's routing (GSI 0 -> pin 2, hw/i386/kvm) must
 * add that override too.  PCAT_COMPAT is set: KVM_CREATE_IRQCHIP has 8259s. */
#ifndef DOMUS_VMM_BOOT_ACPI_H
#define DOMUS_VMM_BOOT_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "../guest_mem.h"

/* Fixed hardware I/O ports (chosen here; any free ports would do). */
#define ACPI_PM1A_EVT_PORT 0x600 /* 4 bytes: PM1_STS (2), PM1_EN (2) */
#define ACPI_PM1A_EVT_LEN 4
#define ACPI_PM1A_CNT_PORT 0x604 /* 2 bytes: PM1_CNT */
#define ACPI_PM1A_CNT_LEN 2
#define ACPI_PM_TMR_PORT 0x608   /* 4 bytes: PM_TMR, 32-bit (TMR_VAL_EXT) */
#define ACPI_PM_TMR_LEN 4
#define ACPI_PM_TMR_HZ 3579545u  /* ACPI 6.4 §4.8.3.3: 3.579545 MHz */

#define ACPI_RESET_PORT 0xCF9
#define ACPI_RESET_VALUE 0x06

#define ACPI_SCI_IRQ 9
#define ACPI_IOAPIC_ADDR 0xFEC00000u
#define ACPI_LAPIC_ADDR 0xFEE00000u

/* PM1_CNT fields (ACPI 6.4 §4.8.3.2.1). */
#define ACPI_PM1_CNT_SCI_EN (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK (7u << 10)
#define ACPI_PM1_CNT_SLP_EN (1u << 13)

/* The SLP_TYP our DSDT's \_S5 package gives for soft-off. */
#define ACPI_S5_SLP_TYP 5

/* Most vCPUs the MADT describes (ACPI UIDs and xAPIC ids are one byte, the
 * I/O APIC takes id nvcpus; Xen's HVM_MAX_VCPUS is 128 too). */
#define ACPI_MAX_VCPUS 128

/* Writes the tables for nvcpus CPUs (UID == APIC id == vCPU index) into the
 * ACPI area of m and sets *rsdp_gpa.  -EINVAL (bad nvcpus) or -EFAULT (the
 * area is not RAM), with a message in err. */
int acpi_build(struct guest_mem *m, unsigned nvcpus, uint64_t *rsdp_gpa,
	       char *err, size_t errlen);

/* 1 if a value written to PM1a_CNT requests S5 (power off): SLP_EN set
 * and SLP_TYP == ACPI_S5_SLP_TYP.  0 otherwise. */
int acpi_pm1_cnt_is_s5(uint16_t value);

/* The PM timer's value ns nanoseconds after some origin (wraps at 2^32). */
uint32_t acpi_pm_tmr_value(uint64_t ns);

/* 8-bit sum of len bytes (0 for a correctly checksummed table). */
uint8_t acpi_sum(const void *p, size_t len);

#endif
