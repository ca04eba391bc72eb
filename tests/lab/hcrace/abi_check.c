/* Built for the host (x86-64): the racer's own copies of the structs whose
 * 32-bit and x86-64 layouts differ (hcrace.h) against Xen's headers, field
 * by field.  The checks are the build; the program does nothing. */
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/memory.h>

#include "hcrace.h"

#define SAME(ours, theirs, f)                                                                   \
	_Static_assert(offsetof(struct ours, f) == offsetof(struct theirs, f) &&                \
			       sizeof(((struct ours *)0)->f) == sizeof(((struct theirs *)0)->f), \
		       #ours "." #f " is where Xen's " #theirs " has it")
#define SAME_SIZE(ours, theirs) \
	_Static_assert(sizeof(struct ours) == sizeof(struct theirs), #ours " is as big as " #theirs)

_Static_assert(sizeof(void *) == 8, "built for x86-64, the layout domus-vmm decodes");

SAME_SIZE(hcr_add_to_physmap, xen_add_to_physmap);
SAME(hcr_add_to_physmap, xen_add_to_physmap, domid);
SAME(hcr_add_to_physmap, xen_add_to_physmap, size);
SAME(hcr_add_to_physmap, xen_add_to_physmap, space);
SAME(hcr_add_to_physmap, xen_add_to_physmap, idx);
SAME(hcr_add_to_physmap, xen_add_to_physmap, gpfn);

SAME_SIZE(hcr_reservation, xen_memory_reservation);
SAME(hcr_reservation, xen_memory_reservation, extent_start);
SAME(hcr_reservation, xen_memory_reservation, nr_extents);
SAME(hcr_reservation, xen_memory_reservation, extent_order);
SAME(hcr_reservation, xen_memory_reservation, mem_flags);
SAME(hcr_reservation, xen_memory_reservation, domid);

SAME_SIZE(hcr_setup_table, gnttab_setup_table);
SAME(hcr_setup_table, gnttab_setup_table, dom);
SAME(hcr_setup_table, gnttab_setup_table, nr_frames);
SAME(hcr_setup_table, gnttab_setup_table, status);
SAME(hcr_setup_table, gnttab_setup_table, frame_list);

SAME_SIZE(hcr_get_status_frames, gnttab_get_status_frames);
SAME(hcr_get_status_frames, gnttab_get_status_frames, nr_frames);
SAME(hcr_get_status_frames, gnttab_get_status_frames, dom);
SAME(hcr_get_status_frames, gnttab_get_status_frames, status);
SAME(hcr_get_status_frames, gnttab_get_status_frames, frame_list);

int main(void)
{
	return 0;
}
