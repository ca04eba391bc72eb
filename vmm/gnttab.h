/* Grant table v1 of one domain (xen-guest-abi.md §5).  The frames are monitor
 * pages; the guest chooses where they appear with XENMEM_add_to_physmap and
 * each frame gets its own KVM memslot there. */
#ifndef DOMUS_VMM_GNTTAB_H
#define DOMUS_VMM_GNTTAB_H

#include <stdint.h>

/* Xen's and QEMU's default max_grant_frames (xen-guest-abi.md §5). */
#define GNTTAB_MAX_FRAMES 64

struct gnttab {
	uint32_t nr_frames;                  /* frames the guest has placed */
	uint64_t frame_gpa[GNTTAB_MAX_FRAMES]; /* 0 = not placed */
	int slot[GNTTAB_MAX_FRAMES];
};

struct vm;

int gnttab_hypercall(struct vm *vm, int vcpu, uint64_t cmd, uint64_t arg, uint64_t count);
int gnttab_map_frame(struct vm *vm, uint64_t idx, uint64_t gpfn);

#endif
