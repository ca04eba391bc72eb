/* Transactions, after the design at the top of Xen's
 * tools/xenstore/xenstored_transaction.c:
 *
 * Every change to a node sets its generation to ++eng->gen, so generations
 * are unique.  A transaction keeps a private copy of every node it touches
 * (read or write), made on first access together with the node's global
 * generation at that moment (XSE_NO_GENERATION if absent).  Reads and writes
 * inside the transaction see only those copies.  At commit, every touched
 * node's global generation must still equal the one recorded, otherwise the
 * commit fails with EAGAIN; if all match, modified copies replace the global
 * nodes (absent copies delete them) and queued watch events fire.
 *
 * Example: g(A)=1; T1 reads A (records 1); another client writes A, g(A)=7;
 * T1 writes B; commit sees g(A)=7 != 1 -> EAGAIN and nothing of T1 lands.
 * Had the other client written only C, which T1 never touched, T1 commits:
 * transactions fail only when something they looked at changed. */
#include "engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct xse_tentry *txn_entry(struct xse_txn *t, const char *path)
{
	return (struct xse_tentry *)htab_find(&t->view, path, htab_hash(path));
}

int txn_access(struct xse_ctx *x, const char *path, struct xse_node **ret)
{
	struct xse_txn *t = x->t;
	struct xse_tentry *te = txn_entry(t, path);
	struct xse_node *g;

	if (te) {
		*ret = te->node;
		return 0;
	}
	/* Xen: access_node() fails the transaction on quota or memory errors. */
	if (ctx_unprivileged(x) && t->nentries >= (unsigned)x->eng->quota[XSE_Q_TRANS_NODES]) {
		t->fail = true;
		return -ENOSPC;
	}
	g = xse_lookup(x->eng, path);
	te = calloc(1, sizeof(*te));
	if (!te)
		goto nomem;
	te->he.key = strdup(path);
	if (!te->he.key)
		goto nomem;
	te->he.hash = htab_hash(path);
	te->gen_read = g ? g->gen : XSE_NO_GENERATION;
	if (g) {
		te->node = node_dup(g);
		te->old_perms = malloc(sizeof(*g->perms) * g->nperms);
		if (!te->node || !te->old_perms)
			goto nomem;
		memcpy(te->old_perms, g->perms, sizeof(*g->perms) * g->nperms);
		te->n_old_perms = g->nperms;
	}
	/* Xen stores the copy of a node a transaction reads under its
	 * transaction key, charged to the caller without a check
	 * (xenstored_transaction.c access_node, write_node_raw(..., true)). */
	if (te->node)
		node_charge(x, te->node);
	htab_insert(&t->view, &te->he);
	if (t->last)
		t->last->next = te;
	else
		t->first = te;
	t->last = te;
	t->nentries++;
	*ret = te->node;
	return 0;
nomem:
	if (te) {
		free(te->he.key);
		node_free(te->node);
		free(te->old_perms);
		free(te);
	}
	t->fail = true;
	return -ENOMEM;
}

/* Xen's destroy_transaction: the copies go, and with them their charge. */
void txn_free(struct xse_engine *eng, struct xse_txn *t)
{
	struct xse_tentry *te, *next;

	if (!t)
		return;
	for (te = t->first; te; te = next) {
		next = te->next;
		free(te->he.key);
		node_drop(eng, te->node);
		free(te->old_perms);
		free(te);
	}
	htab_dispose(&t->view);
	free(t->deltas);
	free(t);
}

static struct xse_txn *find_txn(struct xse_client *c, uint32_t id, struct xse_txn ***link)
{
	struct xse_txn **p;

	for (p = &c->txns; *p; p = &(*p)->next) {
		if ((*p)->id == id) {
			if (link)
				*link = p;
			return *p;
		}
	}
	return NULL;
}

static struct xse_txn *txn_add(struct xse_client *c, uint32_t id)
{
	struct xse_txn *t = calloc(1, sizeof(*t)), **tail;

	if (!t || htab_init(&t->view, 16) < 0) {
		free(t);
		return NULL;
	}
	t->keypfx = (uint32_t)snprintf(NULL, 0, "%llu/", (unsigned long long)++c->eng->gen);
	t->id = id;
	for (tail = &c->txns; *tail; tail = &(*tail)->next)
		;
	*tail = t;
	c->ntxns++;
	return t;
}

/* A transaction the guest began before the daemon stopped is not kept, but
 * the guest still holds its id.  Linux's xenbus users retry a transaction
 * whose commit fails with EAGAIN and give up on any other error
 * (drivers/xen/xenbus/xenbus_client.c __xenbus_switch_state), so the id is
 * honoured again: its reads and writes work on a fresh private view and
 * its commit fails with EAGAIN, which makes the guest redo it.  Xen's live
 * update does the same for transactions it cannot carry over (the `fail`
 * flag of xenstored_transaction.c). */
static struct xse_txn *txn_find_or_revive(struct xse_client *c, uint32_t id)
{
	struct xse_txn *t = find_txn(c, id, NULL);

	if (t || id == 0 || id >= c->lost_txid_below)
		return t;
	/* Revived ones count against the quota like any other: a guest may
	 * not hold a thousand views by naming a thousand old ids. */
	if (!xse_privileged(c) && c->ntxns > (unsigned)c->eng->quota[XSE_Q_TRANSACTIONS])
		return NULL;
	t = txn_add(c, id);
	if (t)
		t->lost = true;
	return t;
}

unsigned xse_txn_ids(const struct xse_client *c, uint32_t *ids, unsigned max)
{
	unsigned n = 0;

	for (const struct xse_txn *t = c->txns; t; t = t->next, n++)
		if (n < max)
			ids[n] = t->id;
	return n;
}

/* A transaction moved with its domain (domxfer.c) comes back as one lost
 * in a restart: its private view did not travel. */
int xse_txn_restore(struct xse_client *c, uint32_t id)
{
	struct xse_txn *t;

	if (id == 0 || find_txn(c, id, NULL))
		return -EINVAL;
	if (!xse_privileged(c) && c->ntxns > (unsigned)c->eng->quota[XSE_Q_TRANSACTIONS])
		return -ENOSPC;
	t = txn_add(c, id);
	if (!t)
		return -ENOMEM;
	t->lost = true;
	if (id >= c->next_txid)
		c->next_txid = id + 1;
	return 0;
}

int xse_txn_check(struct xse_client *c, uint32_t txid)
{
	return (txid == 0 || txn_find_or_revive(c, txid)) ? 0 : -ENOENT;
}

int xse_txn_start(struct xse_client *c, uint32_t txid, uint32_t *ret_id)
{
	struct xse_txn *t;
	uint32_t id;

	if (txid)
		return find_txn(c, txid, NULL) ? -EBUSY : -ENOENT;
	/* Xen compares with '>' (xenstored_transaction.c do_transaction_start),
	 * so an unprivileged connection may hold quota + 1 transactions. */
	if (!xse_privileged(c) && c->ntxns > (unsigned)c->eng->quota[XSE_Q_TRANSACTIONS])
		return -ENOSPC;
	do {
		id = c->next_txid++;
	} while (id == 0 || find_txn(c, id, NULL));
	t = txn_add(c, id);
	if (!t)
		return -ENOMEM;
	*ret_id = t->id;
	return 0;
}

static int txn_verify(struct xse_engine *eng, struct xse_client *c, struct xse_txn *t)
{
	if (t->fail)
		return -ENOMEM; /* as Xen's do_transaction_end */
	/* Node quota over the whole transaction, only if it created nodes. */
	if (t->created && !xse_privileged(c)) {
		for (unsigned i = 0; i < t->ndeltas; i++) {
			uint32_t d = t->deltas[i].domid;
			int64_t cnt = (int64_t)eng->doms[d].nodes + t->deltas[i].delta;

			if (d != 0 && cnt >= eng->quota[XSE_Q_NODES])
				return -ENOSPC;
		}
	}
	for (struct xse_tentry *te = t->first; te; te = te->next) {
		struct xse_node *g = xse_lookup(eng, te->he.key);

		if ((g ? g->gen : XSE_NO_GENERATION) != te->gen_read)
			return -EAGAIN;
	}
	return 0;
}

/* Xen's finalize_transaction: the global nodes are written (charged to
 * their owners, no check) and the transaction's copies deleted.
 *
 * The journal is told what the same requests outside a transaction would
 * have told it: a node the transaction made in place of one that was there
 * is first removed, and made nodes come in the order they were made.  Its
 * replay lists a new node last in its parent (persist_rec.c), and a
 * parent's list after a transaction is its old names less the removed
 * ones, then the made ones in that order (add_child, remove_child). */
static void txn_apply(struct xse_engine *eng, struct xse_txn *t)
{
	struct xse_ctx gx = { .eng = eng };
	/* made[k]: the entry of the k-th node made; without memory the
	 * entries are searched for each k instead. */
	struct xse_tentry **made = t->nmade ? calloc(t->nmade + 1, sizeof(*made)) : NULL;

	for (struct xse_tentry *te = t->first; te; te = te->next) {
		struct xse_node *g = xse_lookup(eng, te->he.key);

		if (!te->modified)
			continue;
		if (g) {
			htab_remove(&eng->nodes, &g->he);
			node_drop(eng, g);
		}
		if (te->node) {
			node_charge(&gx, te->node);
			te->node->gen = ++eng->gen;
			htab_insert(&eng->nodes, &te->node->he);
			if (te->made && g)
				node_journal(eng, te->he.key, NULL);
			if (!te->made)
				node_journal(eng, te->he.key, te->node);
			else if (made)
				made[te->made] = te;
			te->node = NULL;
		} else {
			node_journal(eng, te->he.key, NULL);
		}
		if (te->fire)
			fire_now(eng, te->he.key, te->fire_exact, te->old_perms, te->n_old_perms);
	}
	for (uint32_t k = 1; k <= t->nmade; k++) {
		struct xse_tentry *te = made ? made[k] : NULL;

		for (struct xse_tentry *e = t->first; !made && e && !te; e = e->next)
			if (e->modified && e->made == k && xse_lookup(eng, e->he.key))
				te = e;
		if (te)
			node_journal(eng, te->he.key, xse_lookup(eng, te->he.key));
	}
	free(made);
	for (unsigned i = 0; i < t->ndeltas; i++)
		eng->doms[t->deltas[i].domid].nodes += t->deltas[i].delta;
}

int xse_txn_end(struct xse_client *c, uint32_t txid, bool commit)
{
	struct xse_txn **link, *t;
	int rc = 0;

	if (txid == 0 || !txn_find_or_revive(c, txid))
		return -ENOENT;
	t = find_txn(c, txid, &link);
	*link = t->next;
	c->ntxns--;
	if (commit && t->lost) {
		rc = -EAGAIN;
	} else if (commit) {
		rc = txn_verify(c->eng, c, t);
		if (rc == 0)
			txn_apply(c->eng, t);
	}
	txn_free(c->eng, t);
	return rc;
}
