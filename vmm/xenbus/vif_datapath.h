/* What the vif's data path (vif_datapath.c) needs of the monitor: its
 * event loop, the guest's grants and event channels, and the TAP device.
 * The monitor fills it from its struct vm (vmm/be_host.c: the locked
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

#include "be_dp.h"
#include "net/net_gnt.h"

struct evl;

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
	const struct be_evtchn_ops *evtchn; /* be_dp.h */
	void *evtchn_ctx;
	const struct vif_tap_ops *tap;
	void *tap_ctx;
	const char *name;    /* for the log: the domain's */
};

struct vm;
/* The monitor's host: vm's grants and ports, the loop, real TAP devices. */
void vif_host_vm(struct vif_host *h, struct vm *vm, struct evl *loop);

#endif
