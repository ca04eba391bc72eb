/* A network interface as a device-table instance (vif_dev.h). */
#include "vif_dev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xenbus/vif.h"
#include "xenbus/xb_xs.h"

const struct dev_ops vif_dev_ops = XB_XS_DEV_OPS("vif");

static void vif_release(void *dev)
{
	vif_free(dev);
}

int vif_dev_create(const struct vif_dev_env *e, const struct vif_cfg *cfg, struct xb_xs **out, char *why,
		   size_t wl)
{
	char vwhy[256] = "";
	struct vif *v;
	int rc;

	if (e->no_xenstore) {
		snprintf(why, wl, "network interface %u: --nic needs xenstore (not --xenstore-socket none)",
			 cfg->devid);
		return -EINVAL;
	}
	/* The TAP device first: a failure is one line naming it. */
	rc = vif_new(e->host, cfg, &v, vwhy, sizeof(vwhy));
	if (rc < 0) {
		snprintf(why, wl, "network interface %u: %s", cfg->devid, vwhy);
		return rc;
	}
	/* xb_xs_create owns v from here, also when it fails (the TAP goes) */
	rc = xb_xs_create(e->loop, "vif", e->domid, cfg->devid, &vif_xb_ops, v, vif_release, out);
	if (rc < 0)
		snprintf(why, wl, "network interface %u (%s): cannot set up its back end: %s", cfg->devid,
			 cfg->ifname, strerror(-rc));
	return rc;
}

int vif_dev_parse_id(const char *arg, unsigned *id, char *why, size_t wl)
{
	struct vif_cfg c;
	int rc = vif_parse_arg(arg, &c, why, wl);

	if (rc == 0)
		*id = c.devid;
	return rc;
}

int vif_dev_create_arg(const struct vif_dev_env *e, const char *arg, const struct dev_ops **ops, void **inst,
		       char *why, size_t wl)
{
	struct vif_cfg c;
	struct xb_xs *x;
	int rc = vif_parse_arg(arg, &c, why, wl);

	if (rc == 0)
		rc = vif_dev_create(e, &c, &x, why, wl);
	if (rc < 0)
		return rc;
	*ops = &vif_dev_ops;
	*inst = x;
	return 0;
}
