/* The node requests of the engine API (READ, WRITE, MKDIR, RM, DIRECTORY,
 * GET_PERMS, SET_PERMS): creation with implicit parents and removal of
 * subtrees as Xen 4.17 does them (xenstored_core.c construct_node,
 * create_node, delnode_sub, rm_node, do_*), on top of tree.c. */
#include "engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

/* The memory quota on creating path below parent (cut: where the new part
 * of the path starts), as Xen checks it writing each node, new ones first
 * (xenstored_core.c create_node): the new nodes are charged to the domain
 * that will own them (a transaction's copies to its caller), then the
 * parent's child list grows by one name.  Every step adds bytes, so the
 * writes all pass exactly when the totals do. */
static int create_mem_check(struct xse_ctx *x, const struct xse_node *parent,
			    const char *path, size_t cut, uint32_t vlen)
{
	uint32_t pfx = x->t ? x->t->keypfx : 0;
	uint32_t owner = ctx_unprivileged(x) ? x->c->domid : parent->perms[0].id;
	uint32_t new_dom = x->t ? x->c->domid : owner, par_dom = charge_dom(x, parent);
	int64_t fresh = 0, grow = (int64_t)strcspn(path + cut, "/") + 1;
	int rc;

	for (size_t at = cut;;) {
		size_t end = at + strcspn(path + at, "/");
		bool last = path[end] == '\0';
		uint32_t kid = last ? 0 : (uint32_t)strcspn(path + end + 1, "/") + 1;

		fresh += XSE_NODE_SIZE(parent->nperms, last ? vlen : 0, kid) + end + pfx;
		if (last)
			break;
		at = end + 1;
	}
	if (new_dom == par_dom)
		return mem_check_write(x, new_dom, fresh + grow);
	rc = mem_check_write(x, new_dom, fresh);
	return rc < 0 ? rc : mem_check_write(x, par_dom, grow);
}

/* Create `path` and any missing ancestors (xenstored_core.c construct_node
 * and create_node): new nodes inherit their parent's permissions, and an
 * unprivileged creator owns them.  All quotas are checked before anything
 * changes, so a failure leaves the store as it was. */
static int create_node(struct xse_ctx *x, const char *path, const void *val, uint32_t vlen)
{
	char anc[XENSTORE_ABS_PATH_MAX + 64];
	struct xse_node *parent = NULL, *n;
	const struct xse_engine *eng = x->eng;
	uint32_t owner_nodes = x->c ? eng->doms[x->c->domid].nodes : 0;
	unsigned levels = 0;
	size_t cut;
	int rc;

	snprintf(anc, sizeof(anc), "%s", path);
	while (!parent) {
		if (strcmp(anc, "/") == 0)
			return -EIO; /* the root always exists */
		rc = parent_path(anc, anc, sizeof(anc));
		if (rc < 0)
			return rc;
		rc = node_find(x, anc, &parent);
		if (rc < 0)
			return rc;
		levels++;
	}
	/* Quotas: `levels` new nodes, each holding one child name except the
	 * last, and the existing parent gains a child name. */
	cut = strlen(anc) + (strcmp(anc, "/") ? 1 : 0);
	/* In a transaction Xen checks the count outside it; the commit checks
	 * the sum (xenstored_transaction.c transaction_fix_domains). */
	if (ctx_unprivileged(x) &&
	    owner_nodes + (x->t ? 1 : levels) > (uint32_t)eng->quota[XSE_Q_NODES])
		return -ENOSPC;
	if (too_big(x, node_size(parent) + (uint32_t)strcspn(path + cut, "/") + 1))
		return -ENOSPC;
	if (too_big(x, XSE_NODE_SIZE(parent->nperms, vlen, 0)))
		return -ENOSPC;
	rc = create_mem_check(x, parent, path, cut, vlen);
	if (rc < 0)
		return rc;
	if (x->t)
		x->t->created = true;

	while (levels--) {
		size_t end = cut + strcspn(path + cut, "/");
		char name[XENSTORE_ABS_PATH_MAX + 64];
		bool last = path[end] == '\0';

		memcpy(name, path, end);
		name[end] = '\0';
		n = node_new(name, last ? val : NULL, last ? vlen : 0, parent->perms,
			     parent->nperms);
		if (!n)
			return -ENOMEM;
		if (ctx_unprivileged(x))
			n->perms[0].id = x->c->domid;
		rc = add_child(parent, name + cut);
		if (rc == 0)
			rc = node_insert(x, n);
		if (rc < 0) {
			node_free(n);
			return rc;
		}
		node_touch(x, parent);
		acct_nodes(x, n->perms[0].id, 1);
		parent = n;
		cut = end + 1;
	}
	return 0;
}

static int txn_lookup_ctx(struct xse_ctx *x, uint32_t txid)
{
	if (txid == 0)
		return 0;
	for (struct xse_txn *t = x->c->txns; t; t = t->next) {
		if (t->id == txid) {
			x->t = t;
			return 0;
		}
	}
	return -ENOENT;
}

/* One request: the caller's context (with its transaction) and the
 * canonical path it names. */
struct req {
	struct xse_ctx x;
	char path[XENSTORE_ABS_PATH_MAX + 64];
};

static int req_init(struct req *q, struct xse_client *c, uint32_t txid, const char *in)
{
	int rc;

	q->x = (struct xse_ctx){ .eng = c->eng, .c = c };
	rc = txn_lookup_ctx(&q->x, txid);
	if (rc == 0)
		rc = in ? xse_canonicalize(c, in, q->path, sizeof(q->path)) : -EINVAL;
	/* An old id of the caller's domain names its own back ends (alias.c):
	 * everything after, permissions included, sees the real path. */
	if (rc == 0 && alias_apply(c->eng, c, q->path, sizeof(q->path), NULL) < 0)
		rc = -EINVAL;
	return rc;
}

/* The node a reading request names, if the caller may read it. */
static int readable_node(struct xse_client *c, uint32_t txid, const char *in,
			 struct xse_node **n)
{
	struct req q;
	int rc = req_init(&q, c, txid, in);

	return rc < 0 ? rc : get_node(&q.x, q.path, XSE_PERM_READ, n);
}

int xse_read(struct xse_client *c, uint32_t txid, const char *in, const char **val,
	     uint32_t *len)
{
	struct xse_node *n;
	int rc = readable_node(c, txid, in, &n);

	if (rc < 0)
		return rc;
	*val = n->value;
	*len = n->vlen;
	return 0;
}

int xse_write(struct xse_client *c, uint32_t txid, const char *in, const void *val,
	      uint32_t vlen)
{
	struct req q;
	struct xse_node *n;
	char *nv;
	int rc;

	rc = req_init(&q, c, txid, in);
	if (rc < 0)
		return rc;
	rc = get_node(&q.x, q.path, XSE_PERM_WRITE, &n);
	if (rc == -ENOENT) {
		rc = create_node(&q.x, q.path, val, vlen);
	} else if (rc == 0) {
		if (too_big(&q.x, XSE_NODE_SIZE(n->nperms, vlen, n->clen)))
			return -ENOSPC;
		rc = node_check_rewrite(&q.x, n, n->nperms, vlen, n->clen, n->perms[0].id);
		if (rc < 0)
			return rc;
		nv = malloc(vlen ? vlen : 1);
		if (!nv)
			return -ENOMEM;
		memcpy(nv, val, vlen);
		free(n->value);
		n->value = nv;
		n->vlen = vlen;
		node_touch(&q.x, n);
	}
	if (rc < 0)
		return rc;
	fire_watches(&q.x, q.path, false, NULL, 0);
	return 0;
}

int xse_mkdir(struct xse_client *c, uint32_t txid, const char *in)
{
	struct req q;
	struct xse_node *n;
	int rc;

	rc = req_init(&q, c, txid, in);
	if (rc < 0)
		return rc;
	rc = get_node(&q.x, q.path, XSE_PERM_WRITE, &n);
	if (rc != -ENOENT)
		return rc; /* exists already (fine), or no permission */
	rc = create_node(&q.x, q.path, NULL, 0);
	if (rc < 0)
		return rc;
	fire_watches(&q.x, q.path, false, NULL, 0);
	return 0;
}

/* Remove a subtree, children first, firing each node's watches while its
 * permissions are still visible (xenstored_core.c delnode_sub). */
static int rm_subtree(struct xse_ctx *x, struct xse_node *n, bool top)
{
	char child[XENSTORE_ABS_PATH_MAX + 64];
	struct xse_node *k;
	int rc;

	for (uint32_t off = 0; off < n->clen; off += (uint32_t)strlen(n->children + off) + 1) {
		int len = snprintf(child, sizeof(child), "%s/%s",
				   strcmp(n->he.key, "/") ? n->he.key : "", n->children + off);

		if (len < 0 || (size_t)len >= sizeof(child))
			continue;
		rc = node_find(x, child, &k);
		if (rc < 0)
			return rc;
		if (k) {
			rc = rm_subtree(x, k, false);
			if (rc < 0)
				return rc;
		}
	}
	fire_watches(x, n->he.key, !top, n->perms, n->nperms);
	acct_nodes(x, n->perms[0].id, -1);
	node_unlink(x, n);
	return 0;
}

int rm_node(struct xse_ctx *x, const char *path)
{
	char parent[XENSTORE_ABS_PATH_MAX + 64];
	struct xse_node *p, *n;
	int rc;

	rc = parent_path(path, parent, sizeof(parent));
	if (rc == 0)
		rc = node_find(x, parent, &p);
	if (rc < 0)
		return rc;
	if (!p)
		return -EINVAL;
	rc = node_find(x, path, &n);
	if (rc < 0)
		return rc;
	if (!n)
		return -ENOENT;
	rc = rm_subtree(x, n, true);
	if (rc < 0) {
		if (x->t)
			x->t->fail = true;
		return rc;
	}
	remove_child(p, strrchr(path, '/') + 1);
	node_touch(x, p);
	return 0;
}

int xse_rm(struct xse_client *c, uint32_t txid, const char *in)
{
	struct req q;
	char parent[XENSTORE_ABS_PATH_MAX + 64];
	struct xse_node *n;
	int rc;

	rc = req_init(&q, c, txid, in);
	if (rc < 0)
		return rc;
	rc = get_node(&q.x, q.path, XSE_PERM_WRITE, &n);
	if (rc == -ENOENT) {
		/* Removing what is not there is fine if the parent exists
		 * (xenstored_core.c do_rm). */
		if (parent_path(q.path, parent, sizeof(parent)) < 0)
			return -EINVAL;
		rc = node_find(&q.x, parent, &n);
		if (rc < 0)
			return rc;
		return n ? 0 : -ENOENT;
	}
	if (rc < 0)
		return rc;
	if (strcmp(q.path, "/") == 0)
		return -EINVAL;
	return rm_node(&q.x, q.path);
}

int xse_directory(struct xse_client *c, uint32_t txid, const char *in, const char **kids,
		  uint32_t *len, uint64_t *gen)
{
	struct xse_node *n;
	int rc = readable_node(c, txid, in, &n);

	if (rc < 0)
		return rc;
	*kids = n->children;
	*len = n->clen;
	if (gen)
		*gen = n->gen;
	return 0;
}

int xse_get_perms(struct xse_client *c, uint32_t txid, const char *in,
		  const struct xse_perm **perms, uint32_t *np)
{
	struct xse_node *n;
	int rc = readable_node(c, txid, in, &n);

	if (rc < 0)
		return rc;
	*perms = n->perms;
	*np = n->nperms;
	return 0;
}

static int set_special_perms(struct xse_ctx *x, const char *name, const struct xse_perm *p,
			     uint32_t np)
{
	struct xse_engine *eng = x->eng;
	struct xse_perm **slot;
	uint32_t *nslot;
	struct xse_perm *copy;

	if (strcmp(name, "@introduceDomain") == 0) {
		slot = &eng->intro_perms;
		nslot = &eng->n_intro_perms;
	} else if (strcmp(name, "@releaseDomain") == 0) {
		slot = &eng->release_perms;
		nslot = &eng->n_release_perms;
	} else {
		return -EINVAL;
	}
	if ((perm_for(x, *slot, *nslot) & (XSE_PERM_WRITE | XSE_PERM_OWNER)) !=
	    (XSE_PERM_WRITE | XSE_PERM_OWNER))
		return -EACCES;
	copy = malloc(sizeof(*p) * np);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, p, sizeof(*p) * np);
	free(*slot);
	*slot = copy;
	*nslot = np;
	xse_meta_changed(eng);
	return 0;
}

/* xenstored_core.c do_set_perms. */
int xse_set_perms(struct xse_client *c, uint32_t txid, const char *in,
		  const struct xse_perm *perms, uint32_t np)
{
	struct req q;
	struct xse_perm *old, *copy;
	uint32_t nold;
	struct xse_node *n;
	int rc;

	rc = req_init(&q, c, txid, in);
	if (rc < 0)
		return rc;
	if (np == 0)
		return -EINVAL;
	if (ctx_unprivileged(&q.x) && np > (uint32_t)q.x.eng->quota[XSE_Q_PERMISSIONS])
		return -ENOSPC;
	if (in[0] == '@')
		return set_special_perms(&q.x, in, perms, np);
	rc = get_node(&q.x, q.path, XSE_PERM_WRITE | XSE_PERM_OWNER, &n);
	if (rc < 0)
		return rc;
	if (ctx_unprivileged(&q.x) && perms[0].id != n->perms[0].id)
		return -EPERM;
	if (too_big(&q.x, XSE_NODE_SIZE(np, n->vlen, n->clen)))
		return -ENOSPC;
	/* A new owner pays for the node from now on (do_set_perms writes it
	 * with the check against the new owner). */
	rc = node_check_rewrite(&q.x, n, np, n->vlen, n->clen, perms[0].id);
	if (rc < 0)
		return rc;
	copy = malloc(sizeof(*perms) * np);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, perms, sizeof(*perms) * np);
	old = n->perms;
	nold = n->nperms;
	acct_nodes(&q.x, old[0].id, -1);
	acct_nodes(&q.x, perms[0].id, 1);
	n->perms = copy;
	n->nperms = np;
	node_touch(&q.x, n);
	fire_watches(&q.x, q.path, false, old, nold);
	free(old);
	return 0;
}

