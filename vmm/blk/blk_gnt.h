/* How the request path reaches the guest's grants: an ops table with the
 * signatures of the monitor's locked wrappers (vmm/gnttab.h:
 * gnttab_map_ref, gnttab_unmap_ref, gnttab_copy_from_ref, ctx = the vm),
 * and an adapter over a bare grant table core (gnttab_core.h) for tests,
 * the fuzzer and any caller that holds the core's lock itself. */
#ifndef DOMUS_VMM_BLK_GNT_H
#define DOMUS_VMM_BLK_GNT_H

#include <stdbool.h>
#include <stdint.h>

#include "xenstate/gnttab_core.h"

struct blk_gnt_ops {
	int (*map)(void *ctx, uint32_t ref, bool writable, struct gnttab_mapping *out);
	int (*unmap)(void *ctx, struct gnttab_mapping *map);
	int (*copy_from)(void *ctx, uint32_t ref, uint32_t offset, void *buf, uint32_t len);
};

struct blk_gnt {
	const struct blk_gnt_ops *ops;
	void *ctx;
};

/* The core, its frame callback and the mapping domain (0: Domain-0). */
struct blk_gnt_core {
	struct gnttab_core *core;
	const struct gnttab_mem *mem;
	domid_t mapper;
};

/* out uses c (which must outlive it). */
void blk_gnt_from_core(struct blk_gnt_core *c, struct blk_gnt *out);

#endif
