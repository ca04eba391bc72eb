/* Devices plugged at run time (hotplug.h). */
#include "hotplug.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "domus/log.h"

static const struct hotplug_kind *find_kind(const struct hotplug *h, const char *kind, char *why, size_t wl)
{
	size_t len = 0;

	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->kinds[i].kind, kind) == 0)
			return &h->kinds[i];
	len = (size_t)snprintf(why, wl, "no device kind \"%s\" in this monitor (it plugs", kind);
	for (size_t i = 0; i < h->n && len < wl; i++)
		len += (size_t)snprintf(why + len, wl - len, "%s %s", i ? "," : "", h->kinds[i].kind);
	if (len < wl)
		snprintf(why + len, wl - len, "%s)", h->n ? "" : " none");
	return NULL;
}

int hotplug_add(const struct hotplug *h, const char *kind, const char *arg, char *why, size_t wl)
{
	const struct hotplug_kind *k = find_kind(h, kind, why, wl);
	const struct dev_ops *ops;
	void *inst;
	unsigned id;
	int rc;

	if (!k)
		return -EOPNOTSUPP;
	rc = k->parse_id(arg, &id, why, wl);
	if (rc < 0)
		return rc;
	/* Before anything is built: a second connection for a plugged id
	 * would fight the first over its xenstore nodes. */
	if (dev_find(h->devs, kind, id)) {
		snprintf(why, wl, "%s %u is plugged already", kind, id);
		return -EEXIST;
	}
	rc = k->create(h->ctx, arg, &ops, &inst, why, wl);
	if (rc < 0)
		return rc;
	/* remove finds it by the row's kind: a row must build its own kind */
	if (strcmp(ops->kind, kind) != 0) {
		if (ops->stop)
			ops->stop(inst);
		snprintf(why, wl, "%s: the monitor built a %s instead (a bug)", kind, ops->kind);
		return -EPROTO;
	}
	rc = dev_add(h->devs, ops, id, inst);
	if (rc < 0) {
		snprintf(why, wl, "%s %u: cannot start its back end: %s", kind, id, strerror(-rc));
		return rc;
	}
	log_info(kind, "%u plugged (%s %s)", id, k->option, arg);
	return 0;
}

int hotplug_remove(const struct hotplug *h, const char *kind, unsigned id, char *why, size_t wl)
{
	if (!find_kind(h, kind, why, wl))
		return -EOPNOTSUPP;
	if (dev_remove(h->devs, kind, id) < 0) {
		snprintf(why, wl, "no %s %u in this domain", kind, id);
		return -ENOENT;
	}
	log_info(kind, "%u unplugged", id);
	return 0;
}

int hotplug_op_add(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	(void)rep;
	return hotplug_add(ctx, req->u.dev_add.kind, req->u.dev_add.arg, why, wl);
}

int hotplug_op_remove(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	(void)rep;
	return hotplug_remove(ctx, req->u.dev_remove.kind, req->u.dev_remove.id, why, wl);
}
