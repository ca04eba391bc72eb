/* State that outlives the process (docs/xenstored.md, "Restart"). */
#ifndef XSD_PERSIST_H
#define XSD_PERSIST_H

#include <stdint.h>

#include "wire.h"

struct xsd;
struct conn;
struct persist;

/* Load the saved state of `dir` into d->eng and open the journal. */
int persist_open(struct xsd *d, const char *dir, struct persist **ret);
void persist_close(struct persist *p);
/* After each request: journal what it changed (buffered). */
void persist_note_request(struct persist *p, struct conn *c, const struct xsd_sockmsg *hdr);
/* Write buffered journal records; called before replies are sent. */
int persist_flush(struct persist *p);
/* Give a guest's reconnected ring what it had before a restart or a
 * detach: watches, a half-received request, replies not yet delivered. */
struct xse_client;
void persist_restore_ring(struct persist *p, struct conn *c);
/* Journal a guest connection's watches and next transaction id (an
 * imported one, domxfer.c). */
void persist_conn(struct persist *p, const struct xse_client *c);
/* Journal a guest ring's (new) list of watches. */
void persist_watches(struct persist *p, const struct xse_client *c);
/* Keep a detached ring's watches for its return; forget a released domain. */
void persist_stash_ring(struct persist *p, struct conn *c);
void persist_forget_domain(struct persist *p, uint32_t domid);
/* Full snapshot (on SIGTERM, and when the journal grows). */
int persist_snapshot(struct persist *p);

#endif
