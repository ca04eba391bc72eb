/* The data path of one virtual block device: one blkif ring served from
 * granted pages into a backing store, as Linux's blkback
 * (drivers/block/xen-blkback/blkback.c) and QEMU's xen-block dataplane
 * (hw/block/dataplane/xen-block.c) do.  No xenstore here: the vbd device
 * reads the frontend's nodes (ring-ref*, ring-page-order, protocol,
 * event-channel), advertises the features it passes in the config, and
 * wires the instance to the event loop (docs/blkback.md).
 *
 * Threading: one thread (the monitor's event loop) calls everything; the
 * grant ops take the grant table's lock themselves.
 *
 * Guest input is hostile: each request is copied out of the ring once and
 * checked; a bad request fails with BLKIF_RSP_ERROR (or _EOPNOTSUPP for an
 * operation not offered) and the ring goes on; a bogus req_prod closes the
 * ring (blkback_stats().closed), nothing else. */
#ifndef DOMUS_VMM_BLK_BLKBACK_H
#define DOMUS_VMM_BLK_BLKBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "blk/blk_engine.h"
#include "blk/blk_gnt.h"
#include "blk/blk_ring.h"

/* Linux blkback's MAX_INDIRECT_SEGMENTS (common.h): what it advertises as
 * feature-max-indirect-segments; 256 segments fit in one indirect page. */
#define BLKBACK_MAX_INDIRECT_SEGS 256
/* Requests in flight per ring: bounds what one ring holds of the monitor
 * (segment tables, io_uring depth, grant holds: 128 x 256 pages at most). */
#define BLKBACK_MAX_INFLIGHT 128
#define BLKBACK_DEFAULT_INFLIGHT 64

/* Optional operations, as the vbd advertised them. */
enum {
	BLKBACK_F_FLUSH = 1,   /* feature-flush-cache: BLKIF_OP_FLUSH_DISKCACHE */
	BLKBACK_F_BARRIER = 2, /* feature-barrier: BLKIF_OP_WRITE_BARRIER */
	BLKBACK_F_DISCARD = 4, /* feature-discard: BLKIF_OP_DISCARD (needs backend.discard) */
};

/* The ring positions: with the grant refs, all a restore needs to serve the
 * same ring without a reconnect.  Saved quiesced, so req_cons == rsp_prod_pvt. */
struct blkback_pos {
	uint32_t req_cons, rsp_prod_pvt;
};

/* Makes the engine: depth is the in-flight cap, arg the config's. */
typedef int blkback_engine_fn(const struct blk_backend *be, unsigned depth, void *arg, struct blk_engine *out);
blkback_engine_fn blkback_engine_uring; /* the monitor's */
blkback_engine_fn blkback_engine_sync;  /* blocks the caller: fuzzer and tests */

struct blkback_config {
	const char *protocol;       /* the frontend's "protocol" node, NULL if absent */
	unsigned ring_order;        /* ring-page-order, <= BLK_MAX_RING_ORDER */
	const uint32_t *ring_refs;  /* 1 << ring_order grant refs */
	unsigned features;          /* BLKBACK_F_* */
	unsigned max_indirect_segs; /* 0: no BLKIF_OP_INDIRECT; else <= BLKBACK_MAX_INDIRECT_SEGS */
	unsigned max_inflight;      /* 0: BLKBACK_DEFAULT_INFLIGHT; capped by the ring's size */
	struct blk_backend backend;
	struct blk_gnt gnt;
	blkback_engine_fn *engine;  /* NULL: blkback_engine_uring */
	void *engine_arg;
	const struct blkback_pos *pos; /* NULL: a fresh ring (0, 0) */
	void (*notify)(void *ctx);  /* send the ring's event channel */
	void *notify_ctx;
};

struct blkback_stats {
	uint64_t requests, errors, unsupported;
	/* Where the time goes: the frontend's notifications, engine
	 * wake-ups, and ours to it (one each costs the guest an exit). */
	uint64_t kicks, io_wakeups, notifies;
	unsigned inflight;
	bool closed; /* a bogus req_prod: nothing more is consumed */
	bool quiesced;
};

struct blkback;

/* Check the config, map the ring (read-write), start the engine.
 * -EPROTONOSUPPORT: a protocol other than x86_64-abi; -EINVAL: a bad order,
 * limit or backend; a grant error when a ring ref cannot be mapped.  The
 * instance serves from the first blkback_kick(). */
int blkback_create(const struct blkback_config *cfg, struct blkback **out);
/* Free everything, quiescing first if needed (NULL: nothing). */
void blkback_destroy(struct blkback *b);

/* The engine's descriptor for the event loop (readable: call on_io), or -1. */
int blkback_io_fd(const struct blkback *b);
/* The frontend notified the ring: consume what it pushed. */
void blkback_kick(struct blkback *b);
/* The engine has completions: respond, then consume what waited. */
void blkback_on_io(struct blkback *b);

/* Take no more requests, finish every one in flight (waiting for the
 * engine), push their responses, release every grant mapping including the
 * ring's.  0, or the engine's error (then mappings of unfinished requests
 * stay held: their pages are still under I/O). */
int blkback_quiesce(struct blkback *b);
/* Map the ring again and serve from where it stopped (after a save that
 * goes on, or a load). */
int blkback_resume(struct blkback *b);
/* Positions of a quiesced ring (-EBUSY otherwise). */
int blkback_save(const struct blkback *b, struct blkback_pos *pos);
/* Set the positions of a quiesced instance, to serve from them once
 * blkback_resume() maps the ring: -EBUSY unless quiesced; -EINVAL for
 * positions no quiesced ring has. */
int blkback_load(struct blkback *b, const struct blkback_pos *pos);

struct blkback_stats blkback_stats(const struct blkback *b);

#endif
