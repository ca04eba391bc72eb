/* A disk as an instance of the monitor's device table (dev.h): the vbd's
 * control side (xenbus/vbd.h) under a xenbus back end bound to xenstore
 * (xenbus/xb_xs.h).  The devices part builds one per --disk at start; the
 * hot-plug table (hotplug.h) one per device_add of kind "vbd", from the
 * same argument. */
#ifndef DOMUS_VMM_VBD_DEV_H
#define DOMUS_VMM_VBD_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev.h"

struct evl;
struct vbd_cfg;
struct xb_xs;

struct vbd_dev_env {
	struct evl *loop;
	uint32_t domid;
	void *host;	  /* the data path's host (struct vbd_host) */
	bool no_xenstore; /* --xenstore-socket none: no disk can be served */
};

extern const struct dev_ops vbd_dev_ops;

/* One back end for cfg, for dev_add(&vbd_dev_ops, cfg->devid, *out):
 * 0, or a negative errno with why and nothing held. */
int vbd_dev_create(const struct vbd_dev_env *e, const struct vbd_cfg *cfg, struct xb_xs **out, char *why,
		   size_t wl);

/* The hot-plug row's functions (hotplug.h) for env e. */
int vbd_dev_parse_id(const char *arg, unsigned *id, char *why, size_t wl);
int vbd_dev_create_arg(const struct vbd_dev_env *e, const char *arg, const struct dev_ops **ops, void **inst,
		       char *why, size_t wl);

#endif
