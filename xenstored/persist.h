/* State that outlives the process (docs/xenstored.md, "Restart"). */
#ifndef XSD_PERSIST_H
#define XSD_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct xsd;
struct conn;
struct persist;

/* Load the saved state of `dir` into d->eng and open the journal.  A
 * snapshot that is not whole and valid is refused; a journal is replayed up
 * to its end or its first bad record.  err gets one line naming the file and
 * the offset of a record refused (or ending the replay: then 0 is returned
 * with err set, a warning for the caller to log). */
int persist_open(struct xsd *d, const char *dir, struct persist **ret, char *err, size_t errsz);
void persist_close(struct persist *p);
/* After each request (body: its payload; reply_type: the reply's type,
 * XS_ERROR if it failed): journal what it changed (buffered). */
void persist_note_request(struct persist *p, struct conn *c, const struct xsd_sockmsg *hdr,
			  const char *body, uint32_t reply_type);
/* Write buffered journal records; called before replies are sent. */
int persist_flush(struct persist *p);
/* Give a guest's reconnected ring what it had before a restart or a
 * detach: watches, a half-received request, replies not yet delivered. */
struct xse_client;
/* -EPROTO: the partial request kept for it is one a fresh connection
 * would have refused (conn_restore_input); the caller ignores the ring. */
int persist_restore_ring(struct persist *p, struct conn *c);
/* Journal a guest connection's watches and next transaction id (an
 * imported one, domxfer.c). */
void persist_conn(struct persist *p, const struct xse_client *c);
/* Journal a guest ring's (new) list of watches. */
void persist_watches(struct persist *p, const struct xse_client *c);
/* Keep a detached ring's watches for its return; forget a released domain. */
void persist_stash_ring(struct persist *p, struct conn *c);
void persist_forget_domain(struct persist *p, uint32_t domid);
/* Full snapshot (on SIGTERM, and when the journal grows).  A snapshot of
 * generation N+1 replaces N's and its journal in these steps; a kill or
 * power cut after any of them leaves the state before the snapshot (up
 * to PS_TMP_SYNCED) or after it (from PS_RENAMED on), never a mix. */
int persist_snapshot(struct persist *p);

enum persist_step {
	PS_TMP_SYNCED,	    /* written and synced under a temporary name */
	PS_RENAMED,	    /* renamed over the old snapshot: the state */
	PS_DIR_SYNCED,	    /* the rename is on disk */
	PS_JOURNAL_EMPTIED, /* the old journal's records are gone (zeros) */
	PS_JOURNAL_STARTED, /* the journal's header names generation N+1 */
	PS_STEP_COUNT
};

/* Called after each step of a snapshot; a nonzero return stops it there
 * (persist_snapshot returns -EINTR), as a kill would: tests see what each
 * point leaves on disk. */
struct persist_seam {
	int (*after)(void *opaque, enum persist_step step);
	void *opaque;
};

/* seam: NULL (the default) or one that outlives p. */
void persist_set_seam(struct persist *p, const struct persist_seam *seam);

#endif
