/* The part of a domus guest's physical address map that the toolstack must
 * agree on with the monitor: the Xen special pages.  xl writes the xenstore
 * and console ring frames into xenstore (store/ring-ref, console/ring-ref)
 * and hands the xenstore one to xenstored (XS_INTRODUCE), the monitor maps
 * them and hands xenstored the ring's offset in guest memory.  The rest of
 * the map (boot info, ACPI, kernel, RAM) is the monitor's own: vmm/layout.h.
 *
 * The frames are libxl's (xg_dom_x86.c special PFNs 0xfeff8..), so a guest
 * sees what it would see under Xen.  They are monitor pages, not allocatable
 * RAM (xen-guest-abi.md §10.12), in their own memslot outside the RAM. */
#ifndef DOMUS_GUEST_LAYOUT_H
#define DOMUS_GUEST_LAYOUT_H

#define LAYOUT_SPECIAL_BASE 0xFEFF8000ULL /* 8 pages */
#define LAYOUT_SPECIAL_PAGES 8
#define LAYOUT_XENSTORE_PFN 0xFEFFCULL
#define LAYOUT_CONSOLE_PFN 0xFEFFFULL

#endif
