/* A network interface as an instance of the monitor's device table
 * (dev.h): the vif's control side (xenbus/vif.h), whose TAP device exists
 * from its creation on, under a xenbus back end bound to xenstore
 * (xenbus/xb_xs.h).  The devices part builds one per --nic at start; the
 * hot-plug table (hotplug.h) one per device_add of kind "vif", from the
 * same argument (DEVID,IFNAME). */
#ifndef DOMUS_VMM_VIF_DEV_H
#define DOMUS_VMM_VIF_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev.h"

struct evl;
struct vif_cfg;
struct xb_xs;

struct vif_dev_env {
	struct evl *loop;
	uint32_t domid;
	void *host;	  /* the data path's host (struct vif_host) */
	bool no_xenstore; /* --xenstore-socket none: no interface can be served */
};

extern const struct dev_ops vif_dev_ops;

/* The TAP device cfg->ifname and one back end for it, for
 * dev_add(&vif_dev_ops, cfg->devid, *out): 0, or a negative errno with
 * why naming the interface, and nothing held (no TAP left). */
int vif_dev_create(const struct vif_dev_env *e, const struct vif_cfg *cfg, struct xb_xs **out, char *why,
		   size_t wl);

/* The hot-plug row's functions (hotplug.h) for env e. */
int vif_dev_parse_id(const char *arg, unsigned *id, char *why, size_t wl);
int vif_dev_create_arg(const struct vif_dev_env *e, const char *arg, const struct dev_ops **ops, void **inst,
		       char *why, size_t wl);

#endif
