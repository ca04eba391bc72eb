/* Linux x86 32-bit boot protocol loader (see linux.h).
 *
 * Field meanings: Documentation/x86/boot.rst ("The Real-Mode Kernel Header",
 * "32-bit Boot Protocol") and zero-page.rst; the structures are the uapi ones
 * in <asm/bootparam.h>.  The kernel file is untrusted: every header field is
 * checked before it places anything. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <asm/bootparam.h>

#include "common.h"
#include "file.h"
#include "kernel.h"
#include "linux.h"

_Static_assert(sizeof(struct boot_params) == LAYOUT_PAGE, "the zero page is one page");

#define HDR_START 0x1F1 /* offsetof(struct boot_params, hdr) */
#define TYPE_OF_LOADER_UNDEFINED 0xFF /* boot.rst: no assigned loader ID */

/* The kernel's setup header from the file, copied the way boot.rst says:
 * from 0x1F1 up to 0x202 + the byte at 0x201. */
static int read_header(const char *name, const uint8_t *buf, size_t len,
		       struct setup_header *hdr, char *err, size_t errlen)
{
	size_t end;

	if (len < 0x202 + 4 || memcmp(buf + 0x202, "HdrS", 4)) {
		snprintf(err, errlen, "%s: not a bzImage (no \"HdrS\" setup header)", name);
		return -EINVAL;
	}
	end = 0x202 + (size_t)buf[0x201];
	if (end > len) {
		snprintf(err, errlen, "%s: setup header runs past the end of the file", name);
		return -EINVAL;
	}
	memset(hdr, 0, sizeof(*hdr));
	memcpy(hdr, buf + HDR_START,
	       end - HDR_START < sizeof(*hdr) ? end - HDR_START : sizeof(*hdr));
	if (hdr->version < LINUX_BOOT_MIN_VERSION || end < HDR_START + offsetof(struct setup_header, init_size) + 4) {
		snprintf(err, errlen, "%s: Linux boot protocol %u.%02u is too old (domus needs 2.10+)",
			 name, hdr->version >> 8, hdr->version & 0xff);
		return -EINVAL;
	}
	if (!(hdr->loadflags & LOADED_HIGH)) {
		snprintf(err, errlen, "%s: not a bzImage (a zImage loads below 1 MiB)", name);
		return -EINVAL;
	}
	return 0;
}

/* Where the protected-mode kernel goes: its preferred address if it can be
 * relocated (aligned as it asks), else the address it was linked for. */
static int place_kernel(const char *name, const struct setup_header *hdr, uint64_t pm_size,
			const struct guest_mem *m, uint64_t *addr, uint64_t *need,
			char *err, size_t errlen)
{
	uint64_t a = hdr->relocatable_kernel ? hdr->pref_address : hdr->code32_start;
	uint64_t align = hdr->kernel_alignment, n = hdr->init_size > pm_size ? hdr->init_size : pm_size;
	const char *what;
	uint64_t at;

	if (hdr->relocatable_kernel && align > 1) {
		if (align & (align - 1) || align > (1u << 30)) {
			snprintf(err, errlen, "%s: kernel_alignment 0x%llx is not a power of two up to 1 GiB",
				 name, (unsigned long long)align);
			return -EINVAL;
		}
		a = (a + align - 1) & ~(align - 1);
	}
	if (a + n < a || a + n > LAYOUT_LOW_MAX || !gmem_ptr(m, a, n)) {
		snprintf(err, errlen,
			 "%s: kernel [0x%llx, +0x%llx) does not fit in guest RAM (%llu MiB below 4 GiB)",
			 name, (unsigned long long)a, (unsigned long long)n,
			 (unsigned long long)(m->low_size >> 20));
		return -EFAULT;
	}
	what = boot_area_overlap(a, n, &at);
	if (what) {
		snprintf(err, errlen, "%s: kernel [0x%llx, +0x%llx) overlaps %s at 0x%llx", name,
			 (unsigned long long)a, (unsigned long long)n, what, (unsigned long long)at);
		return -EFAULT;
	}
	*addr = a;
	*need = n;
	return 0;
}

int linux_boot_setup_buf(const char *name, const uint8_t *buf, size_t len, struct guest_mem *m,
			 const struct pvh_params *p, struct linux_boot_info *out, char *err,
			 size_t errlen)
{
	struct setup_header hdr;
	struct boot_params *bp;
	void *page;
	struct hvm_memmap_table_entry map[PVH_MEMMAP_MAX];
	uint64_t sects, pm_off, addr, need, rsdp, top;
	unsigned n;
	int rc;

	rc = read_header(name, buf, len, &hdr, err, errlen);
	if (rc < 0)
		return rc;
	sects = buf[0x1F1] ? buf[0x1F1] : 4; /* 0 means 4 (boot.rst) */
	pm_off = (sects + 1) * 512;
	if (pm_off >= len) {
		snprintf(err, errlen, "%s: no protected-mode kernel after %llu setup sectors", name,
			 (unsigned long long)sects);
		return -EINVAL;
	}
	rc = place_kernel(name, &hdr, len - pm_off, m, &addr, &need, err, errlen);
	if (rc < 0)
		return rc;
	rc = boot_prepare(m, p->cmdline, p->nvcpus, &page, &rsdp, err, errlen);
	if (rc < 0)
		return rc;
	bp = page;
	memcpy(gmem_ptr(m, addr, len - pm_off), buf + pm_off, len - pm_off); /* checked in place_kernel */

	hdr.type_of_loader = TYPE_OF_LOADER_UNDEFINED;
	hdr.code32_start = (uint32_t)addr;
	hdr.cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
	if (p->initrd_path) {
		uint64_t at, size;

		/* initrd_addr_max is the highest byte address it may use. */
		top = m->low_size < LAYOUT_INITRD_MAX ? m->low_size : LAYOUT_INITRD_MAX;
		if (hdr.initrd_addr_max && (uint64_t)hdr.initrd_addr_max + 1 < top)
			top = (uint64_t)hdr.initrd_addr_max + 1;
		rc = boot_initrd_load(m, p->initrd_path, addr + need, top, &at, &size, err, errlen);
		if (rc < 0)
			return rc;
		hdr.ramdisk_image = (uint32_t)at;
		hdr.ramdisk_size = (uint32_t)size;
	}
	bp->hdr = hdr;
	/* The e820 types are the hvm_start_info memmap types (both are E820). */
	n = pvh_memmap(m, map, PVH_MEMMAP_MAX);
	for (unsigned i = 0; i < n && i < E820_MAX_ENTRIES_ZEROPAGE; i++)
		bp->e820_table[i] = (struct boot_e820_entry){ .addr = map[i].addr, .size = map[i].size,
							      .type = map[i].type };
	bp->e820_entries = (uint8_t)n;
	if (hdr.version >= 0x020e) /* acpi_rsdp_addr: protocol 2.14 */
		bp->acpi_rsdp_addr = rsdp;

	out->entry = (uint32_t)addr;
	out->boot_params = (uint32_t)LAYOUT_BOOT_INFO;
	out->load_low = addr;
	out->load_high = addr + need;
	return 0;
}

int linux_boot_setup(const char *path, struct guest_mem *m, const struct pvh_params *p,
		     struct linux_boot_info *out, char *err, size_t errlen)
{
	uint8_t *buf;
	uint64_t size;
	int rc;

	rc = boot_file_slurp(path, KERNEL_FILE_MAX, &buf, &size, err, errlen);
	if (rc < 0)
		return rc;
	rc = linux_boot_setup_buf(path, buf, size, m, p, out, err, errlen);
	free(buf);
	return rc;
}
