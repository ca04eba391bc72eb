/* How the netif data path reaches the guest's grants: the signatures of the
 * monitor's locked wrappers (vmm/gnttab.h: gnttab_map_ref,
 * gnttab_unmap_ref, gnttab_copy_from_ref, gnttab_copy_to_ref; ctx = the
 * vm), and an adapter over a bare grant table core for tests and the
 * fuzzer (as vmm/blk/blk_gnt.h, with copy_to, which rx needs). */
#ifndef DOMUS_VMM_NET_GNT_H
#define DOMUS_VMM_NET_GNT_H

#include <stdbool.h>
#include <stdint.h>

#include "xenstate/gnttab_core.h"

struct net_gnt_ops {
	int (*map)(void *ctx, uint32_t ref, bool writable, struct gnttab_mapping *out);
	int (*unmap)(void *ctx, struct gnttab_mapping *map);
	int (*copy_from)(void *ctx, uint32_t ref, uint32_t offset, void *buf, uint32_t len);
	int (*copy_to)(void *ctx, uint32_t ref, uint32_t offset, const void *buf, uint32_t len);
};

struct net_gnt {
	const struct net_gnt_ops *ops;
	void *ctx;
};

struct net_gnt_core {
	struct gnttab_core *core;
	const struct gnttab_mem *mem;
	domid_t mapper;
};

/* out uses c (which must outlive it). */
void net_gnt_from_core(struct net_gnt_core *c, struct net_gnt *out);

#endif
