/* A xenbus back end over libxenstore (xb_xs.h, docs/xenbus.md). */
#include "xb_xs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <xenstore.h>

#include "domus/log.h"
#include "domus/stream.h"
#include "evloop.h"
#include "xb_keys.h"

struct xb_xs {
	struct xb_backend core;
	struct xb_io io;
	void *dev;
	void (*dev_free)(void *dev);
	struct evl *loop;
	struct evl_src *src;
	struct xs_handle *xs;
	xs_transaction_t t; /* of the op running, XBT_NULL between ops */
	uint32_t devid;
	uint32_t rec_id; /* the XENBUS record's first word: xb_xs_rec_id() */
	bool loaded, watching;
	bool probed;        /* the backend directory was seen; fe is read and watched */
	char name[48];      /* for the log: "vbd-7-51712" */
	char be[96];        /* /local/domain/0/backend/<kind>/<domid>/<devid> */
	char fe[256];       /* read from <be>/frontend */
	char err[128];      /* /local/domain/0/error/backend/<kind>/<domid>/<devid> */
	char tok_be[64], tok_fe[64];
};

const struct xb_backend *xb_xs_core(const struct xb_xs *x)
{
	return &x->core;
}

/* ---- what the core may do (struct xb_io) ---- */

static int read_at(struct xb_xs *x, const char *dir, const char *key, char *buf, size_t len)
{
	char path[384];
	unsigned n = 0;
	char *v;
	int rc = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, key) >= sizeof(path))
		return -ENAMETOOLONG;
	v = xs_read(x->xs, x->t, path, &n);
	if (!v)
		return errno == ENOENT ? -ENOENT : -errno;
	/* The frontend's values are the guest's: copy, bounded. */
	if (n >= len)
		rc = -E2BIG;
	else {
		memcpy(buf, v, n);
		buf[n] = '\0';
		if (strlen(buf) != n)
			rc = -EINVAL; /* an embedded NUL */
	}
	free(v);
	return rc;
}

static int fe_read(void *ctx, const char *key, char *buf, size_t len)
{
	struct xb_xs *x = ctx;

	return read_at(x, x->fe, key, buf, len);
}

static int be_read(void *ctx, const char *key, char *buf, size_t len)
{
	struct xb_xs *x = ctx;

	return read_at(x, x->be, key, buf, len);
}

static int be_write(void *ctx, const char *key, const char *value)
{
	struct xb_xs *x = ctx;
	char path[256];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", x->be, key) >= sizeof(path))
		return -ENAMETOOLONG;
	return xs_write(x->xs, x->t, path, value, (unsigned)strlen(value)) ? 0 : -errno;
}

static int tx_begin(void *ctx)
{
	struct xb_xs *x = ctx;

	x->t = xs_transaction_start(x->xs);
	return x->t == XBT_NULL ? -errno : 0;
}

static int tx_end(void *ctx, bool abort)
{
	struct xb_xs *x = ctx;
	bool ok = xs_transaction_end(x->xs, x->t, abort);
	int rc = ok || abort ? 0 : -errno;

	x->t = XBT_NULL;
	return rc;
}

/* xenbus_switch_state(): in a transaction that first checks the node is
 * there, so a backend whose directory the toolstack removed does not
 * create it again. */
static int set_state(void *ctx, enum xenbus_state s)
{
	struct xb_xs *x = ctx;
	char v[8];
	int rc;

	for (int tries = 0; tries < 5; tries++) {
		rc = tx_begin(x);
		if (rc < 0)
			return rc;
		rc = read_at(x, x->be, "state", v, sizeof(v));
		if (rc == 0 || rc == -E2BIG || rc == -EINVAL) {
			snprintf(v, sizeof(v), "%d", (int)s);
			rc = be_write(x, "state", v);
		}
		if (rc < 0) {
			tx_end(x, true);
			break;
		}
		rc = tx_end(x, false);
		if (rc != -EAGAIN)
			break;
	}
	if (rc < 0)
		log_warn(x->name, "cannot write state %s: %s", xb_state_name(s), strerror(-rc));
	else
		log_info(x->name, "state %s", xb_state_name(s));
	return rc;
}

/* xenbus_va_dev_error(): "error/<nodename>/error" in the backend domain's
 * home, "<errno> <message>". */
static int set_error(void *ctx, const char *msg)
{
	struct xb_xs *x = ctx;
	char path[160];

	log_warn(x->name, "error %s", msg);
	snprintf(path, sizeof(path), "%s/error", x->err);
	return xs_write(x->xs, XBT_NULL, path, msg, (unsigned)strlen(msg)) ? 0 : -errno;
}

static void unwatch(struct xb_xs *x)
{
	if (!x->watching)
		return;
	xs_unwatch(x->xs, x->be, x->tok_be);
	if (x->probed)
		xs_unwatch(x->xs, x->fe, x->tok_fe);
	x->watching = false;
	x->probed = false;
}

static void removed(void *ctx)
{
	struct xb_xs *x = ctx;

	log_info(x->name, "removed");
	unwatch(x);
	evl_del(x->loop, x->src);
	x->src = NULL;
}

/* ---- watch events, on the loop ---- */

static void frontend_event(struct xb_xs *x)
{
	char v[8];
	int rc = read_at(x, x->fe, "state", v, sizeof(v));

	xb_frontend_changed(&x->core, xb_parse_state(rc == 0 ? v : NULL));
}

static int probe(struct xb_xs *x);

static void backend_event(struct xb_xs *x)
{
	char st[8], on[8];
	int rs, ro;

	/* The toolstack writes the backend directory after the monitor
	 * started (xl's supervisor, as libxl after the device model): the
	 * device exists from the first event that shows it. */
	if (!x->probed) {
		(void)probe(x);
		return;
	}
	rs = read_at(x, x->be, "state", st, sizeof(st));
	ro = read_at(x, x->be, "online", on, sizeof(on));
	/* A backend directory that is gone is offline and stateless. */
	xb_backend_changed(&x->core, ro == 0 && strcmp(on, "1") == 0, xb_parse_state(rs == 0 ? st : NULL));
}

static void on_watch(void *ctx, int fd, uint32_t events)
{
	struct xb_xs *x = ctx;
	char **ev;

	(void)fd;
	(void)events;
	while (x->watching && (ev = xs_check_watch(x->xs)) != NULL) {
		if (strcmp(ev[XS_WATCH_TOKEN], x->tok_fe) == 0) {
			if (x->probed)
				frontend_event(x);
		}
		else if (strcmp(ev[XS_WATCH_TOKEN], x->tok_be) == 0)
			backend_event(x);
		free(ev);
	}
}

/* ---- the device's life ---- */

int xb_xs_create(struct evl *loop, const char *kind, uint32_t domid, uint32_t devid, const struct xb_dev_ops *ops,
		 void *dev, void (*dev_free)(void *dev), struct xb_xs **out)
{
	struct xb_xs *x = calloc(1, sizeof(*x));
	int rc = -ENOMEM;

	if (!x)
		goto fail;
	*x = (struct xb_xs){ .dev = dev, .dev_free = dev_free, .loop = loop, .devid = devid,
			     .rec_id = xb_xs_rec_id(kind, devid), .t = XBT_NULL };
	snprintf(x->name, sizeof(x->name), "%s-%u-%u", kind, domid, devid);
	snprintf(x->be, sizeof(x->be), "/local/domain/0/backend/%s/%u/%u", kind, domid, devid);
	snprintf(x->err, sizeof(x->err), "/local/domain/0/error/backend/%s/%u/%u", kind, domid, devid);
	snprintf(x->tok_be, sizeof(x->tok_be), "domus-be-%s", x->name);
	snprintf(x->tok_fe, sizeof(x->tok_fe), "domus-fe-%s", x->name);
	x->io = (struct xb_io){ .ctx = x, .set_state = set_state, .set_error = set_error, .removed = removed,
				.begin = tx_begin, .end = tx_end, .fe_keys = { x, fe_read }, .be_keys = { x, be_write },
				.be_read = { x, be_read } };
	xb_init(&x->core, ops, dev, &x->io);
	x->xs = xs_open(0);
	if (!x->xs) {
		rc = errno ? -errno : -ECONNREFUSED;
		free(x);
		goto fail;
	}
	*out = x;
	return 0;
fail:
	if (dev_free)
		dev_free(dev);
	return rc;
}

/* xenbus_read_otherend_details(): the frontend's path comes from the
 * toolstack's "frontend" node; it must be there and be a path. */
static int read_frontend_path(struct xb_xs *x)
{
	int rc = read_at(x, x->be, "frontend", x->fe, sizeof(x->fe));

	if (rc == 0 && x->fe[0] != '/')
		rc = -EINVAL;
	if (rc < 0)
		x->fe[0] = '\0';
	return rc;
}

/* The backend directory is there: watch the frontend's state and run the
 * state machine.  A fresh backend writes its features and goes to
 * InitWait; one that was loaded or quiesced says its state again (a
 * restore's toolstack wrote the directory afresh) and takes the rings
 * back without a handshake.  The frontend's watch fires once at once
 * (xenstore.txt), which gives the state machine its state. */
static int probe(struct xb_xs *x)
{
	int rc = read_frontend_path(x);

	if (rc == -ENOENT)
		return 0; /* not written yet */
	if (rc < 0) {
		log_err(x->name, "unable to read other end from %s/frontend: %s", x->be, strerror(-rc));
		return rc;
	}
	x->probed = true;
	if (x->loaded || x->core.state != XenbusStateUnknown) {
		(void)set_state(x, x->core.state);
		/* a failure is the guest's to see: Closing and an error node */
		(void)xb_resume(&x->core);
	} else {
		(void)xb_created(&x->core);
	}
	if (!xs_watch(x->xs, x->fe, x->tok_fe)) {
		rc = -errno;
		log_err(x->name, "cannot watch %s: %s", x->fe, strerror(-rc));
		return rc;
	}
	return 0;
}

/* The handle's watch events go to on_watch on the loop. */
static int serve_handle(struct xb_xs *x)
{
	int fd = xs_fileno(x->xs);

	return fd < 0 ? -EIO : evl_add_fd(x->loop, fd, EPOLLIN, on_watch, x, &x->src);
}

int xb_xs_start(void *inst)
{
	struct xb_xs *x = inst;
	int rc;

	if (x->core.removed)
		return 0;
	rc = serve_handle(x);
	if (rc < 0)
		return rc;
	/* Fires once at once: backend_event() probes from there. */
	if (!xs_watch(x->xs, x->be, x->tok_be)) {
		rc = -errno;
		log_err(x->name, "cannot watch %s: %s", x->be, strerror(-rc));
		evl_del(x->loop, x->src);
		x->src = NULL;
		return rc;
	}
	x->watching = true;
	return 0;
}

int xb_xs_reconnect(void *inst)
{
	struct xb_xs *x = inst;
	struct xs_handle *nx;
	bool probed = x->probed;
	int rc;

	if (x->core.removed || !x->watching)
		return 0;
	nx = xs_open(0);
	if (!nx) {
		rc = errno ? -errno : -ECONNREFUSED;
		log_err(x->name, "cannot connect to xenstored again: %s", strerror(-rc));
		return rc;
	}
	/* The old handle's watches went with the daemon: nothing to unwatch. */
	evl_del(x->loop, x->src);
	x->src = NULL;
	xs_close(x->xs);
	x->xs = nx;
	x->watching = false;
	rc = serve_handle(x);
	if (rc < 0)
		return rc;
	if (!xs_watch(x->xs, x->be, x->tok_be) || (probed && !xs_watch(x->xs, x->fe, x->tok_fe))) {
		rc = -errno;
		log_err(x->name, "cannot watch %s again: %s", x->be, strerror(-rc));
		return rc;
	}
	x->watching = true;
	log_info(x->name, "watching xenstore again after a xenstored restart");
	return 0;
}

int xb_xs_quiesce(void *inst)
{
	struct xb_xs *x = inst;

	unwatch(x);
	evl_del(x->loop, x->src);
	x->src = NULL;
	return xb_quiesce(&x->core);
}

int xb_xs_save(void *inst, struct stream_writer *w)
{
	struct xb_xs *x = inst;
	uint8_t rec[XB_XS_REC_MAX] = { 0 };
	int n = xb_save_dev(&x->core, rec + XB_XS_REC_HDR, XB_DEV_SAVED_MAX);

	if (n < 0)
		return n;
	xb_put32(rec, x->rec_id);
	xb_put32(rec + 4, (uint32_t)n);
	xb_save(&x->core, rec + 8);
	return stream_write_record(w, STREAM_REC_XENBUS, rec, XB_XS_REC_HDR + (uint32_t)n);
}

uint32_t xb_xs_rec_id(const char *kind, uint32_t devid)
{
	/* Disks keep the plain devid (save files written before vifs
	 * existed); devids are below 2^31 (--disk, --nic). */
	return strcmp(kind, "vif") == 0 ? devid | XB_XS_REC_VIF : devid;
}

uint32_t xb_xs_rec_devid(const uint8_t *rec)
{
	return xb_get32(rec);
}

bool xb_xs_rec_ok(const uint8_t *rec, size_t len)
{
	return len >= XB_XS_REC_HDR && len <= XB_XS_REC_MAX && xb_get32(rec + 4) == len - XB_XS_REC_HDR;
}

int xb_xs_load_rec(struct xb_xs *x, const uint8_t *rec, size_t len)
{
	struct xb_backend saved = x->core;
	int rc;

	if (!xb_xs_rec_ok(rec, len) || xb_xs_rec_devid(rec) != x->rec_id)
		return -EINVAL;
	rc = xb_load(&x->core, rec + 8);
	if (rc == 0 && len > XB_XS_REC_HDR)
		rc = xb_load_dev(&x->core, rec + XB_XS_REC_HDR, len - XB_XS_REC_HDR);
	if (rc < 0)
		x->core = saved;
	else
		x->loaded = true;
	return rc;
}

int xb_xs_load(void *inst, struct stream_reader *r)
{
	struct xb_xs *x = inst;
	struct stream_record rec;
	int rc = stream_read_record(r, &rec);

	if (rc < 0)
		return rc;
	if (rec.type != STREAM_REC_XENBUS || !xb_xs_rec_ok(rec.data, rec.len))
		return stream_reject(r, &rec, "expected the XENBUS record of a back end");
	if (xb_xs_load_rec(x, rec.data, rec.len) < 0)
		return stream_reject(r, &rec, "XENBUS record of another device, a state out of range, or a device "
				     "state the device refuses");
	return 0;
}

void xb_xs_free(void *inst)
{
	struct xb_xs *x = inst;

	if (!x)
		return;
	unwatch(x);
	evl_del(x->loop, x->src);
	if (x->dev_free)
		x->dev_free(x->dev);
	xs_close(x->xs);
	free(x);
}
