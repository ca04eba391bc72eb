/* The vbd data path's host in the monitor (xenbus/vbd_datapath.h): the
 * guest's grants through the locked wrappers of gnttab.h, with Domain 0 as
 * the mapper (never the bare core: vCPU threads use it too), and its
 * event channels as back-end ports of evtchn.h. */
#include "xenbus/vbd_datapath.h"

#include "evtchn.h"
#include "gnttab.h"
#include "vm.h"

static int map(void *ctx, uint32_t ref, bool writable, struct gnttab_mapping *out)
{
	return gnttab_map_ref(ctx, ref, writable, out);
}

static int unmap(void *ctx, struct gnttab_mapping *m)
{
	return gnttab_unmap_ref(ctx, m);
}

static int copy_from(void *ctx, uint32_t ref, uint32_t offset, void *buf, uint32_t len)
{
	return gnttab_copy_from_ref(ctx, ref, offset, buf, len);
}

static const struct blk_gnt_ops gnt_ops = { map, unmap, copy_from };

/* A restored port is interdomain already (the loaded table) and has no
 * eventfd yet (evtchn_post_load dropped them all). */
static int bind(void *ctx, uint32_t port, int kick_fd, bool restored)
{
	return restored ? evtchn_attach_notify(ctx, port, kick_fd) : evtchn_bind_backend(ctx, port, kick_fd);
}

static void unbind(void *ctx, uint32_t port, int kick_fd)
{
	evtchn_unbind_backend(ctx, port, kick_fd);
}

static void notify(void *ctx, uint32_t port)
{
	/* A guest that closed its port meanwhile misses nothing it wants. */
	(void)evtchn_notify_guest(ctx, port);
}

static const struct vbd_evtchn_ops evtchn_ops = { bind, unbind, notify };

void vbd_host_vm(struct vbd_host *h, struct vm *vm, struct evl *loop)
{
	*h = (struct vbd_host){ .loop = loop, .gnt = { &gnt_ops, vm }, .evtchn = &evtchn_ops, .evtchn_ctx = vm,
				.name = vm->name };
}
