/* What the PVH and the Linux boot protocol setups share: the command line
 * and the initrd in guest RAM.  Internal to vmm/boot. */
#ifndef DOMUS_VMM_BOOT_COMMON_H
#define DOMUS_VMM_BOOT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "../guest_mem.h"

/* What every boot protocol writes first: checks that RAM covers the boot
 * information page (LAYOUT_BOOT_INFO) and returns it zeroed in *page, writes
 * the command line, and builds the ACPI tables for nvcpus (*rsdp). */
int boot_prepare(struct guest_mem *m, const char *cmdline, unsigned nvcpus, void **page,
		 uint64_t *rsdp, char *err, size_t errlen);

/* Writes cmdline (NULL: empty) NUL-terminated at LAYOUT_CMDLINE.  -E2BIG if
 * it does not fit LAYOUT_CMDLINE_MAX, -EFAULT if that is not RAM. */
int boot_cmdline_write(struct guest_mem *m, const char *cmdline, char *err, size_t errlen);

/* Reads the initrd at path into guest RAM, page-aligned, as high as it fits
 * below top and not below floor.  Sets *addr and *size.  -errno with a
 * "ramdisk PATH: ..." message (the xl.cfg key): ENOENT & co., EINVAL for an
 * empty file, ENOSPC when it does not fit. */
int boot_initrd_load(struct guest_mem *m, const char *path, uint64_t floor, uint64_t top,
		     uint64_t *addr, uint64_t *size, char *err, size_t errlen);

/* The name of the first boot area (start info or boot_params page and
 * command line, ACPI tables) that [base, base + size) overlaps, and its
 * address in *at; NULL if none.  A kernel must not be loaded over them. */
const char *boot_area_overlap(uint64_t base, uint64_t size, uint64_t *at);

#endif
