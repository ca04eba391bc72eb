/* Internals of persist.c and persist_rec.c (the record codec). */
#ifndef XSD_PERSIST_INT_H
#define XSD_PERSIST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "persist.h"

/* Version 3 files start with "DXS3" and a u64 generation: a snapshot's
 * says which one it is, a journal's which snapshot it continues.  A journal
 * is replayed only over the snapshot of its generation: one of another is
 * what a snapshot cut short by a kill left beside the snapshot that
 * replaced it, which was written from a live state holding all of it.
 * Version 2 ("DXS2") and 1 ("DXS1") files have no generation and still
 * load: such a journal replays over such a snapshot (or none), as before.
 * Version 2 adds R_NODE_J, and its journal names a node's children only
 * through its children's own records; version 3 is version 2 with the
 * generation. */
#define MAGIC "DXS3"
#define MAGIC_V2 "DXS2"
#define MAGIC_V1 "DXS1"
#define HDR_LEN 12 /* a version 3 file's magic and generation */
#define JOURNAL_MAX (16u << 20) /* the journal's mapped size; full: snapshot */

/* Records that set a whole piece of state (node, meta, a guest's watch
 * list, its bytes in flight, its next transaction id), and the journal's
 * deltas, each costing what the request that caused it carried:
 * R_WATCH_ADD/R_WATCH_DEL one watch; R_RING_IN a guest's partial request
 * (at most one message); R_RING_OUT output queued since the last round;
 * R_RING_DONE how many bytes of it reached the ring (R_RINGIO and
 * R_RING_IN end with the request ring's index the input reached, absent in
 * records written before; R_RING_IN is written whenever it moved, so the
 * journal of a round says how far each guest's ring was read); R_NODE_J a node's
 * value and permissions without its child list (a new node is added at
 * the end of its parent's list, which must be there already; R_DEL takes
 * it out: the parent's list is never journalled, so a WRITE under a
 * directory of N children costs what it costs under one).  R_NODE (with
 * the child list) is the snapshot's. */
enum rec_type {
	R_NODE = 1, R_DEL, R_META, R_WATCHES, R_RINGIO, R_TXID,
	R_WATCH_ADD, R_WATCH_DEL, R_RING_IN, R_RING_OUT, R_RING_DONE,
	R_NODE_J,
	R_TYPE_END
};


/* Output kept for one guest, at most (a guest's is bounded by its memory
 * quota, 2.5 MiB by default; a file asking for more is refused). */
#define SAVED_OUT_MAX (64u << 20)

/* A guest connection's bytes in flight: a half-received request and the
 * replies not yet in its ring.  rsp_prod is the ring's response index at
 * which out[outoff] goes, so bytes that reached the ring after the record
 * can be skipped when the ring comes back.  req_cons (if has_cons) is the
 * request ring's index the input reached: bytes before it are accounted
 * for (processed, or in `in`) even if the ring's own req_cons lags (a
 * daemon killed between its journal write and publishing req_cons).  A
 * record written before it existed has none: the ring's index stands. */
struct saved_io {
	struct saved_io *next;
	uint32_t domid, rsp_prod, req_cons;
	bool has_cons;
	char *in, *out;
	uint32_t inlen, outlen, outoff, outcap;
};

/* Watches of rings not (re)connected yet, in the order they were set
 * (a list with a tail: appended in O(1)). */
struct saved_watch {
	struct saved_watch *next;
	uint32_t domid;
	uint32_t rel;
	char *path, *token;
};

/* A guest's next transaction id: after a restart the ids below it are
 * the guest's lost transactions (txn.c), and new ones do not reuse them. */
struct saved_txid {
	struct saved_txid *next;
	uint32_t domid, next_txid;
};

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

struct persist {
	struct xsd *d;
	char state[4096], tmp[4096 + 8], journal[4096 + 8];
	int jfd;
	char *jmap;  /* JOURNAL_MAX bytes of the journal file */
	size_t jend; /* where the next record goes */
	struct buf jbuf;
	struct saved_watch *saved, **saved_tail; /* of rings not (re)connected yet */
	struct saved_io *saved_io;
	struct saved_txid *saved_txid;
	/* The generation of the snapshot in place, which the journal
	 * continues (has_gen false: a version 1 or 2 snapshot, or none). */
	uint64_t gen;
	bool has_gen;
	const struct persist_seam *seam; /* NULL but in tests */
	char dir[4096];
	/* While a file loads: its version (1 to 3), whether it is the
	 * journal. */
	int ver;
	bool in_journal;
};

struct rd {
	const char *p;
	size_t left;
	bool bad;
	const char *why; /* what was wrong, for the error line */
};

void put(struct buf *b, const void *p, size_t n);
void enc_node(struct buf *b, const char *path, const struct xse_node *n);
/* The journal's record of a node written (R_NODE_J) or removed (R_DEL). */
void enc_node_journal(struct buf *b, const char *path, const struct xse_node *n);
void enc_meta(struct buf *b, const struct xse_engine *eng);
void enc_watches(struct buf *b, uint32_t domid, const struct xse_watch *w,
		 const struct saved_watch *s);
void enc_ringio(struct buf *b, struct conn *c);
void enc_ringio_saved(struct buf *b, const struct saved_io *io);
void enc_watch_one(struct buf *b, enum rec_type type, uint32_t domid, uint32_t rel,
		   const char *path, const char *token);
void enc_ring_deltas(struct buf *b, struct conn *c);
void journal_synced(struct conn *c);
void enc_txid(struct buf *b, uint32_t domid, uint32_t next_txid);
int apply_txid(struct persist *p, struct rd *r);
int save_txid(struct persist *p, uint32_t domid, uint32_t next_txid);
void drop_txid(struct persist *p, uint32_t domid);
int apply_ringio(struct persist *p, struct rd *r);
void drop_saved(struct persist *p, uint32_t domid);
void drop_io(struct persist *p, uint32_t domid);
/* Apply a state file (journal: false) or the journal (true).  A snapshot
 * must be whole and valid: anything else is refused (-EINVAL).  The journal
 * ends at a zero type word or a torn record; a bad record ends the replay
 * there (what came before is kept).  err: one line naming the file and the
 * record's offset when either happened. */
int load_file(struct persist *p, const char *path, bool journal, char *err, size_t errsz);
void check_tree(struct xse_engine *eng);

#endif
