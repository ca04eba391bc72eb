/* The grant adapter over a bare core (net_gnt.h). */
#include "net/net_gnt.h"

static int core_map(void *ctx, uint32_t ref, bool writable, struct gnttab_mapping *out)
{
	struct net_gnt_core *c = ctx;

	return gnttab_core_map(c->core, c->mem, c->mapper, ref, writable, out);
}

static int core_unmap(void *ctx, struct gnttab_mapping *map)
{
	return gnttab_core_unmap(((struct net_gnt_core *)ctx)->core, map);
}

static int core_copy_from(void *ctx, uint32_t ref, uint32_t offset, void *buf, uint32_t len)
{
	struct net_gnt_core *c = ctx;

	return gnttab_core_copy_from(c->core, c->mem, c->mapper, ref, offset, buf, len);
}

static int core_copy_to(void *ctx, uint32_t ref, uint32_t offset, const void *buf, uint32_t len)
{
	struct net_gnt_core *c = ctx;

	return gnttab_core_copy_to(c->core, c->mem, c->mapper, ref, offset, buf, len);
}

static const struct net_gnt_ops core_ops = { core_map, core_unmap, core_copy_from, core_copy_to };

void net_gnt_from_core(struct net_gnt_core *c, struct net_gnt *out)
{
	*out = (struct net_gnt){ &core_ops, c };
}
