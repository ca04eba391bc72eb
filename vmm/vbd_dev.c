/* A disk as a device-table instance (vbd_dev.h). */
#include "vbd_dev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenbus/vbd.h"
#include "xenbus/xb_xs.h"

const struct dev_ops vbd_dev_ops = XB_XS_DEV_OPS("vbd");

static void vbd_release(void *dev)
{
	vbd_free(dev);
}

int vbd_dev_create(const struct vbd_dev_env *e, const struct vbd_cfg *cfg, struct xb_xs **out, char *why,
		   size_t wl)
{
	struct vbd *v;
	int rc;

	if (e->no_xenstore) {
		snprintf(why, wl, "disk %u: a disk needs xenstore (not --xenstore-socket none)", cfg->devid);
		return -EINVAL;
	}
	rc = vbd_new(e->host, cfg, &v);
	/* xb_xs_create owns v from here, also when it fails */
	if (rc == 0)
		rc = xb_xs_create(e->loop, cfg->kind, e->domid, cfg->devid, &vbd_xb_ops, v, vbd_release, out);
	if (rc < 0)
		snprintf(why, wl, "disk %u (%s): cannot set up its back end: %s", cfg->devid, cfg->path,
			 strerror(-rc));
	return rc;
}

int vbd_dev_parse_id(const char *arg, unsigned *id, char *why, size_t wl)
{
	struct vbd_cfg *c = malloc(sizeof(*c)); /* 4 KiB of path: not on the loop's stack */
	int rc = c ? vbd_parse_arg(arg, c, why, wl) : -ENOMEM;

	if (rc == 0)
		*id = c->devid;
	free(c);
	return rc;
}

int vbd_dev_create_arg(const struct vbd_dev_env *e, const char *arg, const struct dev_ops **ops, void **inst,
		       char *why, size_t wl)
{
	struct vbd_cfg *c = malloc(sizeof(*c));
	struct xb_xs *x;
	int rc = c ? vbd_parse_arg(arg, c, why, wl) : -ENOMEM;

	if (rc == 0)
		rc = vbd_dev_create(e, c, &x, why, wl);
	free(c);
	if (rc < 0)
		return rc;
	*ops = &vbd_dev_ops;
	*inst = x;
	return 0;
}
