/* A xenbus back end bound to XenStore through libxenstore (docs/xenbus.md):
 * one instance watches its backend directory
 * /local/domain/0/backend/<kind>/<domid>/<devid> and its frontend's state
 * node on the monitor's event loop, and runs the state machine of
 * xb_core.h over them.  It is a device of the monitor's device table
 * (vmm/dev.h): XB_XS_DEV_OPS(kind) gives its dev_ops.
 *
 * Threading: created and freed by main while the loop does not run; start,
 * quiesce, save and load run where the device table runs them (dev.h); the
 * watch handler runs on the loop thread.  libxenstore's own reader thread
 * only queues watch events for us (xs_fileno, xs_check_watch). */
#ifndef DOMUS_VMM_XENBUS_XB_XS_H
#define DOMUS_VMM_XENBUS_XB_XS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xb_core.h"

struct evl;
struct stream_writer;
struct stream_reader;
struct xb_xs;

/* Connects to xenstored (libxenstore's socket: XENSTORED_PATH or its
 * default).  The instance owns dev from then on, also on failure, and
 * releases it with dev_free.  kind: the backend directory ("vbd"). */
int xb_xs_create(struct evl *loop, const char *kind, uint32_t domid, uint32_t devid, const struct xb_dev_ops *ops,
		 void *dev, void (*dev_free)(void *dev), struct xb_xs **out);
/* Reads the backend's frontend path, watches both sides and runs the state
 * machine: a fresh backend writes its features and goes to InitWait; a
 * loaded one reconnects its device and keeps its state. */
int xb_xs_start(void *inst);
/* xenstored restarted (its old connection is dead, its watches with it):
 * a new connection, the watches set again.  Their first firing gives the
 * state machine the states it missed meanwhile. */
int xb_xs_reconnect(void *inst);
/* Stops watching; the device lets go of the guest's pages: 0 or its
 * quiesce error (xb_quiesce). */
int xb_xs_quiesce(void *inst);
/* Record XENBUS: u32 devid (xb_xs_rec_id), u32 the length of the device's part, then
 * xb_save()'s 16 bytes, then the device's part (xb_save_dev). */
int xb_xs_save(void *inst, struct stream_writer *w);
int xb_xs_load(void *inst, struct stream_reader *r);
void xb_xs_free(void *inst);
/* The XENBUS record's payload, as a restore kept it before the devices
 * existed (vmm/restore.c): its devid (the payload is at least
 * XB_XS_REC_HDR bytes), whether its framing holds, and loading it into an
 * instance (-EINVAL: another device's, a state out of range, or a device
 * part the device refuses). */
#define XB_XS_REC_HDR (8u + XB_SAVED_LEN)
/* The record's first word: the devid, with bit 31 set for a vif so that
 * a vif and a disk of the same number keep apart. */
#define XB_XS_REC_VIF 0x80000000u
uint32_t xb_xs_rec_id(const char *kind, uint32_t devid);
#define XB_XS_REC_MAX (XB_XS_REC_HDR + XB_DEV_SAVED_MAX)
uint32_t xb_xs_rec_devid(const uint8_t *rec);
bool xb_xs_rec_ok(const uint8_t *rec, size_t len);
int xb_xs_load_rec(struct xb_xs *x, const uint8_t *rec, size_t len);

/* The state machine, for tests and diagnostics. */
const struct xb_backend *xb_xs_core(const struct xb_xs *x);

#define XB_XS_DEV_OPS(kind_)                                                                        \
	{                                                                                           \
		.kind = (kind_), .start = xb_xs_start, .quiesce = xb_xs_quiesce, .save = xb_xs_save, \
		.load = xb_xs_load, .stop = xb_xs_free, .reconnect = xb_xs_reconnect                \
	}

#endif
