/* The grant table v1 of one domain as plain data (xen-guest-abi.md §5): the
 * placement of its frames and the Domain-0 half, with which back ends map
 * and copy the pages the guest grants them.  It knows nothing of KVM or of
 * locks: gnttab.c holds the lock, gives each frame its memslot and tells the
 * core where guest frames live.
 *
 * The guest's entries (grant_entry_v1_t) live in `frames`, memory the guest
 * writes at any time: each is read once, checked, and its GTF_reading and
 * GTF_writing bits are set with a compare-and-swap on the flags and domid
 * word, as Xen does.  While a back end has an entry mapped the core keeps
 * the frame it read then, so a guest that rewrites or revokes the entry
 * under a mapping changes nothing the back end sees; the bits are cleared
 * when the last mapping goes. */
#ifndef DOMUS_VMM_XENSTATE_GNTTAB_CORE_H
#define DOMUS_VMM_XENSTATE_GNTTAB_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"
#include "xen/xen_abi.h"

/* Xen's and QEMU's default max_grant_frames (xen-guest-abi.md §5). */
#define GNTTAB_MAX_FRAMES 64
#define GNTTAB_PAGE 4096u
#define GNTTAB_ENTRIES_PER_FRAME (GNTTAB_PAGE / sizeof(grant_entry_v1_t))
#define GNTTAB_MAX_ENTRIES (GNTTAB_MAX_FRAMES * GNTTAB_ENTRIES_PER_FRAME)

/* The 4 KiB of guest frame gfn as this process sees it, or NULL when gfn is
 * not memory a grant may name. */
struct gnttab_mem {
	void *(*frame)(void *ctx, uint64_t gfn);
	void *ctx;
};

/* What the core knows of an entry while back ends hold it (Xen's active
 * entry): how many read-only and read-write holds, whose, on which frame. */
struct gnttab_active {
	uint16_t readers, writers;
	uint16_t domid;
	uint32_t frame;
};

struct gnttab_core {
	uint8_t *frames;    /* GNTTAB_MAX_FRAMES pages of entries */
	uint32_t nr_frames; /* frames the guest has placed: the table's size */
	uint64_t frame_gpa[GNTTAB_MAX_FRAMES]; /* 0 = not placed */
	struct gnttab_active *active; /* GNTTAB_MAX_ENTRIES, allocated on the first map */
	uint32_t holds; /* mappings and copies in flight, all entries */
};

/* frames may be NULL until the pages exist. */
void gnttab_core_init(struct gnttab_core *g, uint8_t *frames);
void gnttab_core_fini(struct gnttab_core *g);
/* Entries a reference may name: those of the placed frames, and of frame 0
 * before any is placed (the toolstack seeds refs 0 and 1 there). */
uint32_t gnttab_core_nr_entries(const struct gnttab_core *g);

/* Whether frame idx may appear at guest frame gpfn (XENMEM_add_to_physmap,
 * XENMAPSPACE_grant_table): v1 frames only, idx below the maximum, and an
 * address outside RAM and the special pages (KVM refuses overlapping
 * memslots, and RAM stays RAM).  The address in *gpa; -EINVAL otherwise. */
int gnttab_core_check_place(const struct guest_mem *m, uint64_t idx, uint64_t gpfn, uint64_t *gpa);
/* Record where frame idx now is (0: nowhere, its move failed). */
void gnttab_core_set_place(struct gnttab_core *g, uint64_t idx, uint64_t gpa);

/* A back end's hold on a guest page. */
struct gnttab_mapping {
	void *addr; /* the granted page, GNTTAB_PAGE bytes */
	uint32_t ref;
	uint16_t domid;
	bool writable;
};

/* Map entry ref on behalf of domain `mapper`, read-only or read-write.
 * Errors (Xen's GNTTABOP_map_grant_ref status in brackets):
 *   -EINVAL  ref beyond the table (GNTST_bad_gntref)
 *   -EPERM   not GTF_permit_access, another domain's, or a read-only entry
 *            mapped for writing (GNTST_general_error)
 *   -EBUSY   the guest kept changing the entry under the swap, or the
 *            entry's hold count would overflow (GNTST_general_error)
 *   -EFAULT  the entry names a frame that is not guest memory
 *            (GNTST_general_error: Xen's get_paged_frame fails)
 *   -ENOMEM  no memory for the active table */
int gnttab_core_map(struct gnttab_core *g, const struct gnttab_mem *m, domid_t mapper, uint32_t ref,
		    bool writable, struct gnttab_mapping *out);
/* Drop a mapping; the guest's GTF_writing goes with the entry's last
 * read-write hold, GTF_reading with its last hold.  -EINVAL for a mapping
 * the core does not hold (a second unmap). */
int gnttab_core_unmap(struct gnttab_core *g, struct gnttab_mapping *map);

/* GNTTABOP_copy between entry ref and a local buffer: [offset, offset+len)
 * must lie in one page (-EINVAL, GNTST_bad_copy_arg); the entry is held
 * read-only to copy from it, read-write to copy to it, for the copy only.
 * Other errors as gnttab_core_map. */
int gnttab_core_copy_from(struct gnttab_core *g, const struct gnttab_mem *m, domid_t mapper, uint32_t ref,
			  uint32_t offset, void *buf, uint32_t len);
int gnttab_core_copy_to(struct gnttab_core *g, const struct gnttab_mem *m, domid_t mapper, uint32_t ref,
			uint32_t offset, const void *buf, uint32_t len);

#endif
