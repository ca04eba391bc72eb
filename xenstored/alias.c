/* Old domain ids a restored domain still answers to (docs/xenstored.md,
 * "A new id").
 *
 * A domus guest is not told of its save: its xenbus frontends keep the back
 * end's path they read at connect (Linux's dev->otherend,
 * /local/domain/0/backend/vbd/<old>/51712) and a watch on its `state`, and
 * Linux drops a watch event whose path does not start with dev->otherend
 * (drivers/xen/xenbus/xenbus_probe.c xenbus_otherend_changed).  So when the
 * domain comes back under a new id N, requests of that domain naming libxl's
 * back-end layout /local/domain/<be>/backend/<type>/<old>[/...] are served
 * at .../<type>/N[/...], and events of a watch registered that way carry
 * the old form again.
 *
 * The aliases belong to the domain, not to one connection: the guest's
 * kernel holds the old paths whatever connection carries its requests (a
 * new hand-over of the ring, a restart of the daemon).  Only the domain's
 * own requests are translated, and always to its own id: an alias reaches
 * nothing the domain could not name directly, and the permissions checked
 * are the real node's (another domain's back end at the old id is out of
 * its reach through the alias).  Aliases compose across restores (O->N,
 * then N saved and restored as M: O and N both mean M), travel in the
 * export (XS_ALIASES) and in the snapshot (R_META), and go when the domain
 * is released. */
#include "engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <xen/io/xs_wire.h>

/* Xen's DOMID_FIRST_RESERVED: ids at or above it are not a guest's. */
#define FIRST_RESERVED 0x7FF0u

/* Where, in a path of libxl's backend layout
 * /local/domain/<be>/backend/<type>/<fe>[/...], the frontend's id <fe>
 * starts, if it is `fe` (libxl_device.c libxl__device_backend_path);
 * else 0. */
size_t backend_fe_at(const char *s, const char *fe)
{
	static const char pre[] = "/local/domain/";
	const char *p = s + sizeof(pre) - 1, *slash;
	size_t n = strlen(fe);

	if (strncmp(s, pre, sizeof(pre) - 1) != 0)
		return 0;
	p += strspn(p, "0123456789");
	if (p == s + sizeof(pre) - 1 || strncmp(p, "/backend/", 9) != 0)
		return 0;
	p += 9;
	slash = strchr(p, '/');
	if (!slash || slash == p)
		return 0;
	p = slash + 1;
	if (strncmp(p, fe, n) != 0 || (p[n] != '/' && p[n] != '\0'))
		return 0;
	return (size_t)(p - s);
}

int xse_alias_check(uint32_t domid, const uint32_t *old, unsigned n)
{
	if (domid == 0 || domid >= FIRST_RESERVED)
		return -EINVAL;
	if (n > XSE_ALIAS_MAX)
		return -ENOSPC;
	for (unsigned i = 0; i < n; i++) {
		if (old[i] == 0 || old[i] >= FIRST_RESERVED || old[i] == domid)
			return -EINVAL;
		for (unsigned j = 0; j < i; j++)
			if (old[j] == old[i])
				return -EINVAL;
	}
	return 0;
}

int xse_alias_set(struct xse_engine *eng, uint32_t domid, const uint32_t *old, unsigned n)
{
	struct xse_domain *d;
	int rc = xse_alias_check(domid, old, n);

	if (rc < 0)
		return rc;
	d = &eng->doms[domid];
	if (d->nalias == 0 && n == 0)
		return 0;
	for (unsigned i = 0; i < n; i++)
		d->alias[i] = (uint16_t)old[i];
	d->nalias = (uint8_t)n;
	if (eng->meta_changed)
		eng->meta_changed(eng, eng->hook_opaque);
	return 0;
}

unsigned xse_alias_get(const struct xse_engine *eng, uint32_t domid, uint32_t *old)
{
	const struct xse_domain *d;

	if (domid >= XSE_DOMID_COUNT)
		return 0;
	d = &eng->doms[domid];
	for (unsigned i = 0; i < d->nalias; i++)
		old[i] = d->alias[i];
	return d->nalias;
}

int xse_alias_compose(const uint32_t *old, unsigned n, uint32_t from, uint32_t to,
		      uint32_t *out, unsigned *nout)
{
	unsigned k = 0;

	for (unsigned i = 0; i <= n; i++) {
		uint32_t id = i < n ? old[i] : from;
		bool dup = id == to;

		for (unsigned j = 0; j < k && !dup; j++)
			dup = out[j] == id;
		if (dup)
			continue;
		if (k == XSE_ALIAS_MAX)
			return -ENOSPC;
		out[k++] = id;
	}
	*nout = k;
	return 0;
}

int alias_apply(const struct xse_engine *eng, const struct xse_client *c, char *path,
		size_t sz, struct alias_hit *hit)
{
	const struct xse_domain *d;
	char id[16], real[16];
	size_t at = 0, ol, rl, len;
	uint32_t oid = 0;

	if (hit)
		*hit = (struct alias_hit){ 0 };
	if (!c || c->domid == 0 || c->domid >= XSE_DOMID_COUNT || path[0] != '/')
		return 0;
	d = &eng->doms[c->domid];
	for (unsigned i = 0; i < d->nalias && !at; i++) {
		oid = d->alias[i];
		snprintf(id, sizeof(id), "%u", oid);
		at = backend_fe_at(path, id);
	}
	if (!at)
		return 0;
	ol = strlen(id);
	rl = (size_t)snprintf(real, sizeof(real), "%u", c->domid);
	len = strlen(path);
	if (len - ol + rl >= sz)
		return -ENAMETOOLONG;
	memmove(path + at + rl, path + at + ol, len - at - ol + 1);
	memcpy(path + at, real, rl);
	if (hit)
		*hit = (struct alias_hit){ .old = oid, .at = at };
	return 1;
}

int alias_back(uint32_t domid, uint32_t old, size_t at, const char *real,
	       char *out, size_t sz)
{
	char rid[16];
	size_t rl = (size_t)snprintf(rid, sizeof(rid), "%u", domid);
	int n;

	/* An event path lies below its watch's path, so it has the watch's
	 * prefix up to and including the real id. */
	if (strlen(real) < at + rl || strncmp(real + at, rid, rl) != 0)
		return -EINVAL;
	n = snprintf(out, sz, "%.*s%u%s", (int)at, real, old, real + at + rl);
	return (n < 0 || (size_t)n >= sz) ? -ENAMETOOLONG : 0;
}

int xse_watch_given(uint32_t domid, const struct xse_watch *w, char *out,
		    size_t sz)
{
	int n;

	if (w->alias_old)
		return alias_back(domid, w->alias_old, w->alias_at, w->path, out, sz);
	n = snprintf(out, sz, "%s", w->path);
	return (n < 0 || (size_t)n >= sz) ? -ENAMETOOLONG : 0;
}
