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
	if (b->oom)
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
	rec_end(b, at);
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
		put_u32(b, (uint32_t)w->rel_skip);
		put_blob(b, w->path, (uint32_t)strlen(w->path));
		put_blob(b, w->token, (uint32_t)strlen(w->token));
	}
	for (; s; s = s->next) {
		if (s->domid != domid)
			continue;
		put_u32(b, s->rel);
		put_blob(b, s->path, (uint32_t)strlen(s->path));
		put_blob(b, s->token, (uint32_t)strlen(s->token));
	}
	rec_end(b, at);
}

void enc_ringio(struct buf *b, struct conn *c)
{
	size_t at = rec_begin(b, R_RINGIO);

	put_u32(b, c->cl.domid);
	put_u32(b, ring_rsp_prod(c->ring));
	put_u32(b, c->in_used);
	put(b, &c->hdr, c->in_used < sizeof(c->hdr) ? c->in_used : sizeof(c->hdr));
	if (c->in_used > sizeof(c->hdr))
		put(b, c->body, c->in_used - sizeof(c->hdr));
	put_u32(b, (uint32_t)c->oq_bytes);
	for (struct outmsg *m = c->oq_head; m; m = m->next) {
		size_t skip = m == c->oq_head ? c->head_off : 0;

		put(b, m->data + skip, m->len - skip);
	}
	rec_end(b, at);
	c->io_journaled = c->in_used || c->oq_bytes;
}

/* ---- decoding (input may be torn or hostile: every read is checked) ---- */


static uint32_t get_u32(struct rd *r)
{
	uint32_t v = 0;

	if (r->left < 4) {
		r->bad = true;
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

	if (r->left < n) {
		r->bad = true;
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

	if (!p || memchr(p, 0, n))
		return r->bad = true, NULL;
	s = malloc(n + 1);
	if (!s)
		return r->bad = true, NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static struct xse_perm *get_perms(struct rd *r, uint32_t *n)
{
	struct xse_perm *p;
	const char *src;

	*n = get_u32(r);
	if (r->bad || *n == 0 || *n > 4096)
		return r->bad = true, NULL;
	src = get_bytes(r, *n * (uint32_t)sizeof(*p));
	p = src ? malloc(*n * sizeof(*p)) : NULL;
	if (!p)
		return r->bad = true, NULL;
	memcpy(p, src, *n * sizeof(*p));
	for (uint32_t i = 0; i < *n; i++)
		p[i].id &= XSE_DOMID_COUNT - 1;
	return p;
}

static int apply_node(struct xse_engine *eng, struct rd *r, bool del)
{
	char *path = get_str(r);
	struct xse_node *n;
	struct xse_perm *perms = NULL;
	uint32_t np = 0, vlen = 0, clen = 0;
	const char *v = NULL, *c = NULL;
	int rc = -EINVAL;

	if (!path || path[0] != '/')
		goto out;
	n = xse_lookup(eng, path);
	if (del) {
		if (n) {
			htab_remove(&eng->nodes, &n->he);
			node_free(n);
		}
		rc = 0;
		goto out;
	}
	perms = get_perms(r, &np);
	vlen = get_u32(r);
	v = r->bad ? NULL : get_bytes(r, vlen);
	clen = get_u32(r);
	c = r->bad ? NULL : get_bytes(r, clen);
	if (r->bad || (clen && c[clen - 1] != '\0'))
		goto out;
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
	free(n->children);
	n->value = malloc(vlen ? vlen : 1);
	n->children = clen ? malloc(clen) : NULL;
	n->perms = perms;
	n->nperms = np;
	perms = NULL;
	n->vlen = n->value ? vlen : 0;
	n->clen = n->children ? clen : 0;
	if (n->value && vlen)
		memcpy(n->value, v, vlen);
	if (n->children)
		memcpy(n->children, c, clen);
	n->gen = ++eng->gen;
	rc = 0;
out:
	free(path);
	free(perms);
	return rc;
}

static int apply_meta(struct xse_engine *eng, struct rd *r)
{
	uint32_t nq = get_u32(r), nd;
	struct xse_perm *ip, *rp;
	uint32_t nip, nrp;

	for (uint32_t i = 0; i < nq && !r->bad; i++) {
		uint32_t v = get_u32(r);

		if (i < XSE_Q_COUNT && v > 0 && v < (1u << 30))
			eng->quota[i] = (int)v;
	}
	eng->soft_memory = (int)get_u32(r);
	nd = get_u32(r);
	if (r->bad || nd > XSE_DOMID_COUNT)
		return -EINVAL;
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
	return 0;
}

void drop_saved(struct persist *p, uint32_t domid)
{
	for (struct saved_watch **s = &p->saved; *s;) {
		struct saved_watch *w = *s;

		if (w->domid == domid) {
			*s = w->next;
			free(w->path);
			free(w->token);
			free(w);
		} else {
			s = &w->next;
		}
	}
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

static char *get_copy(struct rd *r, uint32_t *n)
{
	const char *src;
	char *dst;

	*n = get_u32(r);
	src = r->bad ? NULL : get_bytes(r, *n);
	dst = src ? malloc(*n ? *n : 1) : NULL;
	if (!dst)
		return r->bad = true, NULL;
	memcpy(dst, src, *n);
	return dst;
}

int apply_ringio(struct persist *p, struct rd *r)
{
	struct saved_io *io = calloc(1, sizeof(*io));

	if (!io)
		return -ENOMEM;
	io->domid = get_u32(r) & (XSE_DOMID_COUNT - 1);
	io->rsp_prod = get_u32(r);
	io->in = get_copy(r, &io->inlen);
	io->out = get_copy(r, &io->outlen);
	if (r->bad || io->inlen >= sizeof(struct xsd_sockmsg) + WIRE_BODY_MAX) {
		free(io->in);
		free(io->out);
		free(io);
		return -EINVAL;
	}
	drop_io(p, io->domid);
	io->next = p->saved_io;
	p->saved_io = io;
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
	uint32_t domid = get_u32(r) & (XSE_DOMID_COUNT - 1), next = get_u32(r);

	return r->bad ? -EINVAL : save_txid(p, domid, next);
}

static int apply_watches(struct persist *p, struct rd *r)
{
	uint32_t domid = get_u32(r) & (XSE_DOMID_COUNT - 1), n = get_u32(r);

	if (r->bad)
		return -EINVAL;
	drop_saved(p, domid);
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		struct saved_watch *w = calloc(1, sizeof(*w));

		if (!w)
			return -ENOMEM;
		w->domid = domid;
		w->rel = get_u32(r);
		w->path = get_str(r);
		w->token = get_str(r);
		w->next = p->saved;
		p->saved = w;
		if (r->bad)
			return -EINVAL;
	}
	return 0;
}

/* Apply every whole record of a file; stop quietly at a torn tail. */
int load_file(struct persist *p, const char *path)
{
	struct xse_engine *eng = &p->d->eng;
	struct rd file;
	struct stat st;
	char *data;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0 || (data = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	if (read(fd, data, (size_t)st.st_size) != st.st_size) {
		rc = -EIO;
		goto out;
	}
	file = (struct rd){ data, (size_t)st.st_size, false };
	if (!get_bytes(&file, 4) || memcmp(data, MAGIC, 4) != 0)
		goto out; /* empty or foreign: nothing to apply */
	while (file.left >= 8) {
		uint32_t type = get_u32(&file), len = get_u32(&file);
		const char *body = get_bytes(&file, len);
		struct rd r = { body, len, false };

		if (type == 0 || !body)
			break; /* end of the journal, or a torn tail */
		switch (type) {
		case R_NODE: rc = apply_node(eng, &r, false); break;
		case R_DEL: rc = apply_node(eng, &r, true); break;
		case R_META: rc = apply_meta(eng, &r); break;
		case R_WATCHES: rc = apply_watches(p, &r); break;
		case R_RINGIO: rc = apply_ringio(p, &r); break;
		case R_TXID: rc = apply_txid(p, &r); break;
		default: rc = -EINVAL; break;
		}
		if (rc < 0) {
			log_warn("state", "%s: bad record (type %u), ignoring the rest", path, type);
			rc = 0;
			break;
		}
	}
out:
	free(data);
	close(fd);
	return rc;
}

static bool lists_child(const struct xse_node *parent, const char *name)
{
	for (uint32_t off = 0; off < parent->clen; off += (uint32_t)strlen(parent->children + off) + 1)
		if (strcmp(parent->children + off, name) == 0)
			return true;
	return false;
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

