/* Loading a Linux kernel for a Xen PVH boot: the ELF vmlinux inside a
 * bzImage (or a bare vmlinux), placed at its physical addresses in guest RAM
 * and entered at its XEN_ELFNOTE_PHYS32_ENTRY (xen-guest-abi.md §3.1).
 *
 * After kernel_load() the caller starts vCPU 0 at info.entry in 32-bit
 * protected mode with EBX = the start info address pvh_setup() returned
 * (Xen docs/misc/pvh.pandoc). */
#ifndef DOMUS_VMM_BOOT_KERNEL_H
#define DOMUS_VMM_BOOT_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "../guest_mem.h"

struct kernel_info {
	uint32_t entry;        /* XEN_ELFNOTE_PHYS32_ENTRY: 32-bit physical entry */
	uint64_t load_low;     /* lowest guest-physical byte loaded */
	uint64_t load_high;    /* one past the highest, BSS included */
	const char *format;    /* "lz4", "gzip", ... or "elf" for a bare vmlinux */
};

/* The largest kernel file and decompressed kernel we accept.  Debian's 6.1
 * cloud kernel is 14 MiB compressed, ~60 MiB decompressed. */
#define KERNEL_FILE_MAX (256u << 20)
#define KERNEL_IMAGE_MAX (512u << 20)

/* Reads the kernel at path and loads it into m.  Returns 0 and fills *out,
 * or -errno with a one-line message naming path in err (ENOENT and friends
 * from the file, EINVAL for a file that is not a PVH-capable x86-64 Linux
 * kernel, EFAULT for segments outside RAM or over the boot areas, ENOMEM).
 * On failure guest memory may have been partly written. */
int kernel_load(const char *path, struct guest_mem *m, struct kernel_info *out,
		char *err, size_t errlen);

/* The same from a buffer already in memory; name prefixes the messages. */
int kernel_load_buf(const char *name, const uint8_t *buf, size_t len, struct guest_mem *m,
		    struct kernel_info *out, char *err, size_t errlen);

/* The ELF part alone: validates the whole image, then loads it. */
int kernel_load_elf(const char *name, const uint8_t *buf, size_t len, struct guest_mem *m,
		    struct kernel_info *out, char *err, size_t errlen);

#endif
