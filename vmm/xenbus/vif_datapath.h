/* What the vif's data path (vif_datapath.c) needs of the monitor: its
 * event loop, the guest's grants and event channels, and the TAP device.
 * The monitor fills it from its struct vm (vmm/vif_host.c: the locked
 * grant wrappers of gnttab.h, the back-end ports of evtchn.h, vmm/net/tap.c);
 * a unit test fills it with a fake guest and socketpairs standing in for
 * the TAP queues.  It is the `host` of vif_new() and of the seam in vif.h.
 *
 * Threading: every op is called on the event loop thread (the TAP's open,
 * at device creation, by main before the loop runs). */
#ifndef DOMUS_VMM_XENBUS_VIF_DATAPATH_H
#define DOMUS_VMM_XENBUS_VIF_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_gnt.h"

struct evl;

struct vif_evtchn_ops {
	/* As struct vbd_evtchn_ops (vbd_datapath.h): bind the frontend's
	 * port with kick_fd as the back end's end (restored: the port the
	 * loaded table has), unbind, raise it in the guest. */
	int (*bind)(void *ctx, uint32_t port, int kick_fd, bool restored);
	void (*unbind)(void *ctx, uint32_t port, int kick_fd);
	void (*notify)(void *ctx, uint32_t port);
};

struct vif_tap_ops {
	/* Create the TAP device ifname (queue 0) or attach one more queue: a
	 * non-blocking descriptor carrying struct virtio_net_hdr + frame per
	 * packet.  -errno and why naming ifname. */
	int (*open)(void *ctx, const char *ifname, unsigned queue, int *fd, char *why, size_t wl);
	/* TUNSETOFFLOAD on the device (TUN_F_*). */
	int (*set_offload)(void *ctx, int fd, unsigned tun_flags);
};

struct vif_host {
	struct evl *loop;
	struct net_gnt gnt; /* the monitor's: gnttab_map_ref() & co. on its vm */
	const struct vif_evtchn_ops *evtchn;
	void *evtchn_ctx;
	const struct vif_tap_ops *tap;
	void *tap_ctx;
	const char *name;    /* for the log: the domain's */
};

struct vm;
/* The monitor's host: vm's grants and ports, the loop, real TAP devices. */
void vif_host_vm(struct vif_host *h, struct vm *vm, struct evl *loop);

#endif
