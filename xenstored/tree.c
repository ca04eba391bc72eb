/* The node store and its rules: node objects, lookup as a context sees it
 * (global or a transaction's copies), path rules and the permission rules
 * of Xen 4.17 (xenstored_core.c get_node, perm_for_conn, errno_from_parents,
 * is_valid_nodename).  The requests that use them are in nodeops.c. */
#include "engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

struct xse_node *node_new(const char *path, const void *val, uint32_t vlen,
			  const struct xse_perm *perms, uint32_t nperms)
{
	struct xse_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->he.key = strdup(path);
	n->value = malloc(vlen ? vlen : 1);
	n->perms = malloc(sizeof(*perms) * (nperms ? nperms : 1));
	if (!n->he.key || !n->value || !n->perms) {
		node_free(n);
		return NULL;
	}
	n->he.hash = htab_hash(path);
	if (vlen)
		memcpy(n->value, val, vlen);
	n->vlen = vlen;
	memcpy(n->perms, perms, sizeof(*perms) * nperms);
	n->nperms = nperms;
	return n;
}

struct xse_node *node_dup(const struct xse_node *o)
{
	struct xse_node *n = node_new(o->he.key, o->value, o->vlen, o->perms, o->nperms);

	if (!n)
		return NULL;
	n->gen = o->gen;
	if (o->clen) {
		n->children = malloc(o->clen);
		if (!n->children) {
			node_free(n);
			return NULL;
		}
		memcpy(n->children, o->children, o->clen);
		n->clen = o->clen;
	}
	return n;
}

void node_free(struct xse_node *n)
{
	if (!n)
		return;
	free(n->he.key);
	free(n->value);
	free(n->perms);
	free(n->children);
	free(n);
}

bool xse_privileged(const struct xse_client *c)
{
	/* Xen: domid_is_unprivileged() is domid != 0 && != priv_domid. */
	return !c || c->domid == 0;
}

bool ctx_unprivileged(const struct xse_ctx *x)
{
	return !xse_privileged(x->c);
}

/* xenstored_core.c perm_for_conn: owner, its device model (SET_TARGET) and
 * privileged callers get everything; otherwise the first ACL entry naming
 * the caller (or its target), else the default in perms[0]. */
unsigned perm_for_client(const struct xse_engine *eng, const struct xse_client *c,
			 const struct xse_perm *p, uint32_t n)
{
	const unsigned all = XSE_PERM_READ | XSE_PERM_WRITE | XSE_PERM_OWNER;
	const struct xse_domain *d;
	bool tgt;

	if (xse_privileged(c) || n == 0)
		return all;
	d = &eng->doms[c->domid];
	tgt = d->has_target;
	if (p[0].id == c->domid || (tgt && p[0].id == d->target))
		return all;
	for (uint32_t i = 1; i < n; i++)
		if (!(p[i].perms & XSE_PERM_IGNORE) &&
		    (p[i].id == c->domid || (tgt && p[i].id == d->target)))
			return p[i].perms & all;
	return p[0].perms & all;
}

unsigned perm_for(const struct xse_ctx *x, const struct xse_perm *p, uint32_t n)
{
	return perm_for_client(x->eng, x->c, p, n);
}

int parent_path(const char *path, char *out, size_t outsz)
{
	const char *slash = strrchr(path + 1, '/');
	size_t len = slash ? (size_t)(slash - path) : 1;

	if (len >= outsz)
		return -ENAMETOOLONG;
	memcpy(out, path, len);
	out[len] = '\0';
	return 0;
}

int xse_canonicalize(const struct xse_client *c, const char *in, char *out, size_t outsz)
{
	int n;

	/* Relative paths are below the caller's home, /local/domain/<domid>
	 * (xenstored_domain.c get_implicit_path; sockets are domain 0). */
	if (in[0] == '/' || in[0] == '@') {
		size_t len = strlen(in);

		if (len >= outsz)
			return -EINVAL;
		memcpy(out, in, len + 1);
		return 0;
	}
	n = snprintf(out, outsz, "/local/domain/%u/%s", c ? c->domid : 0, in);
	return (n < 0 || (size_t)n >= outsz) ? -EINVAL : 0;
}

/* Length of a "/local/domain/<1-5 digits>/" prefix, else 0: what Xen's
 * sscanf(node, "/local/domain/%5u/%n") measures (the path quota starts
 * after it). */
static size_t home_prefix(const char *path)
{
	static const char pre[] = "/local/domain/";
	size_t i = sizeof(pre) - 1, digits = 0;

	if (strncmp(path, pre, i) != 0)
		return 0;
	while (digits < 5 && path[i] >= '0' && path[i] <= '9')
		i++, digits++;
	return (digits && path[i] == '/') ? i + 1 : 0;
}

/* xenstored_core.c is_valid_nodename. */
bool xse_valid_path(const struct xse_engine *eng, const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/')
		return false;
	if (len > 1 && path[len - 1] == '/')
		return false;
	if (strstr(path, "//"))
		return false;
	/* The path quota counts only below a domain's home directory. */
	if (len > home_prefix(path) + (size_t)eng->quota[XSE_Q_PATH_MAX])
		return false;
	return strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789-/_@") == len;
}

bool xse_path_shape_ok(const char *path)
{
	size_t len = strnlen(path, XENSTORE_PAYLOAD_MAX + 1);

	if (len > XENSTORE_PAYLOAD_MAX || path[0] != '/')
		return false;
	if (len > 1 && path[len - 1] == '/')
		return false;
	if (strstr(path, "//"))
		return false;
	return strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789-/_@") == len;
}

/* Look a node up as the context sees it: the global tree, or the
 * transaction's copy (made on first access, which also records the
 * generation the commit will check).  *ret is NULL if the node is absent. */
int node_find(struct xse_ctx *x, const char *path, struct xse_node **ret)
{
	struct htab_ent *e;

	if (x->t)
		return txn_access(x, path, ret);
	e = htab_find(&x->eng->nodes, path, htab_hash(path));
	*ret = (struct xse_node *)e;
	return 0;
}

void node_journal(struct xse_engine *eng, const char *path, const struct xse_node *n)
{
	if (eng->node_changed)
		eng->node_changed(eng, path, n, eng->hook_opaque);
}

void xse_meta_changed(struct xse_engine *eng)
{
	if (eng->meta_changed)
		eng->meta_changed(eng, eng->hook_opaque);
}

void node_touch(struct xse_ctx *x, struct xse_node *n)
{
	n->gen = ++x->eng->gen;
	node_charge(x, n);
	if (x->t) {
		struct xse_tentry *te = txn_entry(x->t, n->he.key);

		if (te)
			te->modified = true;
	} else {
		node_journal(x->eng, n->he.key, n);
	}
}

void acct_nodes(struct xse_ctx *x, uint32_t domid, int delta)
{
	struct xse_txn *t = x->t;
	struct xse_dom_delta *d;

	if (!t) {
		x->eng->doms[domid].nodes += delta;
		return;
	}
	for (unsigned i = 0; i < t->ndeltas; i++) {
		if (t->deltas[i].domid == domid) {
			t->deltas[i].delta += delta;
			return;
		}
	}
	d = realloc(t->deltas, sizeof(*d) * (t->ndeltas + 1));
	if (!d) {
		t->fail = true;
		return;
	}
	t->deltas = d;
	d[t->ndeltas++] = (struct xse_dom_delta){ domid, delta };
}

/* xenstored_core.c errno_from_parents: a caller who may not see a node must
 * not learn from the error whether it exists. */
static int err_from_parents(struct xse_ctx *x, const char *path, int err, unsigned perm)
{
	char cur[XENSTORE_ABS_PATH_MAX + 64];
	struct xse_node *n = NULL;
	int rc;

	if (err == -ENOMEM || err == -ENOSPC)
		return err;
	snprintf(cur, sizeof(cur), "%s", path);
	do {
		if (parent_path(cur, cur, sizeof(cur)) < 0)
			return -EINVAL;
		rc = node_find(x, cur, &n);
		if (rc < 0)
			return rc;
	} while (!n && strcmp(cur, "/") != 0);
	if (!n)
		return -EACCES;
	return (perm_for(x, n->perms, n->nperms) & perm) ? err : -EACCES;
}

/* xenstored_core.c get_node: the node if the caller has `perm` on it. */
int get_node(struct xse_ctx *x, const char *path, unsigned perm, struct xse_node **ret)
{
	struct xse_node *n;
	int rc;

	if (!xse_valid_path(x->eng, path))
		return -EINVAL;
	rc = node_find(x, path, &n);
	if (rc == 0 && !n)
		rc = -ENOENT;
	if (rc == 0 && (perm_for(x, n->perms, n->nperms) & perm) != perm)
		rc = -EACCES;
	if (rc < 0)
		return err_from_parents(x, path, rc, perm);
	*ret = n;
	return 0;
}

uint32_t node_size(const struct xse_node *n)
{
	return XSE_NODE_SIZE(n->nperms, n->vlen, n->clen);
}

/* What Xen 4.17 charges a domain for a node: its TDB record and its key,
 * which is the path, or "<generation>/<path>" for a transaction's copy
 * (xenstored_core.c do_tdb_write: data->dsize + key->dsize). */
uint32_t node_charge_size(const struct xse_node *n, uint32_t keypfx)
{
	return node_size(n) + (uint32_t)strlen(n->he.key) + keypfx;
}

/* Who pays for a node object: its owner, or for a transaction's copy the
 * transaction's caller whoever owns the node (xenstored_core.c
 * get_acc_domid). */
uint32_t charge_dom(const struct xse_ctx *x, const struct xse_node *n)
{
	return x->t ? x->c->domid : n->perms[0].id;
}

void node_uncharge(struct xse_engine *eng, struct xse_node *n)
{
	if (n->acct)
		xse_mem_add(eng, n->acct_dom, -(int64_t)n->acct, false);
	n->acct = 0;
}

/* Charge n what it costs now, refunding what it was charged before.  No
 * quota check here: a write checked first (node_check_rewrite,
 * mem_check_write), and what Xen charges unchecked (copies a transaction
 * reads, commits, shrinking child lists) must not fail. */
void node_charge(struct xse_ctx *x, struct xse_node *n)
{
	uint32_t dom = charge_dom(x, n);
	uint32_t bytes = node_charge_size(n, x->t ? x->t->keypfx : 0);

	if (n->acct == bytes && n->acct_dom == dom)
		return;
	node_uncharge(x->eng, n);
	xse_mem_add(x->eng, dom, bytes, false);
	n->acct = bytes;
	n->acct_dom = dom;
}

/* Free a node object, refunding its charge. */
void node_drop(struct xse_engine *eng, struct xse_node *n)
{
	if (!n)
		return;
	node_uncharge(eng, n);
	node_free(n);
}

/* The hard memory quota on a write that adds `delta` bytes to domid
 * (xenstored_domain.c domain_memory_add with the check).  Xen's error
 * differs by path: create_node gives EIO (write_node_raw's return); a
 * rewrite of an existing node returns whatever errno was left over
 * (do_write returns errno, which nothing set), so EIO is used for all. */
int mem_check_write(struct xse_ctx *x, uint32_t domid, int64_t delta)
{
	int rc = mem_chk_quota(x->eng, domid, x->eng->doms[domid].memory + delta) ? -EIO : 0;

	/* A failed write fails the transaction (xenstored_core.c write_node). */
	if (rc < 0 && x->t)
		x->t->fail = true;
	return rc;
}

/* Whether n may be rewritten with this size and owner: Xen refunds the
 * old record, then charges the new one with the check (do_tdb_write). */
int node_check_rewrite(struct xse_ctx *x, const struct xse_node *n, uint32_t nperms,
		       uint32_t vlen, uint32_t clen, uint32_t owner)
{
	uint32_t dom = x->t ? x->c->domid : owner;
	int64_t bytes = XSE_NODE_SIZE(nperms, vlen, clen) + strlen(n->he.key) +
			(x->t ? x->t->keypfx : 0);

	if (n->acct && n->acct_dom == dom)
		bytes -= n->acct;
	return mem_check_write(x, dom, bytes);
}

/* Xen checks the size in write_node_raw, and write_node fails the caller's
 * transaction on any error from it (xenstored_core.c write_node): its
 * commit then fails too. */
bool too_big(const struct xse_ctx *x, uint32_t size)
{
	if (!ctx_unprivileged(x) || size < (uint32_t)x->eng->quota[XSE_Q_NODE_SIZE])
		return false;
	if (x->t)
		x->t->fail = true;
	return true;
}

int add_child(struct xse_node *parent, const char *name)
{
	size_t len = strlen(name) + 1;
	char *c = realloc(parent->children, parent->clen + len);

	if (!c)
		return -ENOMEM;
	memcpy(c + parent->clen, name, len);
	parent->children = c;
	parent->clen += (uint32_t)len;
	return 0;
}

void remove_child(struct xse_node *parent, const char *name)
{
	for (uint32_t off = 0; off < parent->clen;) {
		size_t len = strlen(parent->children + off) + 1;

		if (strcmp(parent->children + off, name) == 0) {
			memmove(parent->children + off, parent->children + off + len,
				parent->clen - off - len);
			parent->clen -= (uint32_t)len;
			return;
		}
		off += (uint32_t)len;
	}
}

/* Insert a node the context owns into the context's view. */
int node_insert(struct xse_ctx *x, struct xse_node *n)
{
	struct xse_tentry *te;

	n->gen = ++x->eng->gen;
	node_charge(x, n);
	if (!x->t) {
		node_journal(x->eng, n->he.key, n);
		return htab_insert(&x->eng->nodes, &n->he);
	}
	te = txn_entry(x->t, n->he.key);
	if (!te)
		return -EIO; /* node_find() recorded the absent node first */
	te->node = n;
	te->modified = true;
	te->made = ++x->t->nmade;
	return 0;
}

void node_unlink(struct xse_ctx *x, struct xse_node *n)
{
	/* A deletion is a change for Xen's global generation too
	 * (access_node); it shows only in the length of the keys, and so the
	 * charge, of later transactions' copies. */
	++x->eng->gen;
	if (!x->t) {
		node_journal(x->eng, n->he.key, NULL);
		htab_remove(&x->eng->nodes, &n->he);
		node_drop(x->eng, n);
		return;
	}
	struct xse_tentry *te = txn_entry(x->t, n->he.key);

	if (te) {
		te->node = NULL;
		te->modified = true;
	}
	node_drop(x->eng, n);
}

struct xse_node *xse_lookup(struct xse_engine *eng, const char *path)
{
	return (struct xse_node *)htab_find(&eng->nodes, path, htab_hash(path));
}

/* Restore a node as saved (persist.c): parents must exist already. */
int xse_put_raw(struct xse_engine *eng, const char *path, const void *val, uint32_t vlen,
		const struct xse_perm *perms, uint32_t nperms)
{
	char parent[XENSTORE_ABS_PATH_MAX + 64];
	struct xse_node *n, *p = NULL, *old = xse_lookup(eng, path);
	struct xse_ctx gx = { .eng = eng };
	int rc;

	if (nperms == 0)
		return -EINVAL;
	if (strcmp(path, "/") != 0) {
		rc = parent_path(path, parent, sizeof(parent));
		if (rc < 0)
			return rc;
		p = xse_lookup(eng, parent);
		if (!p)
			return -ENOENT;
	}
	n = node_new(path, val, vlen, perms, nperms);
	if (!n)
		return -ENOMEM;
	n->gen = ++eng->gen;
	if (old) {
		n->children = old->children;
		n->clen = old->clen;
		old->children = NULL;
		eng->doms[old->perms[0].id].nodes--;
		htab_remove(&eng->nodes, &old->he);
		node_drop(eng, old);
	} else if (p) {
		rc = add_child(p, strrchr(path, '/') + 1);
		if (rc < 0) {
			node_free(n);
			return rc;
		}
		node_charge(&gx, p);
	}
	eng->doms[perms[0].id].nodes++;
	node_charge(&gx, n);
	return htab_insert(&eng->nodes, &n->he);
}

void free_node_tree(struct xse_engine *eng)
{
	size_t i;
	struct htab_ent *e = htab_first(&eng->nodes, &i), *next;

	for (; e; e = next) {
		next = htab_next(&eng->nodes, e, &i);
		node_free((struct xse_node *)e);
	}
	htab_dispose(&eng->nodes);
}

size_t xse_node_count(const struct xse_engine *eng)
{
	return eng->nodes.n;
}
