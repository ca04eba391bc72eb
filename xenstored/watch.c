/* Watches (Xen 4.17 tools/xenstore/xenstored_watch.c semantics):
 * a watch on P fires for a change of P or anything below it; removal fires
 * exactly for each removed descendant and once, non-exactly, for the removed
 * root; a watch registered with a relative path receives relative event
 * paths; @introduceDomain and @releaseDomain fire only exactly and only for
 * callers the special permissions let read.  Inside a transaction, events are
 * queued on the touched node and fire at commit. */
#include "engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

/* xenstored_watch.c is_child: "/" is everybody's parent. */
static bool is_child(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (strcmp(parent, "/") == 0)
		return true;
	if (strncmp(child, parent, len) != 0)
		return false;
	return child[len] == '/' || child[len] == '\0';
}

/* The path an event of w for `path` carries: relative to the home for a
 * relative watch, in the old form for a watch naming an old id (alias.c;
 * Linux's xenbus drops events not below the path it watched). */
static const char *event_path(const struct xse_client *c, const struct xse_watch *w,
			      const char *path, char *buf, size_t sz)
{
	if (w->alias_old)
		return alias_back(c->domid, w->alias_old, w->alias_at, path, buf, sz) < 0 ? NULL : buf;
	if (!w->rel_skip)
		return path;
	path += w->rel_skip;
	return *path == '/' ? path + 1 : path;
}

static void deliver(struct xse_client *c, const struct xse_watch *w, const char *path)
{
	char buf[XENSTORE_ABS_PATH_MAX + 64];
	const char *p = event_path(c, w, path, buf, sizeof(buf));

	if (p && c->event)
		c->event(c, p, w->token);
}

/* xenstored_watch.c watch_permitted: read access on the node (as it was, if
 * the caller passes its old permissions), or else on its parent. */
static bool may_see(struct xse_engine *eng, struct xse_client *c, const char *path,
		    const struct xse_perm *hint, uint32_t nhint)
{
	char parent[XENSTORE_ABS_PATH_MAX + 64];
	struct xse_node *n;

	if (xse_privileged(c))
		return true;
	if (hint && (perm_for_client(eng, c, hint, nhint) & XSE_PERM_READ))
		return true;
	n = xse_lookup(eng, path);
	if (!n)
		return false;
	if (perm_for_client(eng, c, n->perms, n->nperms) & XSE_PERM_READ)
		return true;
	if (parent_path(path, parent, sizeof(parent)) < 0)
		return false;
	n = xse_lookup(eng, parent);
	return n && (perm_for_client(eng, c, n->perms, n->nperms) & XSE_PERM_READ);
}

static bool may_see_special(struct xse_engine *eng, struct xse_client *c, const char *name)
{
	if (strcmp(name, "@introduceDomain") == 0)
		return perm_for_client(eng, c, eng->intro_perms, eng->n_intro_perms) &
		       XSE_PERM_READ;
	if (strcmp(name, "@releaseDomain") == 0)
		return perm_for_client(eng, c, eng->release_perms, eng->n_release_perms) &
		       XSE_PERM_READ;
	return false;
}

void fire_now(struct xse_engine *eng, const char *path, bool exact,
	      const struct xse_perm *hint, uint32_t nhint)
{
	bool special = path[0] == '@';

	for (struct xse_client *c = eng->clients; c; c = c->next) {
		if (!c->watches)
			continue;
		if (special ? !may_see_special(eng, c, path) : !may_see(eng, c, path, hint, nhint))
			continue;
		for (struct xse_watch *w = c->watches; w; w = w->next) {
			bool hit = exact ? strcmp(path, w->path) == 0 : is_child(path, w->path);

			if (hit)
				deliver(c, w, path);
		}
	}
}

void fire_watches(struct xse_ctx *x, const char *path, bool exact,
		  const struct xse_perm *hint, uint32_t nhint)
{
	struct xse_tentry *te;

	if (!x->t) {
		fire_now(x->eng, path, exact, hint, nhint);
		return;
	}
	/* xenstored_transaction.c queue_watches: a non-exact event replaces
	 * an exact one, not the other way round. */
	te = txn_entry(x->t, path);
	if (!te) {
		x->t->fail = true;
		return;
	}
	if (!te->fire) {
		te->fire = true;
		te->fire_exact = exact;
	} else if (!exact) {
		te->fire_exact = false;
	}
}

/* What Xen charges for a watch: its path (canonical) and token
 * (xenstored_watch.c add_watch). */
uint32_t watch_charge(const struct xse_watch *w)
{
	return (uint32_t)(strlen(w->path) + strlen(w->token));
}

/* xenstored_watch.c add_watch; `check`: the memory quota applies (a new
 * watch, not one restored after a restart).  Over it: ENOMEM, as Xen. */
static int add_watch(struct xse_client *c, const char *path, const char *token,
		     size_t rel_skip, const struct alias_hit *hit, bool check)
{
	struct xse_watch *w = calloc(1, sizeof(*w)), **tail;
	int rc = -ENOMEM;

	if (w)
		w->path = strdup(path);
	if (w)
		w->token = strdup(token);
	if (w && w->path && w->token)
		rc = xse_mem_add(c->eng, c->domid, watch_charge(w), check);
	if (rc < 0) {
		if (w) {
			free(w->path);
			free(w->token);
		}
		free(w);
		return rc;
	}
	w->rel_skip = rel_skip;
	w->alias_old = hit ? hit->old : 0;
	w->alias_at = hit ? hit->at : 0;
	for (tail = &c->watches; *tail; tail = &(*tail)->next)
		;
	*tail = w;
	c->nwatches++;
	c->eng->doms[c->domid].watches++;
	return 0;
}

const char *xse_watch_check(uint32_t domid, const char *path, const char *token, size_t rel)
{
	char home[32];
	size_t hl;

	if (strlen(path) + strlen(token) + 2 > XENSTORE_PAYLOAD_MAX)
		return "watch path and token longer than a message";
	if (path[0] == '@') {
		if (strlen(path) > XENSTORE_REL_PATH_MAX || rel)
			return "bad special watch";
		return NULL;
	}
	if (!xse_path_shape_ok(path))
		return "bad watch path";
	if (rel == 0)
		return NULL;
	/* A relative watch is its domain's home plus what the guest gave
	 * (xse_watch): the event paths drop exactly the home. */
	hl = (size_t)snprintf(home, sizeof(home), "/local/domain/%u", domid);
	if (rel != hl || strncmp(path, home, hl) != 0 || path[hl] != '/')
		return "relative watch not below its domain's home";
	return NULL;
}

/* path as the client gave it (persist.c keeps that form): an old id of
 * its domain is translated again. */
int xse_add_watch_raw(struct xse_client *c, const char *path, const char *token,
		      size_t rel_skip)
{
	char real[XENSTORE_ABS_PATH_MAX + 64];
	struct alias_hit hit = { 0 };

	if (!rel_skip && path[0] == '/' && strlen(path) < sizeof(real)) {
		memcpy(real, path, strlen(path) + 1);
		if (alias_apply(c->eng, c, real, sizeof(real), &hit) == 1)
			return add_watch(c, real, token, 0, &hit, false);
	}
	return add_watch(c, path, token, rel_skip, NULL, false);
}

static struct xse_watch **find(struct xse_client *c, const char *path, const char *token,
			       const struct alias_hit *hit)
{
	for (struct xse_watch **p = &c->watches; *p; p = &(*p)->next)
		if (strcmp((*p)->path, path) == 0 && strcmp((*p)->token, token) == 0 &&
		    (*p)->alias_old == hit->old)
			return p;
	return NULL;
}

/* xenstored_watch.c do_watch, without the reply: the caller acks, then
 * delivers the initial event (xse_watch_initial). */
int xse_watch(struct xse_client *c, const char *in, const char *token)
{
	char path[XENSTORE_ABS_PATH_MAX + 64];
	struct alias_hit hit = { 0 };
	size_t rel = 0;
	int rc;

	if (in[0] == '@') {
		if (strlen(in) > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
		snprintf(path, sizeof(path), "%s", in);
	} else {
		rc = xse_canonicalize(c, in, path, sizeof(path));
		if (rc < 0 || !xse_valid_path(c->eng, path))
			return -EINVAL;
		if (in[0] != '/')
			rel = strlen(path) - strlen(in) - 1;
		else if (alias_apply(c->eng, c, path, sizeof(path), &hit) < 0)
			return -EINVAL;
	}
	/* The same watch is the same path as given: an old-form and a
	 * real-form watch are two (their events differ). */
	if (find(c, path, token, &hit))
		return -EEXIST;
	/* Xen compares with '>' here too (do_watch): quota + 1 watches fit. */
	if (!xse_privileged(c) &&
	    c->eng->doms[c->domid].watches > (unsigned)c->eng->quota[XSE_Q_WATCHES])
		return -E2BIG;
	return add_watch(c, path, token, rel, &hit, true);
}

void xse_watch_initial(struct xse_client *c)
{
	struct xse_watch *w = c->watches;

	if (!w)
		return;
	while (w->next)
		w = w->next;
	deliver(c, w, w->path);
}

static void watch_free(struct xse_client *c, struct xse_watch *w)
{
	c->nwatches--;
	c->eng->doms[c->domid].watches--;
	xse_mem_add(c->eng, c->domid, -(int64_t)watch_charge(w), false);
	free(w->path);
	free(w->token);
	free(w);
}

int xse_unwatch(struct xse_client *c, const char *in, const char *token)
{
	char path[XENSTORE_ABS_PATH_MAX + 64];
	struct alias_hit hit = { 0 };
	struct xse_watch **p, *w;

	if (xse_canonicalize(c, in, path, sizeof(path)) < 0 ||
	    (in[0] == '/' && alias_apply(c->eng, c, path, sizeof(path), &hit) < 0))
		return -ENOENT;
	p = find(c, path, token, &hit);
	if (!p)
		return -ENOENT;
	w = *p;
	*p = w->next;
	watch_free(c, w);
	return 0;
}

void watches_free(struct xse_client *c)
{
	while (c->watches) {
		struct xse_watch *w = c->watches;

		c->watches = w->next;
		watch_free(c, w);
	}
}

/* xenstored_domain.c do_reset_watches: watches and transactions go. */
void xse_reset_watches(struct xse_client *c)
{
	watches_free(c);
	while (c->txns) {
		struct xse_txn *t = c->txns;

		c->txns = t->next;
		c->ntxns--;
		txn_free(c->eng, t);
	}
}
