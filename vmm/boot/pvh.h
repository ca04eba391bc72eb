/* The Xen PVH boot information: struct hvm_start_info (version 1) with the
 * command line, the initrd as module 0, the memory map and the ACPI RSDP
 * (Xen docs/misc/pvh.pandoc, xen-guest-abi.md §3.1), all below 1 GiB where
 * Linux's init_pvh_bootparams() can read them.
 *
 * Placement (layout.h): start info at LAYOUT_BOOT_INFO, its module list at
 * +PVH_MODLIST_OFF, its memory map at +PVH_MEMMAP_OFF, the command line at
 * LAYOUT_CMDLINE, ACPI tables at LAYOUT_ACPI, the initrd page-aligned at the
 * top of low RAM below LAYOUT_INITRD_MAX. */
#ifndef DOMUS_VMM_BOOT_PVH_H
#define DOMUS_VMM_BOOT_PVH_H

#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>

#include "../guest_mem.h"

#define PVH_MODLIST_OFF 0x40
#define PVH_MEMMAP_OFF 0x100
#define PVH_MEMMAP_MAX 8 /* we use at most 5 entries */

struct pvh_params {
	const char *cmdline;     /* NULL means an empty command line */
	const char *initrd_path; /* NULL: no module */
	unsigned nvcpus;         /* for the MADT: 1..ACPI_MAX_VCPUS */
	uint64_t kernel_end;     /* kernel_info.load_high: the initrd goes above */
};

/* Writes everything above into m and returns the start info's address in
 * *start_info_gpa: the value of EBX at the PVH entry.  -errno with a
 * one-line message in err: E2BIG (command line too long), ENOENT & co.
 * (initrd file), ENOSPC (initrd does not fit), EINVAL (nvcpus), EFAULT
 * (RAM does not cover the boot areas). */
int pvh_setup(struct guest_mem *m, const struct pvh_params *p, uint32_t *start_info_gpa,
	      char *err, size_t errlen);

/* The memory map a guest with m's RAM gets, sorted by address: RAM below
 * 0xA0000, the ACPI tables (type ACPI), RAM from 1 MiB to the end of low
 * RAM, the Xen special pages (reserved), high RAM.  Returns the number of
 * entries written (at most max). */
unsigned pvh_memmap(const struct guest_mem *m, struct hvm_memmap_table_entry *map, unsigned max);

#endif
