/* The Linux x86 32-bit boot protocol (Documentation/x86/boot.rst, "32-bit
 * Boot Protocol"), for type = "hvm" guests that do not enter at the PVH
 * note: the bzImage's protected-mode part is loaded as is and decompresses
 * itself; the guest gets a struct boot_params ("zero page") with the setup
 * header, command line, initrd, e820 map and RSDP, and the same ACPI tables
 * as a PVH guest.
 *
 * Placement (layout.h): boot_params in the LAYOUT_BOOT_INFO page, the
 * command line at LAYOUT_CMDLINE, the kernel at its pref_address (relocatable
 * kernels) or code32_start, the initrd at the top of low RAM below both
 * LAYOUT_INITRD_MAX and the kernel's initrd_addr_max.
 *
 * The caller starts vCPU 0 at info.entry in 32-bit protected mode, paging
 * off, interrupts off, CS = 0x10 and DS/ES/SS = 0x18 flat 4 GiB (the kernel
 * loads its own GDT before it reloads a segment), ESI = info.boot_params,
 * EBP = EDI = EBX = 0. */
#ifndef DOMUS_VMM_BOOT_LINUX_H
#define DOMUS_VMM_BOOT_LINUX_H

#include <stddef.h>
#include <stdint.h>

#include "../guest_mem.h"
#include "pvh.h"

struct linux_boot_info {
	uint32_t entry;       /* 32-bit entry: where the protected-mode kernel is */
	uint32_t boot_params; /* ESI at the entry */
	uint64_t load_low;    /* the kernel's reserved range [load_low, load_high): */
	uint64_t load_high;   /* its load address + init_size */
};

/* Boot protocol 2.10 (Linux 2.6.31) brought pref_address and init_size. */
#define LINUX_BOOT_MIN_VERSION 0x020a

/* Loads the bzImage at path and writes everything above into m.  p is the
 * same as for pvh_setup() (its kernel_end is ignored: the kernel's extent
 * comes from the bzImage).  -errno with a one-line message naming the file
 * in err: EINVAL (not a bzImage this protocol can boot), EFAULT (does not
 * fit guest RAM), and pvh_setup()'s errors for the rest. */
int linux_boot_setup(const char *path, struct guest_mem *m, const struct pvh_params *p,
		     struct linux_boot_info *out, char *err, size_t errlen);

/* The same from a kernel already in memory; name prefixes the messages. */
int linux_boot_setup_buf(const char *name, const uint8_t *buf, size_t len, struct guest_mem *m,
			 const struct pvh_params *p, struct linux_boot_info *out, char *err,
			 size_t errlen);

#endif
