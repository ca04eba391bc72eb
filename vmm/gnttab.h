/* Grant table v1 of one domain (xen-guest-abi.md §5), bound to KVM.  The
 * table and its rules are plain data (xenstate/gnttab_core.h); here each
 * placed frame gets its own KVM memslot, and back ends get the core's map,
 * unmap and copy under the table's lock, on this VM's memory.  The frames are
 * monitor pages; the guest chooses where they appear with
 * XENMEM_add_to_physmap. */
#ifndef DOMUS_VMM_GNTTAB_H
#define DOMUS_VMM_GNTTAB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "xenstate/gnttab_core.h"

struct gnttab {
	pthread_mutex_t lock; /* the core; inside vm->lock */
	struct gnttab_core core;
	int slot[GNTTAB_MAX_FRAMES]; /* KVM memslot of each frame, -1 if none yet */
};

struct vm;

void gnttab_init(struct gnttab *g);
void gnttab_fini(struct gnttab *g);
int gnttab_hypercall(struct vm *vm, int vcpu, uint64_t cmd, uint64_t arg, uint64_t count);
int gnttab_map_frame(struct vm *vm, uint64_t idx, uint64_t gpfn);
/* After a saved table was loaded into g->core: give every placed frame a
 * memslot where the guest had it (a fresh VM has none). */
int gnttab_post_load(struct vm *vm);

/* The back ends' half (Domain 0 is the mapper): gnttab_core.h. */
int gnttab_map_ref(struct vm *vm, uint32_t ref, bool writable, struct gnttab_mapping *out);
int gnttab_unmap_ref(struct vm *vm, struct gnttab_mapping *map);
int gnttab_copy_from_ref(struct vm *vm, uint32_t ref, uint32_t offset, void *buf, uint32_t len);
int gnttab_copy_to_ref(struct vm *vm, uint32_t ref, uint32_t offset, const void *buf, uint32_t len);

#endif
