/* Devices plugged into and unplugged from a running domain: the control
 * requests device_add and device_remove (docs/control-protocol.md), served
 * from one table of device kinds.  A kind's row says how to read the id out
 * of its argument (the value of the monitor's command-line option for that
 * kind, e.g. --disk's) and how to build an instance from it; the device
 * table (dev.h) then owns and starts it, exactly as for the devices given
 * at start.  The monitor's rows: "vbd" (--disk, vbd_dev.c) and "vif"
 * (--nic, vif_dev.c).
 *
 * Threading: the calls run where the device table runs (dev.h): on the
 * event loop thread while it runs; the monitor's control requests do. */
#ifndef DOMUS_VMM_HOTPLUG_H
#define DOMUS_VMM_HOTPLUG_H

#include <stddef.h>

#include "control_srv.h"
#include "dev.h"

struct hotplug_kind {
	const char *kind;   /* the request's kind and the dev_ops kind: "vbd" */
	const char *option; /* the option whose value the argument is: "--disk" */
	/* The instance's id in arg, building nothing: 0 or -EINVAL with why. */
	int (*parse_id)(const char *arg, unsigned *id, char *why, size_t wl);
	/* An instance from arg, for dev_add(): 0 with *ops and *inst, or a
	 * negative errno with why and nothing held. */
	int (*create)(void *ctx, const char *arg, const struct dev_ops **ops, void **inst, char *why, size_t wl);
};

struct hotplug {
	struct devices *devs;
	const struct hotplug_kind *kinds;
	size_t n;
	void *ctx; /* given to the kinds' create */
};

/* 0, or: -EOPNOTSUPP no such kind here, -EINVAL a bad argument, -EEXIST
 * that kind and id are plugged, or create's or the start's error; why
 * says which in a line for xl. */
int hotplug_add(const struct hotplug *h, const char *kind, const char *arg, char *why, size_t wl);
/* Quiesces and releases the instance: 0, -EOPNOTSUPP, -ENOENT. */
int hotplug_remove(const struct hotplug *h, const char *kind, unsigned id, char *why, size_t wl);

/* The control requests (control_srv.h) on a struct hotplug as ctx. */
control_op_fn hotplug_op_add, hotplug_op_remove;

#endif
