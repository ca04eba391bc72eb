/* The vif data path's host in the monitor (xenbus/vif_datapath.h): the
 * guest's grants through the locked wrappers of gnttab.h with Domain 0 as
 * the mapper, its event channels as back-end ports of evtchn.h, and real
 * TAP devices (net/tap.c). */
#include "xenbus/vif_datapath.h"

#include "evtchn.h"
#include "gnttab.h"
#include "net/tap.h"
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

static int copy_to(void *ctx, uint32_t ref, uint32_t offset, const void *buf, uint32_t len)
{
	return gnttab_copy_to_ref(ctx, ref, offset, buf, len);
}

static const struct net_gnt_ops gnt_ops = { map, unmap, copy_from, copy_to };

/* A restored port is interdomain already (the loaded table). */
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
	(void)evtchn_notify_guest(ctx, port);
}

static const struct vif_evtchn_ops evtchn_ops = { bind, unbind, notify };

static int t_open(void *ctx, const char *ifname, unsigned queue, int *fd, char *why, size_t wl)
{
	(void)ctx;
	return tap_open(ifname, queue, fd, why, wl);
}

static int t_offload(void *ctx, int fd, unsigned flags)
{
	(void)ctx;
	return tap_set_offload(fd, flags);
}

static const struct vif_tap_ops tap_ops = { t_open, t_offload };

void vif_host_vm(struct vif_host *h, struct vm *vm, struct evl *loop)
{
	*h = (struct vif_host){ .loop = loop, .gnt = { &gnt_ops, vm }, .evtchn = &evtchn_ops, .evtchn_ctx = vm,
				.tap = &tap_ops, .name = vm->name };
}
