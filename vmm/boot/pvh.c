/* PVH start info, memory map, command line and initrd (see pvh.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
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

int pvh_setup(struct guest_mem *m, const struct pvh_params *p, uint32_t *start_info_gpa,
	      char *err, size_t errlen)
{
	void *page;
	struct hvm_start_info si = {
		.magic = XEN_HVM_START_MAGIC_VALUE,
		.version = 1,
		.flags = 0, /* never SIF_INITDOMAIN: that selects dom0 paths */
		.cmdline_paddr = LAYOUT_CMDLINE,
		.memmap_paddr = LAYOUT_BOOT_INFO + PVH_MEMMAP_OFF,
	};
	struct hvm_memmap_table_entry map[PVH_MEMMAP_MAX];
	int rc;

	rc = boot_prepare(m, p->cmdline, p->nvcpus, &page, &si.rsdp_paddr, err, errlen);
	if (rc < 0)
		return rc;

	if (p->initrd_path) {
		struct hvm_modlist_entry mod = { 0 };
		uint64_t top = m->low_size < LAYOUT_INITRD_MAX ? m->low_size : LAYOUT_INITRD_MAX;

		rc = boot_initrd_load(m, p->initrd_path, p->kernel_end, top, &mod.paddr, &mod.size,
				      err, errlen);
		if (rc < 0)
			return rc;
		memcpy((uint8_t *)page + PVH_MODLIST_OFF, &mod, sizeof(mod));
		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_BOOT_INFO + PVH_MODLIST_OFF;
	}

	si.memmap_entries = pvh_memmap(m, map, PVH_MEMMAP_MAX);
	memcpy((uint8_t *)page + PVH_MEMMAP_OFF, map, si.memmap_entries * sizeof(map[0]));
	memcpy(page, &si, sizeof(si));
	*start_info_gpa = (uint32_t)LAYOUT_BOOT_INFO;
	return 0;
}
