/* Internals of persist.c and persist_rec.c (the record codec). */
#ifndef XSD_PERSIST_INT_H
#define XSD_PERSIST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

#define MAGIC "DXS1"
#define JOURNAL_MAX (16u << 20) /* the journal's mapped size; full: snapshot */

enum rec_type { R_NODE = 1, R_DEL, R_META, R_WATCHES, R_RINGIO, R_TXID };

/* A guest connection's bytes in flight: a half-received request and the
 * replies not yet in its ring.  rsp_prod is the ring's response index when
 * they were recorded, so bytes that reached the ring after the record can
 * be skipped when the ring comes back. */
struct saved_io {
	struct saved_io *next;
	uint32_t domid, rsp_prod;
	char *in, *out;
	uint32_t inlen, outlen;
};

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
	struct saved_watch *saved; /* of rings not (re)connected yet */
	struct saved_io *saved_io;
	struct saved_txid *saved_txid;
};

struct rd {
	const char *p;
	size_t left;
	bool bad;
};

void put(struct buf *b, const void *p, size_t n);
void enc_node(struct buf *b, const char *path, const struct xse_node *n);
void enc_meta(struct buf *b, const struct xse_engine *eng);
void enc_watches(struct buf *b, uint32_t domid, const struct xse_watch *w,
		 const struct saved_watch *s);
void enc_ringio(struct buf *b, struct conn *c);
void enc_txid(struct buf *b, uint32_t domid, uint32_t next_txid);
int apply_txid(struct persist *p, struct rd *r);
int save_txid(struct persist *p, uint32_t domid, uint32_t next_txid);
void drop_txid(struct persist *p, uint32_t domid);
int apply_ringio(struct persist *p, struct rd *r);
void drop_saved(struct persist *p, uint32_t domid);
void drop_io(struct persist *p, uint32_t domid);
int load_file(struct persist *p, const char *path);
void check_tree(struct xse_engine *eng);

#endif
