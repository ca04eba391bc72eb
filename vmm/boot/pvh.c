/* PVH start info, memory map, command line and initrd (see pvh.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acpi.h"
#include "file.h"
#include "pvh.h"

#define LEGACY_HOLE 0xA0000ULL /* VGA and BIOS area up to 1 MiB */
#define ONE_MIB 0x100000ULL

/* init_pvh_bootparams() reads the start info, module list and memory map
 * through __va() while only the first GiB is mapped (xen-guest-abi.md §3.1);
 * the ACPI tables must sit in the legacy hole, out of the RAM entries. */
_Static_assert(LAYOUT_BOOT_INFO + LAYOUT_PAGE <= LAYOUT_INITRD_MAX, "boot info below 1 GiB");
_Static_assert(PVH_MODLIST_OFF >= sizeof(struct hvm_start_info), "start info fits before modlist");
_Static_assert(PVH_MODLIST_OFF + sizeof(struct hvm_modlist_entry) <= PVH_MEMMAP_OFF,
	       "one module fits before the memmap");
_Static_assert(PVH_MEMMAP_OFF + PVH_MEMMAP_MAX * sizeof(struct hvm_memmap_table_entry) <=
	       LAYOUT_PAGE, "memmap fits in the boot info page");
_Static_assert(LAYOUT_BOOT_INFO + LAYOUT_PAGE <= LAYOUT_CMDLINE, "cmdline after boot info");
_Static_assert(LAYOUT_ACPI >= LEGACY_HOLE && LAYOUT_ACPI + LAYOUT_ACPI_SIZE <= ONE_MIB,
	       "ACPI tables inside the legacy hole");

static unsigned add(struct hvm_memmap_table_entry *map, unsigned n, unsigned max,
		    uint64_t addr, uint64_t size, uint32_t type)
{
	if (size == 0 || n >= max)
		return n;
	map[n] = (struct hvm_memmap_table_entry){ .addr = addr, .size = size, .type = type };
	return n + 1;
}

unsigned pvh_memmap(const struct guest_mem *m, struct hvm_memmap_table_entry *map, unsigned max)
{
	unsigned n = 0;

	n = add(map, n, max, 0, m->low_size < LEGACY_HOLE ? m->low_size : LEGACY_HOLE,
		XEN_HVM_MEMMAP_TYPE_RAM);
	if (m->low_size >= LAYOUT_ACPI + LAYOUT_ACPI_SIZE)
		n = add(map, n, max, LAYOUT_ACPI, LAYOUT_ACPI_SIZE, XEN_HVM_MEMMAP_TYPE_ACPI);
	if (m->low_size > ONE_MIB)
		n = add(map, n, max, ONE_MIB, m->low_size - ONE_MIB, XEN_HVM_MEMMAP_TYPE_RAM);
	/* Monitor pages, not RAM (xen-guest-abi.md §10.12; libxl_x86.c). */
	n = add(map, n, max, LAYOUT_SPECIAL_BASE, LAYOUT_SPECIAL_PAGES * LAYOUT_PAGE,
		XEN_HVM_MEMMAP_TYPE_RESERVED);
	n = add(map, n, max, LAYOUT_HIGH_BASE, m->high_size, XEN_HVM_MEMMAP_TYPE_RAM);
	return n;
}

/* Loads the initrd at the top of low RAM below LAYOUT_INITRD_MAX and above
 * the kernel, page-aligned, and fills the module entry. */
static int load_initrd(struct guest_mem *m, const struct pvh_params *p,
		       struct hvm_modlist_entry *mod, char *err, size_t errlen)
{
	uint64_t top = m->low_size < LAYOUT_INITRD_MAX ? m->low_size : LAYOUT_INITRD_MAX;
	uint64_t floor = (p->kernel_end + LAYOUT_PAGE - 1) & ~(LAYOUT_PAGE - 1);
	uint64_t size, addr;
	void *dst;
	int fd, rc;

	if (floor < ONE_MIB)
		floor = ONE_MIB;
	char why[256];

	/* Messages say "ramdisk", the xl.cfg key, before the path. */
	rc = boot_file_open(p->initrd_path, LAYOUT_INITRD_MAX, &fd, &size, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "ramdisk %s", why);
		return rc;
	}
	if (size == 0) {
		snprintf(err, errlen, "ramdisk %s: empty file", p->initrd_path);
		rc = -EINVAL;
		goto out;
	}
	if (size > top || ((top - size) & ~(LAYOUT_PAGE - 1)) < floor) {
		snprintf(err, errlen,
			 "ramdisk %s: %llu KiB do not fit in guest RAM between the kernel "
			 "(ends at 0x%llx) and 0x%llx; give the domain more memory",
			 p->initrd_path, (unsigned long long)(size >> 10),
			 (unsigned long long)p->kernel_end, (unsigned long long)top);
		rc = -ENOSPC;
		goto out;
	}
	addr = (top - size) & ~(LAYOUT_PAGE - 1);
	dst = gmem_ptr(m, addr, size);
	if (!dst) { /* cannot happen: [addr, addr + size) is below low_size */
		rc = -EFAULT;
		snprintf(err, errlen, "ramdisk %s: 0x%llx is not in guest RAM", p->initrd_path,
			 (unsigned long long)addr);
		goto out;
	}
	rc = boot_file_read(fd, dst, size);
	if (rc < 0) {
		snprintf(err, errlen, "ramdisk %s: read: %s", p->initrd_path, strerror(-rc));
		goto out;
	}
	*mod = (struct hvm_modlist_entry){ .paddr = addr, .size = size };
out:
	close(fd);
	return rc;
}

int pvh_setup(struct guest_mem *m, const struct pvh_params *p, uint32_t *start_info_gpa,
	      char *err, size_t errlen)
{
	const char *cmdline = p->cmdline ? p->cmdline : "";
	size_t cmdlen = strlen(cmdline) + 1;
	uint8_t *page = gmem_ptr(m, LAYOUT_BOOT_INFO, LAYOUT_PAGE);
	char *cmd = gmem_ptr(m, LAYOUT_CMDLINE, LAYOUT_CMDLINE_MAX);
	struct hvm_start_info si = {
		.magic = XEN_HVM_START_MAGIC_VALUE,
		.version = 1,
		.flags = 0, /* never SIF_INITDOMAIN: that selects dom0 paths */
		.cmdline_paddr = LAYOUT_CMDLINE,
		.memmap_paddr = LAYOUT_BOOT_INFO + PVH_MEMMAP_OFF,
	};
	struct hvm_memmap_table_entry map[PVH_MEMMAP_MAX];
	int rc;

	if (!page || !cmd) {
		snprintf(err, errlen, "guest RAM (%llu KiB) does not cover the boot information at 0x%llx",
			 (unsigned long long)(m->low_size >> 10), (unsigned long long)LAYOUT_BOOT_INFO);
		return -EFAULT;
	}
	if (cmdlen > LAYOUT_CMDLINE_MAX) {
		snprintf(err, errlen, "kernel command line is %zu bytes; the limit is %llu", cmdlen - 1,
			 LAYOUT_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	memset(page, 0, LAYOUT_PAGE);
	memset(cmd, 0, LAYOUT_CMDLINE_MAX);
	memcpy(cmd, cmdline, cmdlen);

	rc = acpi_build(m, p->nvcpus, &si.rsdp_paddr, err, errlen);
	if (rc < 0)
		return rc;

	if (p->initrd_path) {
		struct hvm_modlist_entry mod;

		rc = load_initrd(m, p, &mod, err, errlen);
		if (rc < 0)
			return rc;
		memcpy(page + PVH_MODLIST_OFF, &mod, sizeof(mod));
		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_BOOT_INFO + PVH_MODLIST_OFF;
	}

	si.memmap_entries = pvh_memmap(m, map, PVH_MEMMAP_MAX);
	memcpy(page + PVH_MEMMAP_OFF, map, si.memmap_entries * sizeof(map[0]));
	memcpy(page, &si, sizeof(si));
	*start_info_gpa = (uint32_t)LAYOUT_BOOT_INFO;
	return 0;
}
