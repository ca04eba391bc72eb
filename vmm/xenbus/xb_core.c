/* The xenbus back-end state machine (xb_core.h, docs/xenbus.md). */
#include "xb_core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xb_keys.h"

static const char *const state_names[] = {
	[XenbusStateUnknown] = "Unknown",	  [XenbusStateInitialising] = "Initialising",
	[XenbusStateInitWait] = "InitWait",	  [XenbusStateInitialised] = "Initialised",
	[XenbusStateConnected] = "Connected",	  [XenbusStateClosing] = "Closing",
	[XenbusStateClosed] = "Closed",		  [XenbusStateReconfiguring] = "Reconfiguring",
	[XenbusStateReconfigured] = "Reconfigured",
};

const char *xb_state_name(enum xenbus_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

enum xenbus_state xb_parse_state(const char *s)
{
	/* xenbus_read_driver_state() takes "%d"; a frontend is hostile, so
	 * only a plain digit in range is a state. */
	if (s && s[0] >= '0' && s[0] <= '8' && s[1] == '\0')
		return (enum xenbus_state)(s[0] - '0');
	return XenbusStateUnknown;
}

void xb_init(struct xb_backend *b, const struct xb_dev_ops *ops, void *dev, const struct xb_io *io)
{
	*b = (struct xb_backend){ .ops = ops, .dev = dev, .io = io, .state = XenbusStateUnknown,
				  .fe_state = XenbusStateUnknown, .online = true };
}

static int set_state(struct xb_backend *b, enum xenbus_state s)
{
	/* xenbus_switch_state(): no write when the state is already s. */
	if (b->state == s)
		return 0;
	b->state = s;
	return b->io->set_state(b->io->ctx, s);
}

static void disconnect(struct xb_backend *b)
{
	if (b->ops->disconnect)
		b->ops->disconnect(b->dev);
	b->connected = false;
	b->quiesced = false;
}

/* xenbus_dev_fatal(): the error node, then Closing. */
static int fatal(struct xb_backend *b, int err, const char *why)
{
	char msg[300];

	b->error = err;
	snprintf(b->why, sizeof(b->why), "%s", why && *why ? why : strerror(-err));
	snprintf(msg, sizeof(msg), "%d %s", -err, b->why);
	if (b->io->set_error)
		(void)b->io->set_error(b->io->ctx, msg);
	disconnect(b);
	(void)set_state(b, XenbusStateClosing);
	return err;
}

#define XB_TX_TRIES 5

/* One op's keys in one transaction (blkback's connect() writes its keys in
 * a xenbus transaction, retried on -EAGAIN by the binding). */
static int begin(struct xb_backend *b)
{
	return b->io->begin ? b->io->begin(b->io->ctx) : 0;
}

static int end(struct xb_backend *b, int rc)
{
	int r = b->io->end ? b->io->end(b->io->ctx, rc < 0) : 0;

	return rc < 0 ? rc : r;
}

int xb_created(struct xb_backend *b)
{
	char why[256] = "";
	int rc;

	if (b->state != XenbusStateUnknown && b->state != XenbusStateInitialising)
		return 0;
	b->state = XenbusStateInitialising;
	for (int tries = 0; tries < XB_TX_TRIES; tries++) {
		rc = begin(b);
		if (rc == 0) {
			rc = b->ops->features ? b->ops->features(b->dev, &b->io->be_keys, why, sizeof(why)) : 0;
			rc = end(b, rc);
		}
		if (rc != -EAGAIN)
			break;
	}
	if (rc < 0)
		return fatal(b, rc, why[0] ? why : "writing the backend's features");
	return set_state(b, XenbusStateInitWait);
}

static void remove_dev(struct xb_backend *b)
{
	disconnect(b);
	/* xenbus_dev_remove() switches to Closed after the driver's remove. */
	(void)set_state(b, XenbusStateClosed);
	b->removed = true;
	if (b->io->removed)
		b->io->removed(b->io->ctx);
}

static int do_connect(struct xb_backend *b)
{
	char why[256] = "";
	int rc;

	for (int tries = 0; tries < XB_TX_TRIES; tries++) {
		rc = begin(b);
		if (rc == 0) {
			rc = b->ops->connect ? b->ops->connect(b->dev, &b->io->fe_keys, &b->io->be_keys, why,
							       sizeof(why))
					     : -ENOSYS;
			rc = end(b, rc);
		}
		if (rc != -EAGAIN)
			break;
		/* The commit raced with another writer: undo, then again
		 * (blkback's connect() retries its transaction likewise). */
		if (b->ops->disconnect)
			b->ops->disconnect(b->dev);
	}
	if (rc < 0)
		return fatal(b, rc, why[0] ? why : "connecting to the frontend");
	b->connected = true;
	return 0;
}

/* The frontend asked to connect: connect once the device is ready. */
static int try_connect(struct xb_backend *b)
{
	char why[256] = "";
	int rc;

	if (b->ops->ready) {
		rc = b->io->be_read.read ? b->ops->ready(b->dev, &b->io->be_read, why, sizeof(why)) : -ENOSYS;
		if (rc < 0)
			return fatal(b, rc, why[0] ? why : "reading the backend's keys");
		if (rc == 0)
			return 0; /* asked again at the next backend event */
	}
	disconnect(b);
	rc = do_connect(b);
	return rc < 0 ? rc : set_state(b, XenbusStateConnected);
}

int xb_frontend_changed(struct xb_backend *b, enum xenbus_state fe)
{
	char why[64];
	int rc;

	b->fe_state = fe;
	if (b->removed)
		return 0;
	switch (fe) {
	case XenbusStateInitialising:
		/* A frontend reset after Closed (kexec, module reload). */
		if (b->state == XenbusStateClosed && b->online)
			return set_state(b, XenbusStateInitWait);
		return 0;
	case XenbusStateInitWait:
		return 0;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		/* Two watch events may come for one connect: connect once.
		 * In Closing (after a fatal error or an unplug request) wait
		 * for the frontend to close rather than retry at every event:
		 * blkback would retry, but it is told by no one to stop. */
		if (b->state == XenbusStateConnected || b->state == XenbusStateClosing || !b->online)
			return 0;
		return try_connect(b);
	case XenbusStateClosing:
		return set_state(b, XenbusStateClosing);
	case XenbusStateClosed:
		disconnect(b);
		rc = set_state(b, XenbusStateClosed);
		if (!b->online)
			remove_dev(b);
		return rc;
	case XenbusStateUnknown:
		/* The frontend's directory is gone (the domain's home was
		 * removed): blkback unregisters the device. */
		remove_dev(b);
		return 0;
	default:
		snprintf(why, sizeof(why), "saw state %d at frontend", (int)fe);
		return fatal(b, -EINVAL, why);
	}
}

int xb_backend_changed(struct xb_backend *b, bool online, enum xenbus_state state)
{
	int rc = 0;

	if (b->removed)
		return 0;
	b->online = online;
	/* The toolstack asks the backend to close (hot-unplug) by writing
	 * Closing into our state node: adopt it (QEMU's
	 * xen_device_backend_changed); the frontend sees it and closes. */
	if (state == XenbusStateClosing && b->state != XenbusStateClosing)
		b->state = XenbusStateClosing;
	/* Nobody on the other side will answer: close now. */
	if (b->state == XenbusStateClosing &&
	    (b->fe_state == XenbusStateUnknown || b->fe_state == XenbusStateClosed)) {
		disconnect(b);
		rc = set_state(b, XenbusStateClosed);
	}
	if (!b->online && (b->state == XenbusStateClosed || b->state == XenbusStateInitialising ||
			   b->state == XenbusStateInitWait || b->state == XenbusStateUnknown)) {
		remove_dev(b);
		return rc;
	}
	/* A device that was not ready when the frontend asked (the vif's
	 * hotplug script had not run): the change may be the one it waited
	 * for. */
	if (b->ops->ready && b->online && !b->connected && b->state == XenbusStateInitWait &&
	    (b->fe_state == XenbusStateInitialised || b->fe_state == XenbusStateConnected))
		rc = try_connect(b);
	return rc;
}

static bool keeps_connection(const struct xb_backend *b)
{
	return b->ops->quiesce && b->ops->resume;
}

int xb_quiesce(struct xb_backend *b)
{
	int rc = 0;

	if (!b->connected || b->quiesced)
		return 0;
	if (keeps_connection(b)) {
		rc = b->ops->quiesce(b->dev);
		b->quiesced = true;
	} else {
		disconnect(b);
	}
	return rc;
}

/* The device serves again from where it stopped, its connect-time keys in
 * one transaction (a restore's toolstack wrote the backend directory
 * afresh).  A race on the commit: quiesce, and again. */
static int do_resume(struct xb_backend *b)
{
	char why[256] = "";
	int rc;

	for (int tries = 0; tries < XB_TX_TRIES; tries++) {
		rc = begin(b);
		if (rc == 0) {
			rc = b->ops->resume(b->dev, &b->io->be_keys, why, sizeof(why));
			if (rc < 0)
				(void)end(b, rc);
			else
				rc = end(b, 0);
		}
		if (rc == 0)
			break;
		b->ops->quiesce(b->dev);
		if (rc != -EAGAIN)
			break;
	}
	if (rc < 0)
		return fatal(b, rc, why[0] ? why : "resuming the connection");
	b->quiesced = false;
	return 0;
}

int xb_resume(struct xb_backend *b)
{
	if (b->removed || b->state != XenbusStateConnected)
		return 0;
	if (b->quiesced)
		return do_resume(b);
	return b->connected ? 0 : do_connect(b);
}

#define XB_SAVED_ONLINE 1u

void xb_save(const struct xb_backend *b, uint8_t out[XB_SAVED_LEN])
{
	xb_put32(out, (uint32_t)b->state);
	xb_put32(out + 4, (uint32_t)b->fe_state);
	xb_put32(out + 8, b->online ? XB_SAVED_ONLINE : 0);
	xb_put32(out + 12, 0);
}

int xb_load(struct xb_backend *b, const uint8_t in[XB_SAVED_LEN])
{
	uint32_t st = xb_get32(in), fe = xb_get32(in + 4), flags = xb_get32(in + 8);

	if (st > XenbusStateReconfigured || fe > XenbusStateReconfigured || (flags & ~XB_SAVED_ONLINE) ||
	    xb_get32(in + 12) != 0)
		return -EINVAL;
	b->state = (enum xenbus_state)st;
	b->fe_state = (enum xenbus_state)fe;
	b->online = flags & XB_SAVED_ONLINE;
	b->connected = false; /* the device connects again in xb_resume() */
	b->quiesced = false;
	b->removed = false;
	return 0;
}

int xb_save_dev(const struct xb_backend *b, uint8_t *buf, size_t len)
{
	if (!b->connected || !b->quiesced || !b->ops->save)
		return 0;
	return b->ops->save(b->dev, buf, len);
}

int xb_load_dev(struct xb_backend *b, const uint8_t *buf, size_t len)
{
	if (b->state != XenbusStateConnected || !b->ops->load || !keeps_connection(b))
		return -EINVAL;
	if (b->ops->load(b->dev, buf, len) < 0)
		return -EINVAL;
	b->connected = true;
	b->quiesced = true;
	return 0;
}
