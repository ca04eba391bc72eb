/* The records of xenstored's state files (see persist.c for the design):
 * encoding into a buffer, and decoding and applying a file's records, with
 * every read bounds-checked since a file may be torn. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_int.h"
#include "persist.h"
#include "persist_int.h"

/* ---- encoding ---- */

void put(struct buf *b, const void *p, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		char *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
	put(b, &v, sizeof(v));
}

static void put_blob(struct buf *b, const void *p, uint32_t n)
{
	put_u32(b, n);
	put(b, p, n);
}

/* Reserve a record header; rec_end() fills in the length. */
static size_t rec_begin(struct buf *b, uint32_t type)
{
	size_t at = b->len;

	put_u32(b, type);
	put_u32(b, 0);
	return at;
}

static void rec_end(struct buf *b, size_t at)
{
	uint32_t len = (uint32_t)(b->len - at - 8);

	if (!b->oom)
		memcpy(b->p + at + 4, &len, sizeof(len));
}

static void put_perms(struct buf *b, const struct xse_perm *p, uint32_t n)
{
	put_u32(b, n);
	put(b, p, sizeof(*p) * n);
}

void enc_node(struct buf *b, const char *path, const struct xse_node *n)
{
	size_t at = rec_begin(b, n ? R_NODE : R_DEL);

	put_blob(b, path, (uint32_t)strlen(path));
	if (n) {
		put_perms(b, n->perms, n->nperms);
		put_blob(b, n->value, n->vlen);
		put_blob(b, n->children, n->clen);
	}
	rec_end(b, at);
}

void enc_node_journal(struct buf *b, const char *path, const struct xse_node *n)
{
	size_t at = rec_begin(b, n ? R_NODE_J : R_DEL);

	put_blob(b, path, (uint32_t)strlen(path));
	if (n) {
		put_perms(b, n->perms, n->nperms);
		put_blob(b, n->value, n->vlen);
	}
	rec_end(b, at);
}

void enc_meta(struct buf *b, const struct xse_engine *eng)
{
	size_t at = rec_begin(b, R_META);
	uint32_t n = 0;

	put_u32(b, XSE_Q_COUNT);
	for (int i = 0; i < XSE_Q_COUNT; i++)
		put_u32(b, (uint32_t)eng->quota[i]);
	put_u32(b, (uint32_t)eng->soft_memory);
	for (uint32_t i = 0; i < XSE_DOMID_COUNT; i++)
		n += eng->doms[i].introduced;
	put_u32(b, n);
	for (uint32_t i = 0; i < XSE_DOMID_COUNT; i++) {
		const struct xse_domain *d = &eng->doms[i];

		if (!d->introduced)
			continue;
		put_u32(b, i);
		put_u32(b, d->has_target);
		put_u32(b, d->target);
	}
	put_perms(b, eng->intro_perms, eng->n_intro_perms);
	put_perms(b, eng->release_perms, eng->n_release_perms);
	/* Appended later (alias.c): the domains with old ids, each u32 domid,
	 * u32 n, n x u32 old id.  A record that ends before has none. */
	n = 0;
	for (uint32_t i = 0; i < XSE_DOMID_COUNT; i++)
		n += eng->doms[i].nalias != 0;
	put_u32(b, n);
	for (uint32_t i = 0; i < XSE_DOMID_COUNT; i++) {
		const struct xse_domain *d = &eng->doms[i];

		if (!d->nalias)
			continue;
		put_u32(b, i);
		put_u32(b, d->nalias);
		for (unsigned k = 0; k < d->nalias; k++)
			put_u32(b, d->alias[k]);
	}
	rec_end(b, at);
}

static void put_watch(struct buf *b, uint32_t rel, const char *path, const char *token)
{
	put_u32(b, rel);
	put_blob(b, path, (uint32_t)strlen(path));
	put_blob(b, token, (uint32_t)strlen(token));
}

void enc_watches(struct buf *b, uint32_t domid, const struct xse_watch *w,
		 const struct saved_watch *s)
{
	size_t at = rec_begin(b, R_WATCHES);
	uint32_t n = 0;

	for (const struct xse_watch *i = w; i; i = i->next)
		n++;
	for (const struct saved_watch *i = s; i; i = i->next)
		n += i->domid == domid;
	put_u32(b, domid);
	put_u32(b, n);
	for (; w; w = w->next) {
		char given[XENSTORE_ABS_PATH_MAX + 64];

		/* As the guest gave it: a restart translates an old id again
		 * (xse_add_watch_raw), so its events keep the old form. */
		if (xse_watch_given(domid, w, given, sizeof(given)) < 0)
			snprintf(given, sizeof(given), "%s", w->path);
		put_watch(b, (uint32_t)w->rel_skip, given, w->token);
	}
	for (; s; s = s->next)
		if (s->domid == domid)
			put_watch(b, s->rel, s->path, s->token);
	rec_end(b, at);
}

void enc_watch_one(struct buf *b, enum rec_type type, uint32_t domid, uint32_t rel,
		   const char *path, const char *token)
{
	size_t at = rec_begin(b, type);

	put_u32(b, domid);
	if (type == R_WATCH_ADD)
		put_u32(b, rel);
	put_blob(b, path, (uint32_t)strlen(path));
	put_blob(b, token, (uint32_t)strlen(token));
	rec_end(b, at);
}

static void put_input(struct buf *b, const struct conn *c)
{
	put_u32(b, c->in_used);
	put(b, &c->hdr, c->in_used < sizeof(c->hdr) ? c->in_used : sizeof(c->hdr));
	if (c->in_used > sizeof(c->hdr))
		put(b, c->body, c->in_used - sizeof(c->hdr));
}

/* The last field of R_RINGIO and R_RING_IN, when known. */
static void put_req_cons(struct buf *b, const struct conn *c)
{
	if (c->req_cons_known)
		put_u32(b, c->req_cons);
}

void enc_ringio(struct buf *b, struct conn *c)
{
	size_t at = rec_begin(b, R_RINGIO);

	put_u32(b, c->cl.domid);
	put_u32(b, ring_rsp_prod(c->ring));
	put_input(b, c);
	put_u32(b, (uint32_t)c->oq_bytes);
	for (struct outmsg *m = c->oq_head; m; m = m->next) {
		size_t skip = m == c->oq_head ? c->head_off : 0;

		put(b, m->data + skip, m->len - skip);
	}
	put_req_cons(b, c);
	rec_end(b, at);
}

void enc_ringio_saved(struct buf *b, const struct saved_io *io)
{
	size_t at = rec_begin(b, R_RINGIO);

	put_u32(b, io->domid);
	put_u32(b, io->rsp_prod);
	put_blob(b, io->in, io->inlen);
	put_blob(b, io->outlen ? io->out + io->outoff : NULL, io->outlen);
	if (io->has_cons)
		put_u32(b, io->req_cons);
	rec_end(b, at);
}

/* The journal now holds everything of c's bytes in flight. */
void journal_synced(struct conn *c)
{
	c->j_queued = c->out_queued;
	c->j_consumed = c->out_consumed;
	c->j_next = NULL;
	c->in_journaled = c->in_used != 0;
	c->in_dirty = false;
	c->j_req_cons = c->req_cons;
	c->j_full = false;
}

/* What changed in c's bytes in flight since the journal last heard of
 * them: its partial request if it changed (at most one message), the count
 * of bytes that reached the ring, and the messages queued since.  None of
 * it depends on how much is queued (issue 12: a guest that reads nothing
 * must not make every round rewrite its whole queue). */
void enc_ring_deltas(struct buf *b, struct conn *c)
{
	uint32_t domid = c->cl.domid;
	size_t at;

	if (c->j_full) {
		enc_ringio(b, c);
		journal_synced(c);
		return;
	}
	/* Also when only the ring's index moved (whole requests taken): a
	 * restarted daemon must know they were (ring.c ring_resume_cons). */
	if ((c->in_dirty && (c->in_used || c->in_journaled)) ||
	    (c->req_cons_known && c->req_cons != c->j_req_cons)) {
		at = rec_begin(b, R_RING_IN);
		put_u32(b, domid);
		put_input(b, c);
		put_req_cons(b, c);
		rec_end(b, at);
		c->in_journaled = c->in_used != 0;
		c->j_req_cons = c->req_cons;
	}
	c->in_dirty = false;
	if (c->out_consumed > c->j_consumed) {
		/* Bytes queued and sent within one round never reached the
		 * journal: only the journalled ones are dropped from it. */
		uint64_t end = c->j_queued < c->out_consumed ? c->j_queued : c->out_consumed;

		at = rec_begin(b, R_RING_DONE);
		put_u32(b, domid);
		put_u32(b, (uint32_t)(end - c->j_consumed));
		put_u32(b, ring_rsp_prod(c->ring)); /* where the next byte goes */
		rec_end(b, at);
		c->j_consumed = c->out_consumed;
		if (c->j_queued < c->out_consumed)
			c->j_queued = c->out_consumed;
	}
	if (c->j_next) {
		at = rec_begin(b, R_RING_OUT);
		put_u32(b, domid);
		put_u32(b, (uint32_t)(c->out_queued - c->j_queued));
		for (struct outmsg *m = c->j_next; m; m = m->next) {
			size_t skip = m == c->oq_head ? c->head_off : 0;

			put(b, m->data + skip, m->len - skip);
		}
		rec_end(b, at);
		c->j_queued = c->out_queued;
		c->j_next = NULL;
	}
}

/* ---- decoding (input may be torn or hostile: every read is checked) ---- */

static bool fail(struct rd *r, const char *why)
{
	if (!r->bad)
		r->why = why;
	r->bad = true;
	return false;
}

static uint32_t get_u32(struct rd *r)
{
	uint32_t v = 0;

	if (r->left < 4) {
		fail(r, "truncated");
		return 0;
	}
	memcpy(&v, r->p, 4);
	r->p += 4;
	r->left -= 4;
	return v;
}

static const char *get_bytes(struct rd *r, uint32_t n)
{
	const char *p = r->p;

	if (r->bad || r->left < n) {
		fail(r, "truncated");
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

/* A blob as a NUL-terminated copy (paths, tokens). */
static char *get_str(struct rd *r)
{
	uint32_t n = get_u32(r);
	const char *p = r->bad ? NULL : get_bytes(r, n);
	char *s;

	if (!p)
		return NULL;
	if (memchr(p, 0, n)) {
		fail(r, "NUL inside a string");
		return NULL;
	}
	s = malloc(n + 1);
	if (!s) {
		fail(r, "out of memory");
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static struct xse_perm *get_perms(struct rd *r, uint32_t *n)
{
	struct xse_perm *p;
	const char *src;

	*n = get_u32(r);
	if (r->bad)
		return NULL;
	if (*n == 0 || *n > 4096) {
		fail(r, "bad permission count");
		return NULL;
	}
	src = get_bytes(r, *n * (uint32_t)sizeof(*p));
	p = src ? malloc(*n * sizeof(*p)) : NULL;
	if (!p) {
		fail(r, src ? "out of memory" : "truncated");
		return NULL;
	}
	memcpy(p, src, *n * sizeof(*p));
	for (uint32_t i = 0; i < *n; i++) {
		p[i].id &= XSE_DOMID_COUNT - 1;
		p[i].perms &= XSE_PERM_READ | XSE_PERM_WRITE | XSE_PERM_OWNER | XSE_PERM_IGNORE;
	}
	return p;
}

/* Child names: non-empty components, each NUL-terminated. */
static bool children_ok(const char *c, uint32_t clen)
{
	for (uint32_t off = 0; off < clen;) {
		size_t len = strnlen(c + off, clen - off);

		if (len == 0 || off + len >= clen || memchr(c + off, '/', len))
			return false;
		off += (uint32_t)len + 1;
	}
	return true;
}

static bool lists_child(const struct xse_node *parent, const char *name)
{
	for (uint32_t off = 0; off < parent->clen; off += (uint32_t)strlen(parent->children + off) + 1)
		if (strcmp(parent->children + off, name) == 0)
			return true;
	return false;
}

static void unlist_child(struct xse_node *parent, const char *name)
{
	if (lists_child(parent, name))
		remove_child(parent, name);
}

/* A node an R_NODE_J made joins its parent's list, at the end as
 * add_child() put it there.  The journal names a parent before its new
 * children (a transaction's commit journals the nodes it made in the order
 * it made them, txn.c): a missing parent is a bad record. */
static int list_in_parent(struct xse_engine *eng, struct rd *r, const char *path)
{
	char pp[XENSTORE_ABS_PATH_MAX + 64];
	struct xse_node *parent;
	const char *name = strrchr(path, '/') + 1;

	if (strcmp(path, "/") == 0)
		return 0;
	if (parent_path(path, pp, sizeof(pp)) < 0 || !(parent = xse_lookup(eng, pp)))
		return fail(r, "a new node before its parent"), -EINVAL;
	return lists_child(parent, name) ? 0 : add_child(parent, name);
}

/* R_NODE (the node whole, with its child list), R_NODE_J (value and
 * permissions: a node already there keeps its children, a new one joins
 * its parent's list) and R_DEL (the node leaves the tree and its
 * parent's list). */
static int apply_node(struct persist *p, struct rd *r, uint32_t type)
{
	struct xse_engine *eng = &p->d->eng;
	char *path = get_str(r);
	struct xse_node *n;
	struct xse_perm *perms = NULL;
	uint32_t np = 0, vlen = 0, clen = 0;
	const char *v = NULL, *c = NULL;
	int rc = -EINVAL;

	if (!path)
		goto out;
	if (!xse_path_shape_ok(path)) {
		fail(r, "bad node path");
		goto out;
	}
	n = xse_lookup(eng, path);
	if (type == R_DEL) {
		char pp[XENSTORE_ABS_PATH_MAX + 64];
		struct xse_node *parent;

		if (strcmp(path, "/") == 0) {
			fail(r, "the root removed");
			goto out;
		}
		if (n) {
			htab_remove(&eng->nodes, &n->he);
			node_free(n);
		}
		/* A version 1 journal lists the parent's children in the
		 * parent's next record anyway. */
		if (parent_path(path, pp, sizeof(pp)) == 0 && (parent = xse_lookup(eng, pp)) != NULL)
			unlist_child(parent, strrchr(path, '/') + 1);
		rc = 0;
		goto out;
	}
	perms = get_perms(r, &np);
	vlen = get_u32(r);
	v = r->bad ? NULL : get_bytes(r, vlen);
	if (type == R_NODE) {
		clen = get_u32(r);
		c = r->bad ? NULL : get_bytes(r, clen);
	}
	if (r->bad)
		goto out;
	if (type == R_NODE && !children_ok(c, clen)) {
		fail(r, "bad child list");
		goto out;
	}
	if (!n && type == R_NODE_J) {
		/* Listed first: a refused record leaves no node behind. */
		rc = list_in_parent(eng, r, path);
		if (rc < 0)
			goto out;
	}
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n || !(n->he.key = strdup(path))) {
			free(n);
			rc = -ENOMEM;
			goto out;
		}
		n->he.hash = htab_hash(path);
		htab_insert(&eng->nodes, &n->he);
	}
	free(n->value);
	free(n->perms);
	n->value = malloc(vlen ? vlen : 1);
	n->perms = perms;
	n->nperms = np;
	perms = NULL;
	n->vlen = n->value ? vlen : 0;
	if (n->value && vlen)
		memcpy(n->value, v, vlen);
	if (type == R_NODE) {
		free(n->children);
		n->children = clen ? malloc(clen) : NULL;
		n->clen = n->children ? clen : 0;
		if (n->children)
			memcpy(n->children, c, clen);
	}
	n->gen = ++eng->gen;
	rc = 0;
out:
	free(path);
	free(perms);
	return rc;
}

/* The old ids of restored domains at the end of R_META (enc_meta); none
 * in a record written before they existed.  Checked as xse_alias_set
 * checks them; the whole table is replaced. */
static int apply_aliases(struct xse_engine *eng, struct rd *r)
{
	uint32_t nd, ids[XSE_ALIAS_MAX];

	for (uint32_t i = 0; i < XSE_DOMID_COUNT; i++)
		eng->doms[i].nalias = 0;
	if (r->left == 0)
		return 0;
	nd = get_u32(r);
	if (!r->bad && nd > XSE_DOMID_COUNT)
		return fail(r, "bad count of domains with old ids"), -EINVAL;
	for (uint32_t i = 0; i < nd && !r->bad; i++) {
		uint32_t id = get_u32(r), n = get_u32(r);

		if (r->bad)
			break;
		if (n == 0 || n > XSE_ALIAS_MAX || id >= XSE_DOMID_COUNT)
			return fail(r, "bad old ids of a domain"), -EINVAL;
		for (uint32_t k = 0; k < n; k++)
			ids[k] = get_u32(r);
		if (!r->bad && xse_alias_check(id, ids, n) < 0)
			return fail(r, "bad old ids of a domain"), -EINVAL;
		for (uint32_t k = 0; !r->bad && k < n; k++)
			eng->doms[id].alias[k] = (uint16_t)ids[k];
		eng->doms[id].nalias = r->bad ? 0 : (uint8_t)n;
	}
	return r->bad ? -EINVAL : 0;
}

static int apply_meta(struct xse_engine *eng, struct rd *r)
{
	uint32_t nq = get_u32(r), nd, soft;
	struct xse_perm *ip, *rp;
	uint32_t nip, nrp;

	for (uint32_t i = 0; i < nq && !r->bad; i++) {
		uint32_t v = get_u32(r);

		if (i < XSE_Q_COUNT && v > 0 && v < (1u << 30))
			eng->quota[i] = (int)v;
	}
	soft = get_u32(r);
	nd = get_u32(r);
	if (r->bad)
		return -EINVAL;
	if (soft >= (1u << 30) || nd > XSE_DOMID_COUNT)
		return fail(r, "bad quota or domain count"), -EINVAL;
	eng->soft_memory = (int)soft;
	for (uint32_t i = 0; i < XSE_DOMID_COUNT; i++)
		eng->doms[i].introduced = i == 0;
	for (uint32_t i = 0; i < nd && !r->bad; i++) {
		uint32_t id = get_u32(r) & (XSE_DOMID_COUNT - 1);
		uint32_t has = get_u32(r), tgt = get_u32(r);

		eng->doms[id].introduced = true;
		eng->doms[id].has_target = has != 0;
		eng->doms[id].target = tgt & (XSE_DOMID_COUNT - 1);
	}
	ip = get_perms(r, &nip);
	rp = get_perms(r, &nrp);
	if (r->bad) {
		free(ip);
		free(rp);
		return -EINVAL;
	}
	free(eng->intro_perms);
	free(eng->release_perms);
	eng->intro_perms = ip;
	eng->n_intro_perms = nip;
	eng->release_perms = rp;
	eng->n_release_perms = nrp;
	return apply_aliases(eng, r);
}

static void free_watch(struct saved_watch *w)
{
	free(w->path);
	free(w->token);
	free(w);
}

/* Unlink *s (its predecessor's next pointer), keeping the tail right. */
static struct saved_watch *unlink_watch(struct persist *p, struct saved_watch **s)
{
	struct saved_watch *w = *s;

	*s = w->next;
	if (p->saved_tail == &w->next)
		p->saved_tail = s;
	return w;
}

void drop_saved(struct persist *p, uint32_t domid)
{
	if (!p->saved_tail)
		p->saved_tail = &p->saved;
	for (struct saved_watch **s = &p->saved; *s;) {
		if ((*s)->domid == domid)
			free_watch(unlink_watch(p, s));
		else
			s = &(*s)->next;
	}
}

static struct saved_watch **find_watch(struct persist *p, uint32_t domid, const char *path,
				       const char *token)
{
	for (struct saved_watch **s = &p->saved; *s; s = &(*s)->next)
		if ((*s)->domid == domid && !strcmp((*s)->path, path) && !strcmp((*s)->token, token))
			return s;
	return NULL;
}

/* One watch, checked as a WATCH request would have been; appended. */
static int add_saved(struct persist *p, struct rd *r, uint32_t domid)
{
	struct saved_watch *w = calloc(1, sizeof(*w));
	const char *why;

	if (!w)
		return fail(r, "out of memory"), -ENOMEM;
	w->domid = domid;
	w->rel = get_u32(r);
	w->path = get_str(r);
	w->token = w->path ? get_str(r) : NULL;
	if (r->bad) {
		free_watch(w);
		return -EINVAL;
	}
	why = xse_watch_check(domid, w->path, w->token, w->rel);
	if (!why && find_watch(p, domid, w->path, w->token))
		why = "watch set twice";
	if (why) {
		free_watch(w);
		return fail(r, why), -EINVAL;
	}
	if (!p->saved_tail)
		p->saved_tail = &p->saved;
	*p->saved_tail = w;
	p->saved_tail = &w->next;
	return 0;
}

static uint32_t get_domid(struct rd *r)
{
	uint32_t domid = get_u32(r);

	if (!r->bad && domid >= XSE_DOMID_COUNT)
		fail(r, "bad domain id");
	return domid;
}

static int apply_watches(struct persist *p, struct rd *r)
{
	uint32_t domid = get_domid(r), n = get_u32(r);
	int rc = 0;

	if (r->bad)
		return -EINVAL;
	drop_saved(p, domid);
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = add_saved(p, r, domid);
	if (rc < 0)
		drop_saved(p, domid); /* a list is taken whole or not at all */
	return rc;
}

static int apply_watch_add(struct persist *p, struct rd *r)
{
	uint32_t domid = get_domid(r);

	return r->bad ? -EINVAL : add_saved(p, r, domid);
}

static int apply_watch_del(struct persist *p, struct rd *r)
{
	uint32_t domid = get_domid(r);
	char *path = r->bad ? NULL : get_str(r), *token = path ? get_str(r) : NULL;
	struct saved_watch **s = token ? find_watch(p, domid, path, token) : NULL;
	int rc = -EINVAL;

	if (s) {
		free_watch(unlink_watch(p, s));
		rc = 0;
	} else if (token) {
		fail(r, "removes a watch that is not set");
	}
	free(path);
	free(token);
	return rc;
}

void drop_io(struct persist *p, uint32_t domid)
{
	for (struct saved_io **s = &p->saved_io; *s;) {
		struct saved_io *io = *s;

		if (io->domid == domid) {
			*s = io->next;
			free(io->in);
			free(io->out);
			free(io);
		} else {
			s = &io->next;
		}
	}
}

static struct saved_io *find_io(struct persist *p, uint32_t domid)
{
	for (struct saved_io *io = p->saved_io; io; io = io->next)
		if (io->domid == domid)
			return io;
	return NULL;
}

/* The bytes of a partial request: at most a header and a payload.  What
 * they hold is checked when they are given back to a connection
 * (conn_restore_input), as fresh bytes are: a bad one refuses that guest's
 * connection, not the file. */
static const char *get_input(struct rd *r, uint32_t *n)
{
	*n = get_u32(r);
	if (!r->bad && *n > sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX) {
		fail(r, "partial request longer than a message");
		return NULL;
	}
	return get_bytes(r, *n);
}

static int set_input(struct saved_io *io, struct rd *r, const char *in, uint32_t n)
{
	char *copy = malloc(n ? n : 1);

	if (!copy)
		return fail(r, "out of memory"), -ENOMEM;
	if (n)
		memcpy(copy, in, n);
	free(io->in);
	io->in = copy;
	io->inlen = n;
	return 0;
}

/* Append output, or replace it (outoff and outlen 0 first). */
static int add_output(struct saved_io *io, struct rd *r, const char *src, uint32_t n)
{
	if ((uint64_t)io->outlen + n > SAVED_OUT_MAX)
		return fail(r, "more output than a guest can have queued"), -EINVAL;
	if (n == 0)
		return 0;
	if (io->outoff + io->outlen + n > io->outcap) {
		uint32_t cap = io->outcap ? io->outcap : 4096;
		char *np;

		if (io->out && io->outoff >= io->outlen) { /* reuse the consumed front */
			memmove(io->out, io->out + io->outoff, io->outlen);
			io->outoff = 0;
		}
		while (cap < io->outoff + io->outlen + n)
			cap *= 2;
		if (cap != io->outcap) {
			np = realloc(io->out, cap);
			if (!np)
				return fail(r, "out of memory"), -ENOMEM;
			io->out = np;
			io->outcap = cap;
		}
	}
	memcpy(io->out + io->outoff + io->outlen, src, n);
	io->outlen += n;
	return 0;
}

/* The request ring's index at the end of R_RINGIO and R_RING_IN: none in
 * a record written before it existed (then the ring's own index stands). */
static void get_req_cons(struct rd *r, struct saved_io *io)
{
	if (r->bad || r->left == 0)
		return;
	io->req_cons = get_u32(r);
	io->has_cons = !r->bad;
}

int apply_ringio(struct persist *p, struct rd *r)
{
	uint32_t domid = get_domid(r), rsp = get_u32(r), inlen, outlen;
	const char *in = get_input(r, &inlen), *out;
	struct saved_io *io;

	outlen = get_u32(r);
	if (!r->bad && outlen > SAVED_OUT_MAX)
		return fail(r, "more output than a guest can have queued"), -EINVAL;
	out = get_bytes(r, outlen);
	if (r->bad)
		return -EINVAL;
	io = calloc(1, sizeof(*io));
	if (!io)
		return fail(r, "out of memory"), -ENOMEM;
	get_req_cons(r, io);
	if (r->bad) {
		free(io);
		return -EINVAL;
	}
	io->domid = domid;
	io->rsp_prod = rsp;
	if (set_input(io, r, in, inlen) < 0 || add_output(io, r, out, outlen) < 0) {
		free(io->in);
		free(io->out);
		free(io);
		return -ENOMEM;
	}
	drop_io(p, domid);
	io->next = p->saved_io;
	p->saved_io = io;
	return 0;
}

/* A delta needs the whole record it changes (written when the ring
 * connected, and in every snapshot). */
static struct saved_io *delta_io(struct persist *p, struct rd *r, uint32_t domid)
{
	struct saved_io *io = r->bad ? NULL : find_io(p, domid);

	if (!io && !r->bad)
		fail(r, "bytes in flight changed before they were recorded");
	return io;
}

static int apply_ring_in(struct persist *p, struct rd *r)
{
	uint32_t domid = get_domid(r), n;
	const char *in = get_input(r, &n);
	struct saved_io *io = delta_io(p, r, domid);
	struct saved_io cons = { 0 };

	get_req_cons(r, &cons);
	if (!io || r->bad)
		return -EINVAL;
	if (cons.has_cons) {
		io->req_cons = cons.req_cons;
		io->has_cons = true;
	}
	return set_input(io, r, in, n);
}

static int apply_ring_out(struct persist *p, struct rd *r)
{
	uint32_t domid = get_domid(r), n = get_u32(r);
	const char *out = get_bytes(r, n);
	struct saved_io *io = delta_io(p, r, domid);

	return io ? add_output(io, r, out, n) : -EINVAL;
}

static int apply_ring_done(struct persist *p, struct rd *r)
{
	uint32_t domid = get_domid(r), n = get_u32(r), rsp = get_u32(r);
	struct saved_io *io = delta_io(p, r, domid);

	if (!io)
		return -EINVAL;
	if (n > io->outlen)
		return fail(r, "more output sent than was queued"), -EINVAL;
	io->outoff += n;
	io->outlen -= n;
	if (io->outlen == 0)
		io->outoff = 0;
	io->rsp_prod = rsp;
	return 0;
}

void enc_txid(struct buf *b, uint32_t domid, uint32_t next_txid)
{
	size_t at = rec_begin(b, R_TXID);

	put_u32(b, domid);
	put_u32(b, next_txid);
	rec_end(b, at);
}

void drop_txid(struct persist *p, uint32_t domid)
{
	for (struct saved_txid **s = &p->saved_txid; *s;) {
		struct saved_txid *t = *s;

		if (t->domid == domid) {
			*s = t->next;
			free(t);
		} else {
			s = &t->next;
		}
	}
}

/* next_txid 0 forgets the domain (released). */
int save_txid(struct persist *p, uint32_t domid, uint32_t next_txid)
{
	struct saved_txid *t;

	drop_txid(p, domid);
	if (next_txid == 0)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct saved_txid){ p->saved_txid, domid, next_txid };
	p->saved_txid = t;
	return 0;
}

int apply_txid(struct persist *p, struct rd *r)
{
	uint32_t domid = get_domid(r), next = get_u32(r);

	return r->bad ? -EINVAL : save_txid(p, domid, next);
}

static const char *const rec_names[R_TYPE_END] = {
	[R_NODE] = "node", [R_DEL] = "removed node", [R_META] = "domains and quotas",
	[R_WATCHES] = "watch list", [R_RINGIO] = "bytes in flight", [R_TXID] = "transaction id",
	[R_WATCH_ADD] = "watch added", [R_WATCH_DEL] = "watch removed",
	[R_RING_IN] = "partial request", [R_RING_OUT] = "output queued",
	[R_RING_DONE] = "output sent", [R_NODE_J] = "node written",
};

static int apply_record(struct persist *p, uint32_t type, struct rd *r)
{
	struct xse_engine *eng = &p->d->eng;

	/* A version 2 journal's own record: nowhere else. */
	if (type == R_NODE_J && (p->ver < 2 || !p->in_journal))
		return fail(r, p->ver < 2 ? "unknown record type in a version 1 file"
					  : "a journal's record in the snapshot"), -EINVAL;
	switch (type) {
	case R_NODE:
	case R_DEL:
	case R_NODE_J:
		return apply_node(p, r, type);
	case R_META: return apply_meta(eng, r);
	case R_WATCHES: return apply_watches(p, r);
	case R_RINGIO: return apply_ringio(p, r);
	case R_TXID: return apply_txid(p, r);
	case R_WATCH_ADD: return apply_watch_add(p, r);
	case R_WATCH_DEL: return apply_watch_del(p, r);
	case R_RING_IN: return apply_ring_in(p, r);
	case R_RING_OUT: return apply_ring_out(p, r);
	case R_RING_DONE: return apply_ring_done(p, r);
	default: return fail(r, "unknown record type"), -EINVAL;
	}
}

/* 3, 2 or 1 by the magic; 0: none. */
static int file_version(const char *magic)
{
	static const char *const magics[] = { MAGIC_V1, MAGIC_V2, MAGIC };

	for (int v = 3; v >= 1; v--)
		if (memcmp(magic, magics[v - 1], 4) == 0)
			return v;
	return 0;
}

static void gen_name(char *s, size_t n, bool has, uint64_t gen)
{
	if (has)
		snprintf(s, n, "generation %llu", (unsigned long long)gen);
	else
		snprintf(s, n, "no generation");
}

/* Whether the journal (of generation `gen` if `has`) continues the loaded
 * snapshot.  One that does not is the journal a snapshot cut short by a
 * kill after its rename left behind (persist.c persist_snapshot): the
 * snapshot was written from a live state that held all of it, and
 * replaying it would take back what changed since, or do again what it
 * did once.  Its line says so; a journal newer than the snapshot (the
 * snapshot lost or replaced by hand) is not replayed either: its records
 * change a state that is not there. */
static bool same_generation(struct persist *p, bool has, uint64_t gen, const char *path,
			    char *err, size_t errsz)
{
	char j[40], s[40];

	if (has == p->has_gen && gen == p->gen)
		return true;
	gen_name(j, sizeof(j), has, gen);
	gen_name(s, sizeof(s), p->has_gen, p->gen);
	snprintf(err, errsz, "%s: at offset %d: journal of %s beside a snapshot of %s: not replayed (%s)",
		 path, has ? 4 : 0, j, s,
		 !has || (p->has_gen && gen < p->gen)
			 ? "a snapshot cut short after its rename left it; the snapshot holds all of it"
			 : "it continues a snapshot that is not there");
	return false;
}

int load_file(struct persist *p, const char *path, bool journal, char *err, size_t errsz)
{
	struct rd file;
	struct stat st;
	char *data = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	static const char zero[4];
	uint64_t gen = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errsz, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0 || (data = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = -ENOMEM;
		snprintf(err, errsz, "%s: cannot read it: %s", path, strerror(-rc));
		goto out;
	}
	if (read(fd, data, (size_t)st.st_size) != st.st_size) {
		rc = -EIO;
		snprintf(err, errsz, "%s: short read", path);
		goto out;
	}
	file = (struct rd){ data, (size_t)st.st_size, false, NULL };
	if (st.st_size == 0)
		goto out; /* never written */
	if (!get_bytes(&file, 4) || (p->ver = file_version(data)) == 0) {
		/* A journal restarted by a daemon killed before it wrote the
		 * magic is all zeros: nothing to apply. */
		if (journal && st.st_size >= 4 && memcmp(data, zero, 4) == 0)
			goto out;
		rc = -EINVAL;
		snprintf(err, errsz,
			 "%s: at offset 0: not a xenstored state file (no \"%s\", \"%s\" or \"%s\")",
			 path, MAGIC, MAGIC_V2, MAGIC_V1);
		goto out;
	}
	if (p->ver >= 3 && !get_bytes(&file, sizeof(gen))) {
		rc = journal ? 0 : -EINVAL;
		snprintf(err, errsz, "%s: at offset 4: truncated header (no generation)%s", path,
			 journal ? "; nothing replayed" : "");
		goto out;
	}
	if (p->ver >= 3)
		memcpy(&gen, data + 4, sizeof(gen));
	if (!journal) {
		p->gen = gen;
		p->has_gen = p->ver >= 3;
	} else if (!same_generation(p, p->ver >= 3, gen, path, err, errsz)) {
		goto out;
	}
	p->in_journal = journal;
	for (unsigned k = 1; file.left; k++) {
		size_t at = (size_t)(file.p - data);
		uint32_t type = get_u32(&file), len = get_u32(&file);
		const char *body = file.bad ? NULL : get_bytes(&file, len);
		struct rd r = { body, len, false, NULL };

		if (journal && (type == 0 || !body))
			break; /* the end of the journal, or a round torn by kill -9 */
		if (!body) {
			r.why = "truncated record header or payload";
			rc = -EINVAL;
		} else {
			rc = apply_record(p, type, &r);
			if (rc == 0 && r.left)
				fail(&r, "bytes left over after the record"), rc = -EINVAL;
			if (rc < 0 && !r.why)
				r.why = strerror(-rc);
		}
		if (rc < 0) {
			snprintf(err, errsz, "%s: record %u (%s, type %u) at offset %zu: %s%s", path, k,
				 type && type < R_TYPE_END ? rec_names[type] : "?", type, at, r.why,
				 journal ? "; the journal is replayed up to there" : "");
			/* The journal is written without fsync: after a power
			 * loss its last pages may hold anything.  What came
			 * before the bad record stands. */
			rc = journal ? 0 : -EINVAL;
			break;
		}
	}
out:
	free(data);
	close(fd);
	return rc;
}

/* Make the loaded tree consistent, then recount what each domain owns. */
void check_tree(struct xse_engine *eng)
{
	static const struct xse_perm n0 = { 0, XSE_PERM_NONE };
	bool changed = true;
	size_t i;

	if (!xse_lookup(eng, "/"))
		xse_put_raw(eng, "/", "", 0, &n0, 1);
	while (changed) {
		changed = false;
		for (struct htab_ent *e = htab_first(&eng->nodes, &i), *next; e; e = next) {
			struct xse_node *n = (struct xse_node *)e, *parent;
			char pp[4096 + 64];

			next = htab_next(&eng->nodes, e, &i);
			/* Drop child names whose node is missing. */
			for (uint32_t off = 0; off < n->clen;) {
				size_t len = strlen(n->children + off) + 1;
				char cp[4096 + 64];

				snprintf(cp, sizeof(cp), "%s/%s", strcmp(n->he.key, "/") ? n->he.key : "",
					 n->children + off);
				if (xse_lookup(eng, cp)) {
					off += (uint32_t)len;
					continue;
				}
				memmove(n->children + off, n->children + off + len, n->clen - off - len);
				n->clen -= (uint32_t)len;
			}
			if (strcmp(n->he.key, "/") == 0)
				continue;
			if (parent_path(n->he.key, pp, sizeof(pp)) == 0 &&
			    (parent = xse_lookup(eng, pp)) != NULL &&
			    lists_child(parent, strrchr(n->he.key, '/') + 1))
				continue;
			htab_remove(&eng->nodes, e);
			node_free(n);
			changed = true;
			next = htab_first(&eng->nodes, &i); /* the table changed: restart */
		}
	}
	for (uint32_t d = 0; d < XSE_DOMID_COUNT; d++)
		eng->doms[d].nodes = 0;
	for (struct htab_ent *e = htab_first(&eng->nodes, &i); e; e = htab_next(&eng->nodes, e, &i))
		eng->doms[((struct xse_node *)e)->perms[0].id].nodes++;
	/* The records bypassed the engine's memory accounting too. */
	xse_mem_rebuild(eng);
}

