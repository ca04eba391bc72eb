/* Engine set-up, clients, domains (introduce, release, target) and the quota
 * table (Xen 4.17 tools/xenstore/xenstored_domain.c, xenstored_control.c). */
#include "engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* Names, defaults and descriptions as xenstored_control.c hard_quotas[] and
 * xenstored_core.c quota_* in Xen 4.17. */
const struct xse_quota_desc xse_quota_table[XSE_Q_COUNT] = {
	[XSE_Q_NODES] = { "nodes", 1000, "Nodes per domain" },
	[XSE_Q_WATCHES] = { "watches", 128, "Watches per domain" },
	[XSE_Q_TRANSACTIONS] = { "transactions", 10, "Transactions per domain" },
	[XSE_Q_OUTSTANDING] = { "outstanding", 20, "Outstanding requests per domain" },
	[XSE_Q_TRANS_NODES] = { "transaction-nodes", 1024,
				"Max. number of accessed nodes per transaction" },
	[XSE_Q_MEMORY] = { "memory", 2 * 1024 * 1024 + 512 * 1024,
			   "Total Xenstore memory per domain (error level)" },
	[XSE_Q_NODE_SIZE] = { "node-size", 2048, "Max. size of a node" },
	[XSE_Q_PATH_MAX] = { "path-max", 2048, "Max. length of a node path" },
	[XSE_Q_PERMISSIONS] = { "permissions", 5, "Max. number of permissions per node" },
};

int xse_quota_by_name(const char *name)
{
	for (int i = 0; i < XSE_Q_COUNT; i++)
		if (strcmp(xse_quota_table[i].name, name) == 0)
			return i;
	return -EINVAL;
}

#define DOMS_BYTES (XSE_DOMID_COUNT * sizeof(struct xse_domain))

static int dom0_perm(struct xse_perm **p, uint32_t *n)
{
	*p = calloc(1, sizeof(**p)); /* n0: owned by dom0, others none */
	*n = 1;
	return *p ? 0 : -ENOMEM;
}

/* The initial tree of Xen 4.17's C xenstored (xenstored_core.c
 * setup_structure): /, /tool and /tool/xenstored, all "n0". */
int xse_init(struct xse_engine *eng)
{
	static const struct xse_perm n0 = { 0, XSE_PERM_NONE };
	int rc;

	memset(eng, 0, sizeof(*eng));
	for (int i = 0; i < XSE_Q_COUNT; i++)
		eng->quota[i] = xse_quota_table[i].defval;
	eng->soft_memory = 2 * 1024 * 1024;
	/* One entry per possible domid, mapped lazily: only the pages of
	 * domains in use ever get memory. */
	eng->doms = mmap(NULL, DOMS_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (eng->doms == MAP_FAILED)
		eng->doms = NULL;
	rc = eng->doms ? htab_init(&eng->nodes, 1024) : -ENOMEM;
	if (rc == 0)
		rc = dom0_perm(&eng->intro_perms, &eng->n_intro_perms);
	if (rc == 0)
		rc = dom0_perm(&eng->release_perms, &eng->n_release_perms);
	if (rc == 0)
		rc = xse_put_raw(eng, "/", "", 0, &n0, 1);
	if (rc == 0)
		rc = xse_put_raw(eng, "/tool", "", 0, &n0, 1);
	if (rc == 0)
		rc = xse_put_raw(eng, "/tool/xenstored", "", 0, &n0, 1);
	if (rc == 0)
		eng->doms[0].introduced = true;
	if (rc < 0)
		xse_dispose(eng);
	return rc;
}

void xse_dispose(struct xse_engine *eng)
{
	while (eng->clients)
		xse_client_dispose(eng->clients);
	if (eng->nodes.b)
		free_node_tree(eng);
	if (eng->doms)
		munmap(eng->doms, DOMS_BYTES);
	free(eng->intro_perms);
	free(eng->release_perms);
	memset(eng, 0, sizeof(*eng));
}

void xse_client_init(struct xse_engine *eng, struct xse_client *c, uint32_t domid,
		     xse_event_fn event, void *opaque)
{
	/* A store loaded from disk was put in place without the engine
	 * (persist_rec.c, before any client exists): count its memory once,
	 * before anything a client does is charged. */
	if (!eng->mem_counted)
		xse_mem_rebuild(eng);
	memset(c, 0, sizeof(*c));
	c->eng = eng;
	c->domid = domid & (XSE_DOMID_COUNT - 1);
	c->event = event;
	c->opaque = opaque;
	c->next = eng->clients;
	if (eng->clients)
		eng->clients->prev = c;
	eng->clients = c;
}

void xse_client_dispose(struct xse_client *c)
{
	if (!c->eng)
		return;
	xse_reset_watches(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->eng->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->eng = NULL;
}

bool xse_is_introduced(const struct xse_engine *eng, uint32_t domid)
{
	if (domid == XSE_DOMID_SELF)
		return true;
	return domid < XSE_DOMID_COUNT && eng->doms[domid].introduced;
}

int xse_introduce(struct xse_engine *eng, uint32_t domid)
{
	struct xse_domain *d;

	if (domid >= XSE_DOMID_COUNT)
		return -EINVAL;
	d = &eng->doms[domid];
	if (d->introduced)
		return 0;
	d->introduced = true;
	d->gen = eng->gen;
	xse_meta_changed(eng);
	if (domid != 0)
		fire_now(eng, "@introduceDomain", true, NULL, 0);
	return 0;
}

static void drop_perm_id(struct xse_perm *p, uint32_t *n, uint32_t domid)
{
	uint32_t out = 1;

	/* xenstored_domain.c remove_domid_from_perm: the owner reverts to
	 * domain 0, ACL entries for the domain disappear. */
	if (p[0].id == domid)
		p[0].id = 0;
	for (uint32_t i = 1; i < *n; i++)
		if (p[i].id != domid)
			p[out++] = p[i];
	*n = out;
}

struct path_list {
	char **v;
	size_t n, cap;
};

static int collect_owned(struct xse_engine *eng, struct xse_node *n, uint32_t domid,
			 struct path_list *pl)
{
	char child[4096 + 64];

	if (n->perms[0].id == domid && strcmp(n->he.key, "/") != 0) {
		if (pl->n == pl->cap) {
			size_t cap = pl->cap ? pl->cap * 2 : 16;
			char **v = realloc(pl->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			pl->v = v;
			pl->cap = cap;
		}
		pl->v[pl->n] = strdup(n->he.key);
		if (!pl->v[pl->n])
			return -ENOMEM;
		pl->n++;
		if (!eng->keep_orphans)
			return 0; /* its subtree goes with it */
	}
	for (uint32_t off = 0; off < n->clen; off += (uint32_t)strlen(n->children + off) + 1) {
		struct xse_node *k;

		snprintf(child, sizeof(child), "%s/%s", strcmp(n->he.key, "/") ? n->he.key : "",
			 n->children + off);
		k = xse_lookup(eng, child);
		if (k && collect_owned(eng, k, domid, pl) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ACL entries naming a released domain stop granting anything.  Xen
 * marks them lazily by comparing generations; marking them at release has
 * the same effect without generations per domain.  Not a change to the
 * nodes' contents, so their generations (and open transactions) stay. */
static void ignore_acl_entries(struct xse_engine *eng, uint32_t domid)
{
	size_t i;

	for (struct htab_ent *e = htab_first(&eng->nodes, &i); e; e = htab_next(&eng->nodes, e, &i)) {
		struct xse_node *n = (struct xse_node *)e;
		bool hit = false;

		for (uint32_t k = 1; k < n->nperms; k++) {
			if (n->perms[k].id == domid && !(n->perms[k].perms & XSE_PERM_IGNORE)) {
				n->perms[k].perms |= XSE_PERM_IGNORE;
				hit = true;
			}
		}
		if (hit)
			node_journal(eng, n->he.key, n);
	}
}

/* xenstored_domain.c destroy_domain/domain_tree_remove: the domain's
 * connections close, nodes it owns are deleted (or, with keep_orphans,
 * handed to domain 0), and @releaseDomain fires. */
int xse_release(struct xse_engine *eng, uint32_t domid)
{
	struct xse_ctx x = { .eng = eng };
	struct path_list pl = { 0 };
	struct xse_domain *d;
	int rc;

	if (domid == 0 || domid >= XSE_DOMID_COUNT)
		return -EINVAL;
	d = &eng->doms[domid];
	/* The toolstack is done with the id: a restore it abandons before
	 * XS_INTRODUCE releases it too, and must not leave old ids behind for
	 * the next domain of that id (alias.c). */
	if (d->nalias && !d->introduced) {
		d->nalias = 0;
		xse_meta_changed(eng);
	}
	if (!d->introduced)
		return -ENOENT;
	if (eng->domain_gone)
		eng->domain_gone(eng, domid, eng->hook_opaque);
	rc = collect_owned(eng, xse_lookup(eng, "/"), domid, &pl);
	for (size_t i = 0; i < pl.n; i++) {
		struct xse_node *n = xse_lookup(eng, pl.v[i]);

		if (n && eng->keep_orphans) {
			n->perms[0].id = 0;
			n->gen = ++eng->gen;
			d->nodes--;
			eng->doms[0].nodes++;
			node_charge(&x, n); /* domain 0 pays for it now */
			node_journal(eng, n->he.key, n);
		} else if (n) {
			rm_node(&x, pl.v[i]);
		}
		free(pl.v[i]);
	}
	free(pl.v);
	ignore_acl_entries(eng, domid);
	drop_perm_id(eng->intro_perms, &eng->n_intro_perms, domid);
	drop_perm_id(eng->release_perms, &eng->n_release_perms, domid);
	d->introduced = false;
	d->has_target = false;
	d->nalias = 0; /* a domain reusing the id answers to its own only */
	/* Xen frees the domain's struct, so a domain reusing the id starts
	 * without quota messages pending.  Its memory is 0 by now: its
	 * connections, and with them their watches, transactions and queued
	 * output, went first (domain_gone), then its nodes. */
	d->soft_reported = d->hard_reported = false;
	d->mem_last_msg = 0;
	xse_meta_changed(eng);
	fire_now(eng, "@releaseDomain", true, NULL, 0);
	return rc;
}

int xse_resume(struct xse_engine *eng, uint32_t domid)
{
	if (domid == 0 || domid >= XSE_DOMID_COUNT)
		return -EINVAL;
	return eng->doms[domid].introduced ? 0 : -ENOENT;
}

int xse_set_target(struct xse_engine *eng, uint32_t domid, uint32_t target)
{
	if (domid >= XSE_DOMID_COUNT || target >= XSE_DOMID_COUNT)
		return -ENOENT;
	if (!eng->doms[domid].introduced || !eng->doms[target].introduced)
		return -ENOENT;
	eng->doms[domid].has_target = true;
	eng->doms[domid].target = target;
	xse_meta_changed(eng);
	return 0;
}

/* ---- Memory accounting, as Xen 4.17 (xenstored_domain.c domain_memory_add,
 * domain_chk_quota; the callers in xenstored_core.c, _watch.c and
 * _transaction.c).  A domain is charged:
 *   - each node it owns: its TDB record (24-byte header, 8 bytes per
 *     permission, value, child names) plus its path (do_tdb_write);
 *   - each node copy its transactions hold (read or written), keyed
 *     "<generation>/<path>", whoever owns the node (access_node);
 *   - each watch: path plus token (add_watch);
 *   - each message queued to its connections: 16-byte header plus payload
 *     (send_reply, send_event), charged by the transports (conn.c).
 * Privileged domain 0 is charged too (xenstore-control shows it) but never
 * limited.  Writes reaching the hard quota fail (tree.c mem_check_write),
 * so do new watches, replies over 16 bytes and events; a domain at or over
 * it is not read (xse_mem_over_hard).  Everything else (copies read in a
 * transaction, commits, deletions) is charged unchecked, as in Xen. ---- */

/* Seconds between two quota messages of a domain (MEM_WARN_MINTIME_SEC). */
#define MEM_WARN_MINTIME 10

static void mem_say(struct xse_engine *eng, uint32_t domid, struct xse_domain *d,
		    enum xse_mem_note what, int64_t mem, time_t now)
{
	d->mem_last_msg = now;
	if (eng->mem_notice)
		eng->mem_notice(eng, domid, what, mem, eng->hook_opaque);
}

/* domain_chk_quota: whether `mem` bytes would reach domid's hard quota,
 * and the quota messages: reaching the hard quota is said at once, the
 * rest at most once per MEM_WARN_MINTIME seconds. */
bool mem_chk_quota(struct xse_engine *eng, uint32_t domid, int64_t mem)
{
	struct xse_domain *d = &eng->doms[domid];
	int64_t hard = eng->quota[XSE_Q_MEMORY], soft = eng->soft_memory;
	bool over_soft = soft && mem >= soft;
	time_t now;

	if (domid == 0)
		return false;
	if (hard && mem >= hard) {
		if (!d->hard_reported) {
			d->hard_reported = true;
			mem_say(eng, domid, d, XSE_MEM_HARD_HIT, mem, time(NULL));
		}
		return true;
	}
	/* Most calls have nothing to say: no clock read for them. */
	if (!d->hard_reported && d->soft_reported == over_soft)
		return false;
	now = time(NULL);
	if (now - d->mem_last_msg < MEM_WARN_MINTIME)
		return false;
	if (d->hard_reported) {
		d->hard_reported = false;
		mem_say(eng, domid, d, XSE_MEM_HARD_CLEAR, mem, now);
	}
	if (over_soft && !d->soft_reported) {
		d->soft_reported = true;
		mem_say(eng, domid, d, XSE_MEM_SOFT_HIT, mem, now);
	} else if (!over_soft && d->soft_reported) {
		d->soft_reported = false;
		mem_say(eng, domid, d, XSE_MEM_SOFT_CLEAR, mem, now);
	}
	return false;
}

int xse_mem_add(struct xse_engine *eng, uint32_t domid, int64_t delta, bool check)
{
	struct xse_domain *d = &eng->doms[domid & (XSE_DOMID_COUNT - 1)];

	/* The quota is looked at (and reported) even when not enforced, as
	 * Xen's domain_memory_add does. */
	if (mem_chk_quota(eng, domid & (XSE_DOMID_COUNT - 1), d->memory + delta) && check)
		return -ENOMEM;
	d->memory += delta;
	return 0;
}

bool xse_mem_over_hard(const struct xse_engine *eng, uint32_t domid)
{
	int64_t hard = eng->quota[XSE_Q_MEMORY];

	domid &= XSE_DOMID_COUNT - 1;
	return domid != 0 && hard && eng->doms[domid].memory >= hard;
}

int64_t xse_mem_expected(const struct xse_engine *eng, uint32_t domid)
{
	int64_t sum = 0;
	size_t i;

	for (struct htab_ent *e = htab_first(&eng->nodes, &i); e; e = htab_next(&eng->nodes, e, &i)) {
		const struct xse_node *n = (const struct xse_node *)e;

		if (n->perms[0].id == domid)
			sum += node_charge_size(n, 0);
	}
	for (const struct xse_client *c = eng->clients; c; c = c->next) {
		if (c->domid != domid)
			continue;
		for (const struct xse_watch *w = c->watches; w; w = w->next)
			sum += watch_charge(w);
		for (const struct xse_txn *t = c->txns; t; t = t->next)
			for (const struct xse_tentry *te = t->first; te; te = te->next)
				if (te->node)
					sum += node_charge_size(te->node, t->keypfx);
	}
	return sum;
}

void xse_mem_rebuild(struct xse_engine *eng)
{
	struct xse_ctx gx = { .eng = eng };
	size_t i;

	eng->mem_counted = true;
	/* Read first: the pages of domains never used stay unallocated. */
	for (uint32_t d = 0; d < XSE_DOMID_COUNT; d++)
		if (eng->doms[d].memory)
			eng->doms[d].memory = 0;
	for (struct htab_ent *e = htab_first(&eng->nodes, &i); e; e = htab_next(&eng->nodes, e, &i)) {
		struct xse_node *n = (struct xse_node *)e;

		n->acct = 0;
		node_charge(&gx, n);
	}
	for (struct xse_client *c = eng->clients; c; c = c->next) {
		for (const struct xse_watch *w = c->watches; w; w = w->next)
			xse_mem_add(eng, c->domid, watch_charge(w), false);
		for (struct xse_txn *t = c->txns; t; t = t->next) {
			struct xse_ctx tx = { .eng = eng, .c = c, .t = t };

			for (struct xse_tentry *te = t->first; te; te = te->next) {
				if (te->node) {
					te->node->acct = 0;
					node_charge(&tx, te->node);
				}
			}
		}
	}
}
