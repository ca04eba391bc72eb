/* Internals shared by the engine's files (tree.c, txn.c, watch.c, domain.c).
 * Not for transports: they use engine.h only. */
#ifndef XSE_ENGINE_INT_H
#define XSE_ENGINE_INT_H

#include "engine.h"

/* Size Xen 4.17 charges a node against the node-size quota: its TDB record,
 * struct xs_tdb_record_hdr (u64 generation, u32 num_perms, datalen, childlen)
 * plus struct xs_permissions[] (8 bytes each), data and child names
 * (xenstored_core.c write_node_raw). */
#define XSE_NODE_HDR 24u
#define XSE_NODE_SIZE(np, vl, cl) (XSE_NODE_HDR + 8u * (np) + (vl) + (cl))

/* A transaction's private copy of one node it touched. */
struct xse_tentry {
	struct htab_ent he; /* key: path */
	struct xse_tentry *next; /* access order */
	struct xse_node *node;	 /* private copy; NULL if absent */
	uint64_t gen_read;	 /* global generation at first access */
	bool modified, fire, fire_exact;
	/* The transaction made this node: its number in the order the
	 * transaction made nodes (from 1), so the commit journals new nodes
	 * in the order their parents listed them; 0 if not made. */
	uint32_t made;
	struct xse_perm *old_perms; /* perms at first access (watch checks) */
	uint32_t n_old_perms;
};

struct xse_dom_delta {
	uint32_t domid;
	int32_t delta;
};

struct xse_txn {
	struct xse_txn *next;
	uint32_t id;
	struct htab view;
	struct xse_tentry *first, *last;
	unsigned nentries;
	bool fail, created;
	uint32_t nmade; /* nodes made so far (xse_tentry.made) */
	bool lost; /* begun before a restart of the daemon: commits fail */
	/* Length of the "<generation>/" Xen puts before the path of a
	 * transaction's copy of a node (xenstored_transaction.c
	 * transaction_get_node_name): it is part of the copy's charge. */
	uint32_t keypfx;
	struct xse_dom_delta *deltas;
	unsigned ndeltas;
};

/* Where an operation runs: the caller, and its transaction or NULL. */
struct xse_ctx {
	struct xse_engine *eng;
	struct xse_client *c; /* NULL: the daemon itself (privileged) */
	struct xse_txn *t;
};

/* tree.c */
struct xse_node *node_new(const char *path, const void *val, uint32_t vlen,
			  const struct xse_perm *perms, uint32_t nperms);
struct xse_node *node_dup(const struct xse_node *n);
void node_free(struct xse_node *n);
int node_find(struct xse_ctx *x, const char *path, struct xse_node **ret);
void node_touch(struct xse_ctx *x, struct xse_node *n);
unsigned perm_for(const struct xse_ctx *x, const struct xse_perm *p, uint32_t n);
unsigned perm_for_client(const struct xse_engine *eng, const struct xse_client *c,
			 const struct xse_perm *p, uint32_t n);
bool ctx_unprivileged(const struct xse_ctx *x);
int parent_path(const char *path, char *out, size_t outsz);
int rm_node(struct xse_ctx *x, const char *path);
int get_node(struct xse_ctx *x, const char *path, unsigned perm, struct xse_node **ret);
uint32_t node_size(const struct xse_node *n);
bool too_big(const struct xse_ctx *x, uint32_t size);
int add_child(struct xse_node *parent, const char *name);
void remove_child(struct xse_node *parent, const char *name);
int node_insert(struct xse_ctx *x, struct xse_node *n);
void node_unlink(struct xse_ctx *x, struct xse_node *n);
void acct_nodes(struct xse_ctx *x, uint32_t domid, int delta);
void free_node_tree(struct xse_engine *eng);
uint32_t node_charge_size(const struct xse_node *n, uint32_t keypfx);
uint32_t charge_dom(const struct xse_ctx *x, const struct xse_node *n);
void node_charge(struct xse_ctx *x, struct xse_node *n);
void node_uncharge(struct xse_engine *eng, struct xse_node *n);
void node_drop(struct xse_engine *eng, struct xse_node *n);
int mem_check_write(struct xse_ctx *x, uint32_t domid, int64_t delta);
int node_check_rewrite(struct xse_ctx *x, const struct xse_node *n, uint32_t nperms,
		       uint32_t vlen, uint32_t clen, uint32_t owner);
void node_journal(struct xse_engine *eng, const char *path, const struct xse_node *n);

/* txn.c */
struct xse_tentry *txn_entry(struct xse_txn *t, const char *path);
int txn_access(struct xse_ctx *x, const char *path, struct xse_node **ret);
void txn_free(struct xse_engine *eng, struct xse_txn *t);

/* watch.c */
void fire_watches(struct xse_ctx *x, const char *path, bool exact,
		  const struct xse_perm *hint, uint32_t nhint);
void fire_now(struct xse_engine *eng, const char *path, bool exact,
	      const struct xse_perm *hint, uint32_t nhint);
void watches_free(struct xse_client *c);
uint32_t watch_charge(const struct xse_watch *w);

/* alias.c */
struct alias_hit {
	uint32_t old; /* the old id the path named (0: none) */
	size_t at;    /* where the frontend's id starts in the path */
};
size_t backend_fe_at(const char *s, const char *fe);
/* A canonical path of c's own request naming one of its domain's old ids
 * in the back-end layout is rewritten in place to name its id: 1, else 0
 * (path unchanged), -ENAMETOOLONG. */
int alias_apply(const struct xse_engine *eng, const struct xse_client *c, char *path,
		size_t sz, struct alias_hit *hit);
/* The old form of a real path found by alias_apply (an event path below
 * the watch's). */
int alias_back(uint32_t domid, uint32_t old, size_t at, const char *real,
	       char *out, size_t sz);

/* domain.c */
bool mem_chk_quota(struct xse_engine *eng, uint32_t domid, int64_t mem);

#endif
