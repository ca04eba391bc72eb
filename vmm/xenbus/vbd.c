/* The vbd back end's control side (vbd.h). */
#include "vbd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>

#include "xb_keys.h"

struct vbd {
	struct vbd_cfg cfg;
	void *host;
	void *dp; /* the data path's, while connected */
	struct vbd_front front;
	bool loaded; /* front and pos came from a saved stream: resume connects from them */
	struct vbd_pos pos[VBD_MAX_QUEUES];
};

/* ---- --disk DEVID,KIND,FORMAT,MODE,DEVTYPE,PATH ---- */

static int field(const char **p, char *out, size_t len)
{
	const char *c = strchr(*p, ',');
	size_t n;

	if (!c)
		return -EINVAL;
	n = (size_t)(c - *p);
	if (n == 0 || n >= len)
		return -EINVAL;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = c + 1;
	return 0;
}

int vbd_parse_arg(const char *arg, struct vbd_cfg *out, char *why, size_t wl)
{
	struct vbd_cfg c = { 0 };
	char devid[16], mode[4], devtype[8];
	const char *p = arg;

	if (field(&p, devid, sizeof(devid)) < 0 || xb_parse_u32(devid, INT32_MAX, &c.devid) < 0 ||
	    field(&p, c.kind, sizeof(c.kind)) < 0 || field(&p, c.format, sizeof(c.format)) < 0 ||
	    field(&p, mode, sizeof(mode)) < 0 || field(&p, devtype, sizeof(devtype)) < 0)
		goto bad;
	if (strcmp(devtype, "disk") && strcmp(devtype, "cdrom"))
		goto bad;
	c.cdrom = devtype[0] == 'c';
	if (strcmp(c.kind, "vbd") && strcmp(c.kind, "qdisk"))
		goto bad;
	if (strcmp(c.format, "raw") && strcmp(c.format, "qcow2") && strcmp(c.format, "vhd") &&
	    strcmp(c.format, "empty"))
		goto bad;
	if (strcmp(mode, "r") && strcmp(mode, "w"))
		goto bad;
	c.readwrite = mode[0] == 'w';
	/* The path is the rest, commas and all. */
	if (strlen(p) >= sizeof(c.path) || (!*p && strcmp(c.format, "empty")))
		goto bad;
	strcpy(c.path, p);
	*out = c;
	return 0;
bad:
	snprintf(why, wl, "--disk \"%s\": expected DEVID,KIND,FORMAT,MODE,DEVTYPE,PATH (e.g. 51712,vbd,raw,w,disk,/srv/domU.img; "
			  "KIND vbd or qdisk, FORMAT raw, qcow2, vhd or empty, MODE r or w, DEVTYPE disk or cdrom)", arg);
	return -EINVAL;
}

/* ---- the frontend's keys (blkback connect_ring / read_per_ring_refs) ---- */

static int read_ring(const struct xb_reader *fe, const char *dir, struct vbd_front *f, struct vbd_ring_refs *r,
		     char *why, size_t wl)
{
	char key[48];

	snprintf(key, sizeof(key), "%s%sevent-channel", dir, *dir ? "/" : "");
	if (xb_read_u32(fe, key, UINT32_MAX, 0, &r->evtchn, NULL, why, wl) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < f->nr_ring_pages; i++) {
		if (f->multi_ref)
			snprintf(key, sizeof(key), "%s%sring-ref%u", dir, *dir ? "/" : "", i);
		else
			snprintf(key, sizeof(key), "%s%sring-ref", dir, *dir ? "/" : "");
		if (xb_read_u32(fe, key, UINT32_MAX, 0, &r->ref[i], NULL, why, wl) < 0)
			return -EINVAL;
	}
	return 0;
}

int vbd_read_front(const struct xb_reader *fe, const struct vbd_limits *lim, struct vbd_front *out, char *why,
		   size_t wl)
{
	struct vbd_front f = { .nr_queues = 1, .nr_ring_pages = 1 };
	uint32_t v = 0;
	char proto[32];
	bool present;
	int rc;

	/* feature-persistent: absent is 0 */
	if (xb_read_u32(fe, "feature-persistent", UINT32_MAX, 0, &v, &present, why, wl) < 0)
		return -EINVAL;
	f.persistent = present && v && lim->persistent;
	/* protocol: absent is the native one (x86_64 here) */
	rc = fe->read(fe->ctx, "protocol", proto, sizeof(proto));
	if (rc == -ENOENT || (rc == 0 && !strcmp(proto, XEN_IO_PROTO_ABI_X86_64))) {
		f.protocol = VBD_PROTO_X86_64;
	} else if (rc == 0 && !strcmp(proto, XEN_IO_PROTO_ABI_X86_32)) {
		f.protocol = VBD_PROTO_X86_32;
	} else {
		snprintf(why, wl, "unknown fe protocol %s", rc == 0 ? proto : "(unreadable)");
		return -ENOSYS;
	}
	if (xb_read_u32(fe, "multi-queue-num-queues", UINT32_MAX, 1, &v, &present, why, wl) < 0)
		return -EINVAL;
	if (v == 0 || v > lim->max_queues || v > VBD_MAX_QUEUES) {
		snprintf(why, wl, "guest requested %u queues, exceeding the maximum of %u.", v,
			 lim->max_queues < VBD_MAX_QUEUES ? lim->max_queues : VBD_MAX_QUEUES);
		return -ENOSYS;
	}
	f.nr_queues = v;
	if (xb_read_u32(fe, "ring-page-order", UINT32_MAX, 0, &v, &present, why, wl) < 0)
		return -EINVAL;
	if (present) {
		if (v > lim->max_ring_page_order || v > VBD_MAX_RING_ORDER) {
			snprintf(why, wl, "requested ring page order %u exceed max:%u", v,
				 lim->max_ring_page_order < VBD_MAX_RING_ORDER ? lim->max_ring_page_order
									       : VBD_MAX_RING_ORDER);
			return -EINVAL;
		}
		f.nr_ring_pages = 1u << v;
		f.multi_ref = true;
	}
	for (unsigned q = 0; q < f.nr_queues; q++) {
		char dir[24] = "";

		if (f.nr_queues > 1)
			snprintf(dir, sizeof(dir), "queue-%u", q);
		if (read_ring(fe, dir, &f, &f.rings[q], why, wl) < 0)
			return -EINVAL;
	}
	*out = f;
	return 0;
}

/* ---- xb_dev_ops ---- */

static int vbd_features(void *dev, const struct xb_writer *be, char *why, size_t wl)
{
	struct vbd_limits lim;
	int rc;

	(void)dev;
	vbd_datapath_limits(&lim);
	/* xen_blkbk_probe()'s keys */
	rc = lim.max_indirect_segs ? xb_put_u(be, "feature-max-indirect-segments", lim.max_indirect_segs) : 0;
	if (rc == 0)
		rc = xb_put_u(be, "multi-queue-max-queues", lim.max_queues);
	if (rc == 0)
		rc = xb_put_u(be, "max-ring-page-order", lim.max_ring_page_order);
	if (rc < 0)
		snprintf(why, wl, "writing the backend's features");
	return rc;
}

/* blkback connect()'s keys, in its order. */
static int write_connect_keys(struct vbd *v, const struct vbd_disk_info *info, const struct xb_writer *be)
{
	unsigned vinfo = 0;
	int rc = 0;

	if (info->flush_cache)
		rc = be->write(be->ctx, "feature-flush-cache", "1");
	if (rc == 0 && info->discard)
		rc = be->write(be->ctx, "feature-discard", "1");
	if (rc == 0)
		rc = be->write(be->ctx, "feature-persistent", v->front.persistent ? "1" : "0");
	if (rc == 0)
		rc = xb_put_u(be, "sectors", info->sectors);
	if (!v->cfg.readwrite)
		vinfo |= VDISK_READONLY;
	/* xen_vbd_create(): device-type cdrom is a removable CD */
	if (v->cfg.cdrom)
		vinfo |= VDISK_CDROM | VDISK_REMOVABLE;
	if (rc == 0)
		rc = xb_put_u(be, "info", vinfo);
	if (rc == 0)
		rc = xb_put_u(be, "sector-size", info->sector_size ? info->sector_size : 512);
	if (rc == 0)
		rc = xb_put_u(be, "physical-sector-size", info->physical_sector_size ? info->physical_sector_size : 512);
	return rc;
}

static int connect_with(struct vbd *v, const struct vbd_pos *pos, const struct xb_writer *be, char *why, size_t wl)
{
	struct vbd_disk_info info = { 0 };
	int rc = vbd_datapath_connect(v->host, &v->cfg, &v->front, pos, &v->dp, &info, why, wl);

	if (rc < 0)
		return rc;
	rc = write_connect_keys(v, &info, be);
	if (rc < 0) {
		snprintf(why, wl, "writing the connect-time keys");
		vbd_datapath_disconnect(v->dp);
		v->dp = NULL;
	}
	return rc;
}

static int vbd_connect(void *dev, const struct xb_reader *fe, const struct xb_writer *be, char *why, size_t wl)
{
	struct vbd *v = dev;
	struct vbd_limits lim;
	int rc;

	v->loaded = false;
	vbd_datapath_limits(&lim);
	rc = vbd_read_front(fe, &lim, &v->front, why, wl);
	return rc < 0 ? rc : connect_with(v, NULL, be, why, wl);
}

/* Before a save: the data path lets go of the guest's pages, keeps its
 * ports and positions. */
static int vbd_quiesce(void *dev)
{
	struct vbd *v = dev;

	/* I/O that did not finish, or an image flush that failed: the save
	 * stops (monitor_save), naming this disk. */
	return v->dp ? vbd_datapath_quiesce(v->dp) : 0;
}

/* After a save that goes on, the same data path serves again; after a
 * restore, a new one from the saved keys and positions, and the
 * connect-time keys again (the toolstack wrote the directory afresh). */
static int vbd_resume(void *dev, const struct xb_writer *be, char *why, size_t wl)
{
	struct vbd *v = dev;
	int rc;

	if (v->dp)
		return vbd_datapath_resume(v->dp, why, wl);
	if (!v->loaded) {
		snprintf(why, wl, "no saved connection to resume");
		return -EINVAL;
	}
	rc = connect_with(v, v->pos, be, why, wl);
	if (rc == 0)
		v->loaded = false;
	return rc;
}

static int vbd_save(void *dev, uint8_t *buf, size_t len)
{
	struct vbd *v = dev;
	struct vbd_pos pos[VBD_MAX_QUEUES];
	int rc;

	if (!v->dp)
		return v->loaded ? vbd_saved_encode(&v->front, v->pos, buf, len) : 0;
	rc = vbd_datapath_save(v->dp, pos);
	return rc < 0 ? rc : vbd_saved_encode(&v->front, pos, buf, len);
}

static int vbd_load(void *dev, const uint8_t *buf, size_t len)
{
	struct vbd *v = dev;
	struct vbd_limits lim;
	struct vbd_front f;
	struct vbd_pos pos[VBD_MAX_QUEUES];

	vbd_datapath_limits(&lim);
	if (v->dp || vbd_saved_decode(buf, len, &lim, &f, pos) < 0)
		return -EINVAL;
	v->front = f;
	memcpy(v->pos, pos, sizeof(pos));
	v->loaded = true;
	return 0;
}

static void vbd_disconnect(void *dev)
{
	struct vbd *v = dev;

	vbd_datapath_disconnect(v->dp);
	v->dp = NULL;
	v->loaded = false;
}

const struct xb_dev_ops vbd_xb_ops = {
	.type = "vbd", .features = vbd_features, .connect = vbd_connect, .disconnect = vbd_disconnect,
	.quiesce = vbd_quiesce, .resume = vbd_resume, .save = vbd_save, .load = vbd_load,
};

/* ---- the saved connection ----
 * u32 version 1, u32 nr_queues, u32 nr_ring_pages, u32 flags (VBD_SAVED_*),
 * then per queue: u32 event-channel, u32 req_cons, u32 rsp_prod_pvt, u32 0,
 * u32 ring-ref x nr_ring_pages.  Little-endian. */
#define VBD_SAVED_VERSION 1u
#define VBD_SAVED_MULTI_REF 1u
#define VBD_SAVED_PERSISTENT 2u
#define VBD_SAVED_X86_32 4u

static size_t saved_len(unsigned nq, unsigned npages)
{
	return 16 + (size_t)nq * (16 + 4 * (size_t)npages);
}

int vbd_saved_encode(const struct vbd_front *f, const struct vbd_pos *pos, uint8_t *buf, size_t len)
{
	size_t n = saved_len(f->nr_queues, f->nr_ring_pages);
	uint8_t *p = buf + 16;

	if (n > len)
		return -ENOSPC;
	xb_put32(buf, VBD_SAVED_VERSION);
	xb_put32(buf + 4, f->nr_queues);
	xb_put32(buf + 8, f->nr_ring_pages);
	xb_put32(buf + 12, (f->multi_ref ? VBD_SAVED_MULTI_REF : 0) | (f->persistent ? VBD_SAVED_PERSISTENT : 0) |
				(f->protocol == VBD_PROTO_X86_32 ? VBD_SAVED_X86_32 : 0));
	for (unsigned q = 0; q < f->nr_queues; q++) {
		xb_put32(p, f->rings[q].evtchn);
		xb_put32(p + 4, pos[q].req_cons);
		xb_put32(p + 8, pos[q].rsp_prod_pvt);
		xb_put32(p + 12, 0);
		p += 16;
		for (unsigned i = 0; i < f->nr_ring_pages; i++, p += 4)
			xb_put32(p, f->rings[q].ref[i]);
	}
	return (int)n;
}

int vbd_saved_decode(const uint8_t *buf, size_t len, const struct vbd_limits *lim, struct vbd_front *out,
		     struct vbd_pos pos[VBD_MAX_QUEUES])
{
	struct vbd_front f = { 0 };
	uint32_t nq, np, flags;
	const uint8_t *p = buf + 16;

	if (len < 16 || xb_get32(buf) != VBD_SAVED_VERSION)
		return -EINVAL;
	nq = xb_get32(buf + 4);
	np = xb_get32(buf + 8);
	flags = xb_get32(buf + 12);
	if (nq == 0 || nq > lim->max_queues || nq > VBD_MAX_QUEUES)
		return -EINVAL;
	if (np == 0 || (np & (np - 1)) || np > (1u << lim->max_ring_page_order) || np > (1u << VBD_MAX_RING_ORDER))
		return -EINVAL;
	if ((flags & ~(VBD_SAVED_MULTI_REF | VBD_SAVED_PERSISTENT | VBD_SAVED_X86_32)) ||
	    (np > 1 && !(flags & VBD_SAVED_MULTI_REF)) || ((flags & VBD_SAVED_PERSISTENT) && !lim->persistent))
		return -EINVAL;
	if (len != saved_len(nq, np))
		return -EINVAL;
	f.nr_queues = nq;
	f.nr_ring_pages = np;
	f.multi_ref = flags & VBD_SAVED_MULTI_REF;
	f.persistent = flags & VBD_SAVED_PERSISTENT;
	f.protocol = flags & VBD_SAVED_X86_32 ? VBD_PROTO_X86_32 : VBD_PROTO_X86_64;
	for (unsigned q = 0; q < nq; q++) {
		f.rings[q].evtchn = xb_get32(p);
		pos[q].req_cons = xb_get32(p + 4);
		pos[q].rsp_prod_pvt = xb_get32(p + 8);
		/* a quiesced ring has answered all it took (blkback_save) */
		if (xb_get32(p + 12) != 0 || pos[q].req_cons != pos[q].rsp_prod_pvt)
			return -EINVAL;
		p += 16;
		for (unsigned i = 0; i < np; i++, p += 4)
			f.rings[q].ref[i] = xb_get32(p);
	}
	*out = f;
	return 0;
}

int vbd_new(void *host, const struct vbd_cfg *cfg, struct vbd **out)
{
	struct vbd *v = calloc(1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	v->cfg = *cfg;
	v->host = host;
	*out = v;
	return 0;
}

void vbd_free(struct vbd *v)
{
	if (!v)
		return;
	vbd_disconnect(v);
	free(v);
}

const struct vbd_cfg *vbd_cfg(const struct vbd *v)
{
	return &v->cfg;
}
