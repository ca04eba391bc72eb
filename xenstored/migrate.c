/* The engine's part of moving one domain's XenStore state to another
 * xenstored, or to a new domain id (docs/xenstored.md, "Export and import"):
 * walking the domain's home subtree, rewriting paths that name its id, and
 * putting a subtree back all or nothing.  No I/O: domxfer.c turns this into
 * records. */
#include "engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

static int home_of(uint32_t domid, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "/local/domain/%u", domid);

	return (n < 0 || (size_t)n >= outsz) ? -ENAMETOOLONG : 0;
}

static int walk(struct xse_engine *eng, const struct xse_node *n,
		int (*fn)(void *arg, const struct xse_node *n), void *arg)
{
	char child[XENSTORE_ABS_PATH_MAX + 64];
	int rc = fn(arg, n);

	for (uint32_t off = 0; rc == 0 && off < n->clen;
	     off += (uint32_t)strlen(n->children + off) + 1) {
		const struct xse_node *k;

		snprintf(child, sizeof(child), "%s/%s", n->he.key, n->children + off);
		k = xse_lookup(eng, child);
		if (k)
			rc = walk(eng, k, fn, arg);
	}
	return rc;
}

int xse_walk_home(struct xse_engine *eng, uint32_t domid,
		  int (*fn)(void *arg, const struct xse_node *n), void *arg)
{
	char home[40];
	const struct xse_node *n;
	int rc = home_of(domid, home, sizeof(home));

	if (rc < 0)
		return rc;
	n = xse_lookup(eng, home);
	return n ? walk(eng, n, fn, arg) : 0;
}

/* Length of `prefix` at the start of s if it is followed by '/' or the end. */
static size_t starts(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return (strncmp(s, prefix, n) == 0 && (s[n] == '/' || s[n] == '\0')) ? n : 0;
}

int xse_rewrite_domid(const char *in, uint32_t from, uint32_t to, bool backends, char *out,
		      size_t outsz)
{
	char fromhome[40], tohome[40], fromid[16], toid[16];
	size_t at = 0, len = 0;
	const char *repl = NULL;
	int n;

	home_of(from, fromhome, sizeof(fromhome));
	home_of(to, tohome, sizeof(tohome));
	snprintf(fromid, sizeof(fromid), "%u", from);
	snprintf(toid, sizeof(toid), "%u", to);
	if ((len = starts(in, fromhome)) != 0) {
		repl = tohome;
	} else if (backends && (at = backend_fe_at(in, fromid)) != 0) {
		len = strlen(fromid);
		repl = toid;
	}
	if (!repl) {
		n = snprintf(out, outsz, "%s", in);
		return (n < 0 || (size_t)n >= outsz) ? -ENAMETOOLONG : 0;
	}
	n = snprintf(out, outsz, "%.*s%s%s", (int)at, in, repl, in + at + len);
	return (n < 0 || (size_t)n >= outsz) ? -ENAMETOOLONG : 1;
}

/* The checks a fresh request from the node's owner would pass (tree.c,
 * nodeops.c): a valid path, at least one permission, and for a node the
 * domain owns itself the node-size and permissions quotas.  Nodes Domain-0
 * owns under the home (libxl writes most of them) were written by Domain-0
 * and are held to the wire's limits only. */
static const char *node_bad(const struct xse_engine *eng, const struct xse_import_node *v)
{
	uint32_t owner;

	if (!xse_valid_path(eng, v->path) || strlen(v->path) > XENSTORE_ABS_PATH_MAX)
		return "invalid path";
	if (v->nperms == 0)
		return "no permissions";
	if (v->vlen > XENSTORE_PAYLOAD_MAX)
		return "value longer than a request can write";
	for (uint32_t i = 0; i < v->nperms; i++)
		if (v->perms[i].id >= XSE_DOMID_COUNT ||
		    (v->perms[i].perms & ~(XSE_PERM_READ | XSE_PERM_WRITE | XSE_PERM_IGNORE)))
			return "invalid permission";
	owner = v->perms[0].id;
	if (owner == 0)
		return NULL;
	if (v->nperms > (uint32_t)eng->quota[XSE_Q_PERMISSIONS] + 1)
		return "over the permissions quota";
	/* The child list is not known yet; the record is charged without it,
	 * as Xen's node-size check of a write that creates the node. */
	if (XSE_NODE_SIZE(v->nperms, v->vlen, 0) > (uint32_t)eng->quota[XSE_Q_NODE_SIZE])
		return "over the node-size quota";
	return NULL;
}

int xse_import_home(struct xse_engine *eng, uint32_t domid, const struct xse_import_node *v,
		    size_t n, struct xse_client *quiet, size_t *bad, const char **why)
{
	char home[40], parent[XENSTORE_ABS_PATH_MAX + 64];
	struct xse_ctx gx = { .eng = eng };
	struct xse_node **done = NULL, *top;
	struct xse_watch *hidden;
	uint64_t top_gen;
	uint32_t owned = 0;
	size_t i = 0, homelen;
	int rc = 0;

	*why = NULL;
	if (domid == 0 || domid >= XSE_DOMID_SELF || home_of(domid, home, sizeof(home)) < 0)
		return -EINVAL;
	homelen = strlen(home);
	if (n == 0)
		return 0;
	top = xse_lookup(eng, "/local/domain");
	if (xse_lookup(eng, home)) {
		*why = "the domain's home already exists";
		return -EEXIST;
	}
	if (!top) {
		*why = "/local/domain does not exist";
		return -ENOENT;
	}
	/* Every check first, so that nothing is undone for a bad record. */
	for (i = 0; i < n; i++) {
		*why = node_bad(eng, &v[i]);
		if (*why)
			return *bad = i, -EINVAL;
		if (i == 0 ? strcmp(v[i].path, home) != 0
			   : strncmp(v[i].path, home, homelen) != 0 || v[i].path[homelen] != '/') {
			*why = i == 0 ? "the first node is not the domain's home"
				      : "node outside the domain's home";
			return *bad = i, -EINVAL;
		}
		owned += v[i].perms[0].id == domid;
	}
	/* Xen refuses a node a domain creates at its node quota
	 * (xenstored_core.c create_node, domain_nbentry >= quota). */
	if (owned && (uint64_t)eng->doms[domid].nodes + owned > (uint64_t)eng->quota[XSE_Q_NODES]) {
		*why = "over the nodes quota";
		return *bad = n - 1, -ENOSPC;
	}
	done = calloc(n, sizeof(*done));
	if (!done)
		return -ENOMEM;
	top_gen = top->gen;
	for (i = 0; i < n; i++) {
		struct xse_node *p, *k;

		/* Parents come first: the parent must be a node inserted
		 * already, since nothing was under the home before. */
		parent_path(v[i].path, parent, sizeof(parent));
		p = i ? xse_lookup(eng, parent) : top;
		if (!p) {
			*why = "node before its parent";
			rc = -EINVAL;
			break;
		}
		if (xse_lookup(eng, v[i].path)) {
			*why = "node listed twice";
			rc = -EINVAL;
			break;
		}
		k = node_new(v[i].path, v[i].val, v[i].vlen, v[i].perms, v[i].nperms);
		if (!k || add_child(p, strrchr(v[i].path, '/') + 1) < 0) {
			node_free(k);
			rc = -ENOMEM;
			break;
		}
		k->gen = ++eng->gen;
		p->gen = ++eng->gen;
		eng->doms[k->perms[0].id].nodes++;
		node_charge(&gx, k);
		node_charge(&gx, p);
		htab_insert(&eng->nodes, &k->he);
		done[i] = k;
	}
	/* A write that takes the domain to its hard memory quota fails
	 * (tree.c mem_check_write); the import is one big write. */
	if (rc == 0 && xse_mem_over_hard(eng, domid)) {
		*why = "over the memory quota";
		rc = -ENOMEM;
	}
	if (rc < 0) {
		*bad = i < n ? i : n - 1;
		while (i--) {
			struct xse_node *k = done[i];

			if (i == 0)
				remove_child(top, strrchr(home, '/') + 1);
			htab_remove(&eng->nodes, &k->he);
			eng->doms[k->perms[0].id].nodes--;
			node_drop(eng, k);
		}
		node_charge(&gx, top);
		top->gen = top_gen; /* nothing happened to it */
		free(done);
		return rc;
	}
	/* In: tell the journal, and the watchers of everyone but the imported
	 * connection (its guest did not make these changes). */
	node_journal(eng, top->he.key, top);
	hidden = quiet ? quiet->watches : NULL;
	if (quiet)
		quiet->watches = NULL;
	for (i = 0; i < n; i++) {
		node_journal(eng, done[i]->he.key, done[i]);
		fire_now(eng, done[i]->he.key, false, NULL, 0);
	}
	if (quiet)
		quiet->watches = hidden;
	free(done);
	return 0;
}
