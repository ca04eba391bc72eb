/* The XenStore engine: tree, permissions, transactions, watches and quotas.
 *
 * A pure core with no I/O: every call names its caller (a struct xse_client,
 * which carries the domain id) and a transaction id explicitly, and returns 0
 * or a negative errno that maps 1:1 onto Xen's wire errors (xs_wire.h
 * xsd_errors).  Watch events leave the engine through the client's callback.
 * Semantics follow Xen 4.17's C xenstored (tools/xenstore/xenstored_*.c) and
 * docs/misc/xenstore.txt; where a function mirrors a specific Xen rule, its
 * comment names the Xen function.
 *
 * Pointers the engine returns (values, child lists) point into its own nodes
 * and stay valid only until the next call that changes the store. */
#ifndef XSE_ENGINE_H
#define XSE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htab.h"

/* Xen's XS_PERM_* bits (xenstore_lib.h); only the four access bits travel
 * on the wire. */
#define XSE_PERM_NONE 0x00
#define XSE_PERM_READ 0x01
#define XSE_PERM_WRITE 0x02
#define XSE_PERM_OWNER 0x08
/* An ACL entry for a domain that has gone: kept (GET_PERMS still lists it)
 * but no longer grants anything, so a new domain reusing the domid does not
 * inherit it (Xen's XS_PERM_IGNORE, xenstored_domain.c
 * domain_adjust_node_perms). */
#define XSE_PERM_IGNORE 0x10

#define XSE_NO_GENERATION UINT64_MAX
#define XSE_DOMID_COUNT 65536u
/* Xen's DOMID_SELF (xen/xen.h) is reported as introduced. */
#define XSE_DOMID_SELF 0x7FF0u

struct xse_perm {
	uint32_t id;
	uint32_t perms;
};

/* Xen 4.17 defaults: tools/xenstore/xenstored_core.c quota_* variables. */
enum xse_quota {
	XSE_Q_NODES,	     /* nodes owned per domain: 1000 */
	XSE_Q_WATCHES,	     /* watches per domain: 128 */
	XSE_Q_TRANSACTIONS,  /* open transactions per connection: 10 */
	XSE_Q_OUTSTANDING,   /* queued replies per domain connection: 20 */
	XSE_Q_TRANS_NODES,   /* nodes touched per transaction: 1024 */
	XSE_Q_MEMORY,	     /* bytes charged per domain, hard limit: 2.5 MiB */
	XSE_Q_NODE_SIZE,     /* bytes per node record: 2048 */
	XSE_Q_PATH_MAX,	     /* path length below /local/domain/N: 2048 */
	XSE_Q_PERMISSIONS,   /* permissions per node: 5 */
	XSE_Q_COUNT
};

struct xse_quota_desc {
	const char *name;
	int defval;
	const char *descr;
};
extern const struct xse_quota_desc xse_quota_table[XSE_Q_COUNT];
int xse_quota_by_name(const char *name);

struct xse_node {
	struct htab_ent he; /* key: full path, owned by the node */
	uint64_t gen;
	char *value;
	uint32_t vlen;
	uint32_t nperms;
	struct xse_perm *perms; /* perms[0].id is the owner */
	char *children;		/* NUL-separated child names, insertion order */
	uint32_t clen;
	/* Memory this node object is charged, and to which domain (Xen's
	 * node->acc): kept so a refund is exactly what was charged, whatever
	 * changed in between (owner, size).  0: not charged. */
	uint32_t acct;
	uint32_t acct_dom;
};

struct xse_watch {
	struct xse_watch *next;
	char *path;	   /* canonical (absolute or @special) */
	char *token;
	size_t rel_skip; /* bytes to strip from event paths; 0 if absolute */
	/* Registered naming an old id of its domain (alias.c): path is the
	 * real one, alias_old the id the guest named (0: none) at offset
	 * alias_at, given back in event paths. */
	uint32_t alias_old;
	size_t alias_at;
};

struct xse_txn;
struct xse_client;

/* Called for each watch event; the transport queues it on its connection. */
typedef void (*xse_event_fn)(struct xse_client *c, const char *path, const char *token);

struct xse_client {
	struct xse_client *next, *prev; /* engine's list of clients */
	struct xse_engine *eng;
	uint32_t domid;
	struct xse_watch *watches;
	unsigned nwatches;
	struct xse_txn *txns;
	unsigned ntxns;
	uint32_t next_txid;
	/* Ids below this that are not open were open when the daemon last
	 * stopped (0: none).  They come back as transactions that can only be
	 * aborted or fail to commit with EAGAIN (see txn.c). */
	uint32_t lost_txid_below;
	xse_event_fn event;
	void *opaque; /* the transport's connection */
};

/* Old ids one domain answers to, at most (alias.c): each restore under a
 * new id adds one, and a guest restored more than this many times under
 * new ids without a reboot is refused (by then it has been saved as often,
 * and its file can still be restored under its own id when that is free). */
#define XSE_ALIAS_MAX 4

struct xse_domain {
	bool introduced;
	uint8_t nalias;
	uint16_t alias[XSE_ALIAS_MAX]; /* old ids, see XSE_ALIAS_MAX */
	bool has_target;
	uint32_t target;
	uint32_t nodes;	  /* nodes owned */
	uint32_t watches; /* watches of all its connections */
	uint64_t gen;	  /* generation when introduced */
	/* Bytes charged (Xen's domain->memory, see domain.c) and the state of
	 * the quota messages (soft_quota_reported, hard_quota_reported,
	 * mem_last_msg). */
	int64_t memory;
	bool soft_reported, hard_reported;
	int64_t mem_last_msg;
};

/* Crossings of a domain's memory quotas, for the log (Xen's syslog lines
 * in xenstored_domain.c domain_chk_quota). */
enum xse_mem_note {
	XSE_MEM_HARD_HIT,   /* reached the hard quota: its ring is not read */
	XSE_MEM_HARD_CLEAR, /* below the hard quota again */
	XSE_MEM_SOFT_HIT,   /* reached the soft quota */
	XSE_MEM_SOFT_CLEAR, /* below the soft quota again */
};

struct xse_engine {
	struct htab nodes;
	uint64_t gen;
	int quota[XSE_Q_COUNT];
	int soft_memory; /* soft memory quota (xenstore-control quota-soft) */
	bool keep_orphans;
	/* Per-domain memory has been counted from the store (see
	 * xse_mem_rebuild). */
	bool mem_counted;
	struct xse_domain *doms; /* XSE_DOMID_COUNT entries */
	struct xse_client *clients;
	/* Permissions of the special watch paths (xenstored_domain.c). */
	struct xse_perm *intro_perms, *release_perms;
	uint32_t n_intro_perms, n_release_perms;
	/* Called by xse_release before the domain's nodes go, so the daemon
	 * closes that domain's connections first (as Xen frees the connection
	 * before the domain).  May be NULL. */
	void (*domain_gone)(struct xse_engine *eng, uint32_t domid, void *opaque);
	/* Durable-state hooks (persist.c journals through them); may be NULL.
	 * node_changed: a global node was written (n) or deleted (n NULL).
	 * meta_changed: domains, targets, special permissions or quotas. */
	void (*node_changed)(struct xse_engine *eng, const char *path, const struct xse_node *n,
			     void *opaque);
	void (*meta_changed)(struct xse_engine *eng, void *opaque);
	/* A domain crossed a memory quota with `mem` bytes (charged, or asked
	 * for by a write that is refused); the transport logs it.  May be
	 * NULL. */
	void (*mem_notice)(struct xse_engine *eng, uint32_t domid, enum xse_mem_note what,
			   int64_t mem, void *opaque);
	void *hook_opaque;
};

int xse_init(struct xse_engine *eng);
void xse_dispose(struct xse_engine *eng);

void xse_client_init(struct xse_engine *eng, struct xse_client *c, uint32_t domid,
		     xse_event_fn event, void *opaque);
void xse_client_dispose(struct xse_client *c);

bool xse_privileged(const struct xse_client *c);

/* Path helpers (xenstored_core.c canonicalize, is_valid_nodename). */
int xse_canonicalize(const struct xse_client *c, const char *in, char *out, size_t outsz);
bool xse_valid_path(const struct xse_engine *eng, const char *path);
/* The shape of a stored path, whatever the quotas are now: absolute,
 * Xen's characters, no empty component, at most XENSTORE_PAYLOAD_MAX. */
bool xse_path_shape_ok(const char *path);

/* Requests.  `path` may be relative; it is canonicalised for c's domain. */
int xse_read(struct xse_client *c, uint32_t txid, const char *path, const char **val,
	     uint32_t *len);
int xse_write(struct xse_client *c, uint32_t txid, const char *path, const void *val,
	      uint32_t len);
int xse_mkdir(struct xse_client *c, uint32_t txid, const char *path);
int xse_rm(struct xse_client *c, uint32_t txid, const char *path);
int xse_directory(struct xse_client *c, uint32_t txid, const char *path, const char **kids,
		  uint32_t *len, uint64_t *gen);
int xse_get_perms(struct xse_client *c, uint32_t txid, const char *path,
		  const struct xse_perm **perms, uint32_t *n);
int xse_set_perms(struct xse_client *c, uint32_t txid, const char *path,
		  const struct xse_perm *perms, uint32_t n);

int xse_watch(struct xse_client *c, const char *path, const char *token);
void xse_watch_initial(struct xse_client *c); /* event for the newest watch */
int xse_unwatch(struct xse_client *c, const char *path, const char *token);
void xse_reset_watches(struct xse_client *c);

int xse_txn_start(struct xse_client *c, uint32_t txid, uint32_t *ret_id);
int xse_txn_end(struct xse_client *c, uint32_t txid, bool commit);
/* 0 if txid is 0 or names an open transaction of c (one lost in a restart
 * comes back, see txn.c), else -ENOENT. */
int xse_txn_check(struct xse_client *c, uint32_t txid);

int xse_introduce(struct xse_engine *eng, uint32_t domid);
int xse_release(struct xse_engine *eng, uint32_t domid);
int xse_resume(struct xse_engine *eng, uint32_t domid);
bool xse_is_introduced(const struct xse_engine *eng, uint32_t domid);
int xse_set_target(struct xse_engine *eng, uint32_t domid, uint32_t target);

/* Raw access for persistence and tests: no permission checks. */
struct xse_node *xse_lookup(struct xse_engine *eng, const char *path);
int xse_put_raw(struct xse_engine *eng, const char *path, const void *val, uint32_t vlen,
		const struct xse_perm *perms, uint32_t nperms);
int xse_add_watch_raw(struct xse_client *c, const char *path, const char *token,
		      size_t rel_skip);
/* A watch restored from a file is one xse_watch could have made for a
 * client of domid (path canonical or special, relative ones below the
 * domain's home, path and token fitting a message): NULL, or why not. */
const char *xse_watch_check(uint32_t domid, const char *path, const char *token, size_t rel);

/* Count of nodes in the store (for tests and `quota`). */
size_t xse_node_count(const struct xse_engine *eng);

/* Per-domain memory (Xen 4.17's accounting, see domain.c for what is
 * charged).  xse_mem_add charges (delta > 0) or refunds bytes; with `check`
 * it fails with -ENOMEM instead if the domain is unprivileged and would
 * reach the hard quota (Xen's domain_memory_add_chk).  The transports
 * charge their queued output through it. */
int xse_mem_add(struct xse_engine *eng, uint32_t domid, int64_t delta, bool check);
/* An unprivileged domain at or over its hard quota: its requests are not
 * read (Xen's domain_can_read). */
bool xse_mem_over_hard(const struct xse_engine *eng, uint32_t domid);
/* What the engine should have charged domid, recomputed from the store,
 * the watches and the transactions (not the transports' queued output):
 * for tests of the accounting. */
int64_t xse_mem_expected(const struct xse_engine *eng, uint32_t domid);
/* Count every domain's memory again from the store, the watches and the
 * transactions, for a store loaded behind the engine's back (persist.c).
 * Runs by itself when the first client attaches; call it only while no
 * transport holds charged output. */
void xse_mem_rebuild(struct xse_engine *eng);

/* ---- One domain's state, moved (migrate.c; docs/xenstored.md, "Export
 * and import"). ---- */

/* Calls fn for /local/domain/<domid> and every node under it, parents
 * before children, children in the order their parent lists them; stops at
 * the first non-zero return and returns it.  0 if there is no such node. */
int xse_walk_home(struct xse_engine *eng, uint32_t domid,
		  int (*fn)(void *arg, const struct xse_node *n), void *arg);
/* Rewrites a path naming domain `from` to name `to`: the home prefix
 * /local/domain/<from>, and with `backends` libxl's backend layout
 * /local/domain/<be>/backend/<type>/<from>.  Returns 1 if rewritten, 0 if
 * copied unchanged, -ENAMETOOLONG if out is too small. */
int xse_rewrite_domid(const char *in, uint32_t from, uint32_t to, bool backends, char *out,
		      size_t outsz);

struct xse_import_node {
	const char *path; /* absolute, already naming the new domain */
	const void *val;
	uint32_t vlen;
	const struct xse_perm *perms; /* perms[0] is the owner */
	uint32_t nperms;
};
/* Puts v[0..n) in as /local/domain/<domid> and its subtree, all or nothing.
 * v[0] must be the home, which must not exist; every other node must be
 * below it and come after its parent.  Each node is checked as a fresh
 * request from its owner would be (path, permissions, node size, and the
 * domain's node and memory quotas).  On success the nodes are journalled
 * and watches fire as for a write of each, except `quiet`'s (the imported
 * connection: its guest made no change).  On failure nothing changed, *bad
 * is the index of the node refused and *why says why (NULL: no memory). */
int xse_import_home(struct xse_engine *eng, uint32_t domid, const struct xse_import_node *v,
		    size_t n, struct xse_client *quiet, size_t *bad, const char **why);
/* The ids of c's open transactions, oldest first; returns how many there
 * are (only the first `max` stored). */
unsigned xse_txn_ids(const struct xse_client *c, uint32_t *ids, unsigned max);
/* Gives c back an open transaction `id` it held elsewhere, as a lost one
 * (its commit fails with EAGAIN, see txn.c).  -EINVAL for 0 or an id c
 * holds, -ENOSPC over the transaction quota. */
int xse_txn_restore(struct xse_client *c, uint32_t id);

/* ---- Old ids of a restored domain (alias.c; docs/xenstored.md, "A new
 * id"). ---- */

/* Sets domid's old ids (replacing any): each a guest's id (1..0x7fef), not
 * domid, listed once (-EINVAL), at most XSE_ALIAS_MAX (-ENOSPC).  The
 * domain's own requests naming /local/domain/<be>/backend/<type>/<old>[/...]
 * are then served at .../<domid>[/...], and a watch set that way gets its
 * events in the old form.  Journalled (meta). */
int xse_alias_set(struct xse_engine *eng, uint32_t domid, const uint32_t *old, unsigned n);
/* xse_alias_set's checks alone. */
int xse_alias_check(uint32_t domid, const uint32_t *old, unsigned n);
/* domid's old ids into old[XSE_ALIAS_MAX]; returns how many. */
unsigned xse_alias_get(const struct xse_engine *eng, uint32_t domid, uint32_t *old);
/* The old ids of a domain that had old[0..n) as id `from` and comes back
 * as `to`: those and `from`, but `to` itself, each once.  -ENOSPC if more
 * than XSE_ALIAS_MAX. */
int xse_alias_compose(const uint32_t *old, unsigned n, uint32_t from, uint32_t to,
		      uint32_t *out, unsigned *nout);
/* A watch's path as its client gave it (the old id back, if it named
 * one), absolute. */
int xse_watch_given(uint32_t domid, const struct xse_watch *w, char *out,
		    size_t sz);

/* Tell the durable-state hook that meta data changed (quotas set by
 * xenstore-control go through here). */
void xse_meta_changed(struct xse_engine *eng);

#endif
