/* The data paths' host in the monitor (xenbus/vbd_datapath.h,
 * xenbus/vif_datapath.h): the guest's grants through the locked wrappers
 * of gnttab.h, with Domain 0 as the mapper (never the bare core: vCPU
 * threads use it too), its event channels as back-end ports of evtchn.h,
 * and for a vif real TAP devices (net/tap.c).  One set of adapters for
 * both kinds: a vbd's grant ops are a vif's without copy_to. */
#include "xenbus/vbd_datapath.h"
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

static const struct blk_gnt_ops blk_gnt_ops = { map, unmap, copy_from };
static const struct net_gnt_ops net_gnt_ops = { map, unmap, copy_from, copy_to };

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

static void notify_pair(void *ctx, uint32_t quiet, uint32_t port)
{
	(void)evtchn_notify_guest_pair(ctx, quiet, port);
}

static const struct be_evtchn_ops evtchn_ops = { bind, unbind, notify, notify_pair };

static int t_open(void *ctx, const char *ifname, unsigned queue, int *fd, char *why, size_t wl)
{
	(void)ctx;
	return tap_open(ifname, queue, fd, why, wl);
}

/* Clearing the offloads readies a TAP that stays for its next frontend;
 * with the VM ending the TAP goes next (and a sandboxed monitor's main
 * thread, which stops the devices, may not ask). */
static int t_offload(void *ctx, int fd, unsigned flags)
{
	struct vm *vm = ctx;

	if (flags == 0 && vm->ending)
		return 0;
	return tap_set_offload(fd, flags);
}

static const struct vif_tap_ops tap_ops = { t_open, t_offload };

void vbd_host_vm(struct vbd_host *h, struct vm *vm, struct evl *loop)
{
	*h = (struct vbd_host){ .loop = loop, .gnt = { &blk_gnt_ops, vm }, .evtchn = &evtchn_ops, .evtchn_ctx = vm,
				.name = vm->name };
}

void vif_host_vm(struct vif_host *h, struct vm *vm, struct evl *loop)
{
	*h = (struct vif_host){ .loop = loop, .gnt = { &net_gnt_ops, vm }, .evtchn = &evtchn_ops, .evtchn_ctx = vm,
				.tap = &tap_ops, .tap_ctx = vm, .name = vm->name };
}
