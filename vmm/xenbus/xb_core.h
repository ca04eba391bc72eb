/* The xenbus back-end state machine as plain data (docs/xenbus.md): no
 * xenstore connection, no KVM.  Its binding (xb_xs.c) or a test feeds it
 * events (backend created, frontend state changed, the toolstack's online
 * or state write, quiesce, load) and gives it the xenstore operations it
 * may do through struct xb_io; a device kind (vbd, vif) plugs in through
 * struct xb_dev_ops.
 *
 * The transitions are those of Linux 6.1's backends
 * (drivers/block/xen-blkback/xenbus.c frontend_changed,
 * drivers/xen/xenbus/xenbus_client.c xenbus_dev_fatal) and QEMU's
 * hw/xen/xen-bus.c (xen_device_frontend_changed, xen_device_backend_changed,
 * which handle the toolstack's hot-unplug).
 *
 * Threading: none of its own; the binding calls it on one thread. */
#ifndef DOMUS_VMM_XENBUS_XB_CORE_H
#define DOMUS_VMM_XENBUS_XB_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xenbus.h>

/* Keys relative to one side's directory ("ring-ref", "queue-0/ring-ref"). */
struct xb_reader {
	void *ctx;
	/* The value, NUL-terminated: 0, -ENOENT (absent), -E2BIG (longer
	 * than len - 1) or another -errno. */
	int (*read)(void *ctx, const char *key, char *buf, size_t len);
};

struct xb_writer {
	void *ctx;
	int (*write)(void *ctx, const char *key, const char *value);
};

/* What a device kind does at each step.  Every op may refuse with a
 * -errno and a reason in why: the backend then goes to Closing with an
 * error node, as Linux's xenbus_dev_fatal() does. */
struct xb_dev_ops {
	const char *type; /* "vbd", "vif": backend/<type>/<domid>/<devid> */
	/* Keys the frontend may read before it connects (feature-*,
	 * max-ring-page-order, multi-queue-max-queues): before InitWait. */
	int (*features)(void *dev, const struct xb_writer *be, char *why, size_t wl);
	/* Reads the frontend's keys (ring-ref..., event-channel, protocol),
	 * maps its rings and binds its event channels, and writes the
	 * connect-time keys (sectors, info, sector-size...).  On failure it
	 * has undone what it did. */
	int (*connect)(void *dev, const struct xb_reader *fe, const struct xb_writer *be, char *why, size_t wl);
	/* Unmaps and unbinds; idempotent, also when connect never ran. */
	void (*disconnect)(void *dev);
	/* Optional: whether the device may connect yet, from its own backend
	 * keys (the vif waits for its hotplug script's hotplug-status, as
	 * netback's hotplug_status_changed watch does): 1 yes, 0 not yet (the
	 * next change in the backend directory asks again), or a -errno that
	 * is fatal.  Asked before every connect, never before a resume. */
	int (*ready)(void *dev, const struct xb_reader *be, char *why, size_t wl);
	/* Optional, both or neither: a connection kept across a save
	 * (docs/xenbus.md "Save and restore").  quiesce lets go of the
	 * guest's pages (in-flight work done, every grant unmapped) but keeps
	 * what resume needs; resume serves again, after quiesce or after load
	 * gave the device a saved connection, and may write the connect-time
	 * keys again through be.  Without them a quiesce disconnects and a
	 * resume connects from the frontend's keys.  quiesce returns 0, or
	 * -errno when in-flight work did not finish or did not reach the
	 * medium: a save must not go on (it would lose what the guest was
	 * told is done). */
	int (*quiesce)(void *dev);
	int (*resume)(void *dev, const struct xb_writer *be, char *why, size_t wl);
	/* Optional: the device's part of the saved state, written only for a
	 * quiesced connection: its length (<= len), or -errno.  load takes it
	 * back in a new instance: 0, or -EINVAL for bytes it refuses. */
	int (*save)(void *dev, uint8_t *buf, size_t len);
	int (*load)(void *dev, const uint8_t *buf, size_t len);
};

/* The binding's side: the backend's own directory, the frontend's, and the
 * error node.  Writes through be_keys are done by the binding in one
 * transaction per op call (it commits after the op returned 0). */
struct xb_io {
	void *ctx;
	int (*set_state)(void *ctx, enum xenbus_state s);
	/* error/backend/<type>/<domid>/<devid>/error under the backend
	 * domain's home: "<errno> <message>" (xenbus_va_dev_error). */
	int (*set_error)(void *ctx, const char *msg);
	/* The device is gone (online 0 and closed): stop watching. */
	void (*removed)(void *ctx);
	/* Begin and end the multi-key writes of one op (features, connect):
	 * end(ctx, true) aborts.  May be NULL. */
	int (*begin)(void *ctx);
	int (*end)(void *ctx, bool abort);
	struct xb_reader fe_keys;
	struct xb_writer be_keys;
	/* The backend's own keys, for ops->ready (may be unset otherwise). */
	struct xb_reader be_read;
};

struct xb_backend {
	const struct xb_dev_ops *ops;
	void *dev;
	const struct xb_io *io;
	enum xenbus_state state;    /* ours, as last written */
	enum xenbus_state fe_state; /* the frontend's, as last seen */
	bool online;
	bool connected;             /* ops->connect succeeded, no disconnect since */
	bool quiesced;              /* connected, but ops->quiesce let go of the guest */
	bool removed;
	int error;                  /* the last fatal error (negative), 0 if none */
	char why[256];              /* its reason */
};

void xb_init(struct xb_backend *b, const struct xb_dev_ops *ops, void *dev, const struct xb_io *io);

/* The toolstack created the backend directory (state 1, online 1): write
 * the features and go to InitWait (xen_blkbk_probe, then backend_changed's
 * switch to InitWait). */
int xb_created(struct xb_backend *b);
/* The frontend's state node changed; Unknown when it is absent or not a
 * number (xenbus_read_driver_state). */
int xb_frontend_changed(struct xb_backend *b, enum xenbus_state fe);
/* The backend's online or state node changed (the toolstack's hot-unplug
 * writes online 0 and state 5: libxl__initiate_device_generic_remove).
 * state: what the node holds now. */
int xb_backend_changed(struct xb_backend *b, bool online, enum xenbus_state state);

/* The monitor quiesces (save, stop): the device lets go of the guest's
 * pages; xenstore is left as it is, so the frontend sees nothing.  0, or
 * the device's quiesce error (it is quiesced all the same). */
int xb_quiesce(struct xb_backend *b);
/* After a load (or a quiesce): a backend that was Connected connects its
 * device again without a state change; a failure is fatal (Closing). */
int xb_resume(struct xb_backend *b);

/* The saved form (docs/xenbus.md, record XENBUS): 16 bytes. */
#define XB_SAVED_LEN 16u
void xb_save(const struct xb_backend *b, uint8_t out[XB_SAVED_LEN]);
/* -EINVAL for a state outside 0..8 or flags it does not know; b unchanged. */
int xb_load(struct xb_backend *b, const uint8_t in[XB_SAVED_LEN]);
/* The device's part (ops->save), at most XB_DEV_SAVED_MAX bytes: its
 * length, 0 when there is none (not connected, or a device that saves
 * nothing), or -errno. */
#define XB_DEV_SAVED_MAX 2048u
int xb_save_dev(const struct xb_backend *b, uint8_t *buf, size_t len);
/* After xb_load(): give the device its part; the backend is then
 * connected and quiesced, and xb_resume() resumes it without reading the
 * frontend's keys.  -EINVAL when the saved state is not Connected, the
 * device saves nothing, or it refuses the bytes. */
int xb_load_dev(struct xb_backend *b, const uint8_t *buf, size_t len);

const char *xb_state_name(enum xenbus_state s);
/* Parses a state node's value: Unknown for anything but "0".."8". */
enum xenbus_state xb_parse_state(const char *s);

#endif
