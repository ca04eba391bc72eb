/* The guest physical address map of a domus PVH domain.
 *
 *   0x00000000  RAM (low)                        up to min(ram, LAYOUT_LOW_MAX)
 *     0x6000      hvm_start_info, module list, memory map   (LAYOUT_BOOT_INFO)
 *                 (or, for the Linux boot protocol, struct boot_params)
 *     0x7000      kernel command line, 2 KiB                (LAYOUT_CMDLINE)
 *     (0xA0000-0x100000 is reserved by the guest itself: init_pvh_bootparams)
 *     0xE0000     ACPI tables (RSDP first), marked ACPI in the memory map
 *     0x1000000   kernel (PT_LOADs at their p_paddr)
 *     ...         initrd, page-aligned, at the top of low RAM below 1 GiB
 *   0xFC000000  I/O APIC and LAPIC live at 0xFEC00000 / 0xFEE00000 (KVM)
 *   0xFEFF8000  Xen special pages (libxl: xg_dom_x86.c), reserved:
 *                 0xFEFFC000 xenstore ring, 0xFEFFF000 console ring
 *   0x100000000 RAM (high), when RAM does not fit below the hole
 *
 * The special pages are shared with the toolstack, which names their frames
 * in xenstore: lib/include/domus/guest_layout.h defines them.
 * Grant-table frames are placed by the guest itself (XENMEM_add_to_physmap)
 * in unpopulated space above RAM. */
#ifndef DOMUS_VMM_LAYOUT_H
#define DOMUS_VMM_LAYOUT_H

#include "domus/guest_layout.h"

#define LAYOUT_PAGE 0x1000ULL
#define LAYOUT_BOOT_INFO 0x6000ULL   /* hvm_start_info (56 B), modlist at +0x40, memmap at +0x100 */
#define LAYOUT_CMDLINE 0x7000ULL     /* up to LAYOUT_CMDLINE_MAX bytes with its NUL */
#define LAYOUT_CMDLINE_MAX 2048ULL   /* x86 COMMAND_LINE_SIZE */
#define LAYOUT_ACPI 0xE0000ULL       /* RSDP must be in 0xE0000-0xFFFFF for the legacy scan */
#define LAYOUT_ACPI_SIZE 0x10000ULL
#define LAYOUT_KERNEL_MIN 0x1000000ULL
#define LAYOUT_INITRD_MAX 0x40000000ULL /* start info and initrd below 1 GiB (init_pvh_bootparams) */
#define LAYOUT_LOW_MAX 0xF0000000ULL   /* RAM below the 32-bit hole ends here */
#define LAYOUT_HIGH_BASE 0x100000000ULL

#endif
