/* The vif back end's control side (vif.h). */
#include "vif.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xb_keys.h"

struct vif {
	struct vif_cfg cfg;
	void *host;
	void *tap; /* the data path's TAP device, from vif_new to vif_free */
	void *dp;  /* the data path's, while connected */
	struct vif_front front;
	struct vif_back back;
	bool loaded; /* front and pos came from a saved stream */
	struct vif_pos pos[VIF_MAX_QUEUES];
};

/* ---- --nic DEVID,IFNAME ---- */

/* Linux's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or
 * white space. */
static bool valid_ifname(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len >= VIF_IFNAMSIZ || !strcmp(n, ".") || !strcmp(n, ".."))
		return false;
	for (; *n; n++)
		if (*n == '/' || *n == ':' || isspace((unsigned char)*n))
			return false;
	return true;
}

int vif_parse_arg(const char *arg, struct vif_cfg *out, char *why, size_t wl)
{
	struct vif_cfg c = { 0 };
	const char *comma = strchr(arg, ',');
	char devid[16];
	size_t n = comma ? (size_t)(comma - arg) : 0;

	if (!comma || n == 0 || n >= sizeof(devid))
		goto bad;
	memcpy(devid, arg, n);
	devid[n] = '\0';
	if (xb_parse_u32(devid, INT32_MAX, &c.devid) < 0 || !valid_ifname(comma + 1))
		goto bad;
	strcpy(c.ifname, comma + 1);
	*out = c;
	return 0;
bad:
	snprintf(why, wl, "--nic \"%s\": expected DEVID,IFNAME (e.g. 0,vif7.0; IFNAME 1 to 15 characters, "
			  "no '/', ':' or spaces)", arg);
	return -EINVAL;
}

/* ---- the frontend's keys (netback connect, connect_data_rings,
 * read_xenbus_vif_flags) ---- */

static int read_flag(const struct xb_reader *fe, const char *key, bool *out, char *why, size_t wl)
{
	uint32_t v;
	bool present;
	int rc = xb_read_u32(fe, key, UINT32_MAX, 0, &v, &present, why, wl);

	*out = v != 0;
	return rc;
}

static int read_queue(const struct xb_reader *fe, const char *dir, struct vif_queue_refs *q, char *why, size_t wl)
{
	char k[48], k2[48];
	bool has_tx, has_rx;
	const char *sep = *dir ? "/" : "";

	snprintf(k, sizeof(k), "%s%stx-ring-ref", dir, sep);
	snprintf(k2, sizeof(k2), "%s%srx-ring-ref", dir, sep);
	if (xb_read_u32(fe, k, UINT32_MAX, 0, &q->tx_ref, NULL, why, wl) < 0 ||
	    xb_read_u32(fe, k2, UINT32_MAX, 0, &q->rx_ref, NULL, why, wl) < 0) {
		snprintf(why, wl, "reading %s%sring-ref", *dir ? dir : "", sep);
		return -EINVAL;
	}
	/* Split event channels first, then one (connect_data_rings). */
	snprintf(k, sizeof(k), "%s%sevent-channel-tx", dir, sep);
	snprintf(k2, sizeof(k2), "%s%sevent-channel-rx", dir, sep);
	if (xb_read_u32(fe, k, UINT32_MAX, 0, &q->evtchn_tx, &has_tx, why, wl) < 0 ||
	    xb_read_u32(fe, k2, UINT32_MAX, 0, &q->evtchn_rx, &has_rx, why, wl) < 0 || has_tx != has_rx)
		goto bad_evtchn;
	if (has_tx)
		return 0;
	snprintf(k, sizeof(k), "%s%sevent-channel", dir, sep);
	if (xb_read_u32(fe, k, UINT32_MAX, 0, &q->evtchn_tx, NULL, why, wl) < 0)
		goto bad_evtchn;
	q->evtchn_rx = q->evtchn_tx;
	return 0;
bad_evtchn:
	snprintf(why, wl, "reading %s%sevent-channel(-tx/rx)", *dir ? dir : "", sep);
	return -EINVAL;
}

int vif_read_front(const struct xb_reader *fe, const struct vif_limits *lim, struct vif_front *out, char *why,
		   size_t wl)
{
	struct vif_front f = { 0 };
	unsigned max = lim->max_queues < VIF_MAX_QUEUES ? lim->max_queues : VIF_MAX_QUEUES;
	uint32_t v;
	bool no_csum;
	int rc;

	rc = xb_read_u32(fe, "multi-queue-num-queues", UINT32_MAX, 1, &v, &(bool){ false }, why, wl);
	if (rc < 0)
		return rc;
	if (v == 0 || v > max) {
		snprintf(why, wl, "guest requested %u queues, but valid range is 1 - %u.", v, max);
		return -EINVAL;
	}
	f.nr_queues = v;
	/* read_xenbus_vif_flags: only rx-copy is served (feature-rx-flip 0) */
	rc = xb_read_u32(fe, "request-rx-copy", UINT32_MAX, 0, &v, &(bool){ false }, why, wl);
	if (rc < 0)
		return rc;
	if (v == 0) {
		snprintf(why, wl, "request-rx-copy is not 1: only rx-copy is served (feature-rx-flip 0)");
		return -EOPNOTSUPP;
	}
	if (read_flag(fe, "feature-rx-notify", &f.rx_notify, why, wl) < 0 ||
	    read_flag(fe, "feature-sg", &f.sg, why, wl) < 0 ||
	    read_flag(fe, "feature-gso-tcpv4", &f.gso_tcpv4, why, wl) < 0 ||
	    read_flag(fe, "feature-gso-tcpv6", &f.gso_tcpv6, why, wl) < 0 ||
	    read_flag(fe, "feature-no-csum-offload", &no_csum, why, wl) < 0 ||
	    read_flag(fe, "feature-ipv6-csum-offload", &f.ipv6_csum, why, wl) < 0)
		return -EINVAL;
	f.ip_csum = !no_csum;
	for (unsigned q = 0; q < f.nr_queues; q++) {
		char dir[24] = "";

		/* One queue: the keys at the top (connect_data_rings). */
		if (f.nr_queues > 1)
			snprintf(dir, sizeof(dir), "queue-%u", q);
		if (read_queue(fe, dir, &f.q[q], why, wl) < 0)
			return -EINVAL;
	}
	*out = f;
	return 0;
}

/* ---- the backend's own keys ---- */

/* xen_net_read_mac: six hex bytes with ':' between. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		char *e;
		unsigned long b;

		if (!isxdigit((unsigned char)*s))
			return -EINVAL;
		b = strtoul(s, &e, 16);
		if (b > 0xff || e == s || *e != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		mac[i] = (uint8_t)b;
		s = e + 1;
	}
	return 0;
}

/* xen_net_read_rate: "BYTES,USEC"; anything else is unlimited. */
static bool parse_rate(const char *s, uint64_t *bytes, uint64_t *usec)
{
	char *e;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*bytes = strtoull(s, &e, 10);
	if (errno || *e != ',' || !isdigit((unsigned char)e[1]))
		return false;
	s = e + 1;
	*usec = strtoull(s, &e, 10);
	return !errno && *e == '\0';
}

int vif_read_back(const struct xb_reader *be, struct vif_back *out, char *why, size_t wl)
{
	struct vif_back b = { 0 };
	char v[64];
	int rc = be->read(be->ctx, "hotplug-status", v, sizeof(v));

	/* netback's hotplug_status_changed: only "connected" completes the
	 * state change; anything else (absent, "error") waits. */
	if (rc < 0 || strcmp(v, "connected") != 0)
		return 0;
	rc = be->read(be->ctx, "mac", v, sizeof(v));
	if (rc < 0 || parse_mac(v, b.mac) < 0) {
		snprintf(why, wl, "parsing mac");
		return rc == -ENOENT ? -ENOENT : -EINVAL;
	}
	rc = be->read(be->ctx, "rate", v, sizeof(v));
	if (rc == 0)
		b.rate = parse_rate(v, &b.rate_bytes, &b.rate_usec);
	*out = b;
	return 1;
}

/* ---- xb_dev_ops ---- */

/* netback_probe()'s keys, less what is not done here: no XDP headroom,
 * no multicast control, no control ring (docs/netback.md). */
static int vif_features(void *dev, const struct xb_writer *be, char *why, size_t wl)
{
	static const struct {
		const char *key;
		unsigned v;
	} keys[] = {
		{ "feature-sg", 1 },	      { "feature-gso-tcpv4", 1 },	     { "feature-gso-tcpv6", 1 },
		{ "feature-ipv6-csum-offload", 1 }, { "feature-rx-copy", 1 },   { "feature-rx-flip", 0 },
		{ "feature-split-event-channels", 1 },
	};
	struct vif_limits lim;
	int rc = 0;

	(void)dev;
	vif_datapath_limits(&lim);
	for (size_t i = 0; rc == 0 && i < sizeof(keys) / sizeof(keys[0]); i++) {
		rc = xb_put_u(be, keys[i].key, keys[i].v);
		if (rc < 0)
			snprintf(why, wl, "writing %s", keys[i].key);
	}
	if (rc == 0 && (rc = xb_put_u(be, "multi-queue-max-queues", lim.max_queues)) < 0)
		snprintf(why, wl, "writing multi-queue-max-queues");
	return rc;
}

static int vif_ready(void *dev, const struct xb_reader *be, char *why, size_t wl)
{
	struct vif *v = dev;

	return vif_read_back(be, &v->back, why, wl);
}

static int vif_connect(void *dev, const struct xb_reader *fe, const struct xb_writer *be, char *why, size_t wl)
{
	struct vif *v = dev;
	struct vif_limits lim;
	int rc;

	(void)be; /* netback writes nothing at connect but its state */
	v->loaded = false;
	vif_datapath_limits(&lim);
	rc = vif_read_front(fe, &lim, &v->front, why, wl);
	return rc < 0 ? rc : vif_datapath_connect(v->host, v->tap, &v->cfg, &v->front, &v->back, NULL, &v->dp, why, wl);
}

static int vif_quiesce(void *dev)
{
	struct vif *v = dev;

	return v->dp ? vif_datapath_quiesce(v->dp) : 0;
}

static int vif_resume(void *dev, const struct xb_writer *be, char *why, size_t wl)
{
	struct vif *v = dev;
	int rc;

	(void)be;
	if (v->dp)
		return vif_datapath_resume(v->dp, why, wl);
	if (!v->loaded) {
		snprintf(why, wl, "no saved connection to resume");
		return -EINVAL;
	}
	rc = vif_datapath_connect(v->host, v->tap, &v->cfg, &v->front, &v->back, v->pos, &v->dp, why, wl);
	if (rc == 0)
		v->loaded = false;
	return rc;
}

static int vif_save(void *dev, uint8_t *buf, size_t len)
{
	struct vif *v = dev;
	struct vif_pos pos[VIF_MAX_QUEUES];
	int rc;

	if (!v->dp)
		return v->loaded ? vif_saved_encode(&v->front, &v->back, v->pos, buf, len) : 0;
	rc = vif_datapath_save(v->dp, pos);
	return rc < 0 ? rc : vif_saved_encode(&v->front, &v->back, pos, buf, len);
}

static int vif_load(void *dev, const uint8_t *buf, size_t len)
{
	struct vif *v = dev;
	struct vif_limits lim;
	struct vif_front f;
	struct vif_back b;
	struct vif_pos pos[VIF_MAX_QUEUES];

	vif_datapath_limits(&lim);
	if (v->dp || vif_saved_decode(buf, len, &lim, &f, &b, pos) < 0)
		return -EINVAL;
	v->front = f;
	v->back = b;
	memcpy(v->pos, pos, sizeof(pos));
	v->loaded = true;
	return 0;
}

static void vif_disconnect(void *dev)
{
	struct vif *v = dev;

	vif_datapath_disconnect(v->dp);
	v->dp = NULL;
	v->loaded = false;
}

const struct xb_dev_ops vif_xb_ops = {
	.type = "vif", .features = vif_features, .connect = vif_connect, .disconnect = vif_disconnect,
	.ready = vif_ready, .quiesce = vif_quiesce, .resume = vif_resume, .save = vif_save, .load = vif_load,
};

/* ---- the saved connection ----
 * u32 version 1, u32 nr_queues, u32 flags (VIF_SAVED_*), u32 0, u64 rate
 * bytes, u64 rate usec (0: unlimited), then per queue u32 x 8: tx-ring-ref,
 * rx-ring-ref, event-channel-tx, event-channel-rx, tx req_cons, tx
 * rsp_prod_pvt, rx req_cons, rx rsp_prod_pvt.  Little-endian. */
#define VIF_SAVED_VERSION 1u
#define VIF_SAVED_SG 1u
#define VIF_SAVED_GSO4 2u
#define VIF_SAVED_GSO6 4u
#define VIF_SAVED_CSUM 8u
#define VIF_SAVED_CSUM6 16u
#define VIF_SAVED_RX_NOTIFY 32u
#define VIF_SAVED_ALL 63u
#define VIF_SAVED_HDR 32u

static size_t saved_len(unsigned nq)
{
	return VIF_SAVED_HDR + (size_t)nq * 32;
}

int vif_saved_encode(const struct vif_front *f, const struct vif_back *b, const struct vif_pos *pos, uint8_t *buf,
		     size_t len)
{
	size_t n = saved_len(f->nr_queues);
	uint8_t *p = buf + VIF_SAVED_HDR;
	bool rate = b && b->rate && b->rate_usec;

	if (n > len)
		return -ENOSPC;
	xb_put32(buf, VIF_SAVED_VERSION);
	xb_put32(buf + 4, f->nr_queues);
	xb_put32(buf + 8, (f->sg ? VIF_SAVED_SG : 0) | (f->gso_tcpv4 ? VIF_SAVED_GSO4 : 0) |
			       (f->gso_tcpv6 ? VIF_SAVED_GSO6 : 0) | (f->ip_csum ? VIF_SAVED_CSUM : 0) |
			       (f->ipv6_csum ? VIF_SAVED_CSUM6 : 0) | (f->rx_notify ? VIF_SAVED_RX_NOTIFY : 0));
	xb_put32(buf + 12, 0);
	xb_put64(buf + 16, rate ? b->rate_bytes : 0);
	xb_put64(buf + 24, rate ? b->rate_usec : 0);
	for (unsigned q = 0; q < f->nr_queues; q++, p += 32) {
		const uint32_t w[8] = { f->q[q].tx_ref, f->q[q].rx_ref, f->q[q].evtchn_tx, f->q[q].evtchn_rx,
					pos[q].tx_req_cons, pos[q].tx_rsp_prod_pvt, pos[q].rx_req_cons,
					pos[q].rx_rsp_prod_pvt };

		for (int i = 0; i < 8; i++)
			xb_put32(p + 4 * i, w[i]);
	}
	return (int)n;
}

int vif_saved_decode(const uint8_t *buf, size_t len, const struct vif_limits *lim, struct vif_front *out,
		     struct vif_back *bout, struct vif_pos pos[VIF_MAX_QUEUES])
{
	struct vif_front f = { 0 };
	struct vif_back b = { 0 };
	uint32_t nq, flags;
	const uint8_t *p = buf + VIF_SAVED_HDR;

	if (len < VIF_SAVED_HDR || xb_get32(buf) != VIF_SAVED_VERSION)
		return -EINVAL;
	nq = xb_get32(buf + 4);
	flags = xb_get32(buf + 8);
	if (nq == 0 || nq > lim->max_queues || nq > VIF_MAX_QUEUES || (flags & ~VIF_SAVED_ALL) ||
	    xb_get32(buf + 12) != 0 || len != saved_len(nq))
		return -EINVAL;
	b.rate_bytes = xb_get64(buf + 16);
	b.rate_usec = xb_get64(buf + 24);
	b.rate = b.rate_usec != 0;
	if (!b.rate && b.rate_bytes)
		return -EINVAL;
	f.nr_queues = nq;
	f.sg = flags & VIF_SAVED_SG;
	f.gso_tcpv4 = flags & VIF_SAVED_GSO4;
	f.gso_tcpv6 = flags & VIF_SAVED_GSO6;
	f.ip_csum = flags & VIF_SAVED_CSUM;
	f.ipv6_csum = flags & VIF_SAVED_CSUM6;
	f.rx_notify = flags & VIF_SAVED_RX_NOTIFY;
	for (unsigned q = 0; q < nq; q++, p += 32) {
		f.q[q] = (struct vif_queue_refs){ xb_get32(p), xb_get32(p + 4), xb_get32(p + 8), xb_get32(p + 12) };
		pos[q] = (struct vif_pos){ xb_get32(p + 16), xb_get32(p + 20), xb_get32(p + 24), xb_get32(p + 28) };
		if (pos[q].tx_req_cons != pos[q].tx_rsp_prod_pvt || pos[q].rx_req_cons != pos[q].rx_rsp_prod_pvt)
			return -EINVAL;
	}
	*out = f;
	*bout = b;
	return 0;
}

int vif_new(void *host, const struct vif_cfg *cfg, struct vif **out, char *why, size_t wl)
{
	struct vif *v = calloc(1, sizeof(*v));
	int rc;

	if (!v) {
		snprintf(why, wl, "%s: out of memory", cfg->ifname);
		return -ENOMEM;
	}
	v->cfg = *cfg;
	v->host = host;
	rc = vif_datapath_open(host, cfg, &v->tap, why, wl);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	return 0;
}

void vif_free(struct vif *v)
{
	if (!v)
		return;
	vif_disconnect(v);
	vif_datapath_close(v->tap);
	free(v);
}

const struct vif_cfg *vif_cfg(const struct vif *v)
{
	return &v->cfg;
}
