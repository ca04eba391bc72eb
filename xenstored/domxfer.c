/* Export and import of one domain's XenStore state, for `xl save` and
 * `xl restore` (docs/xenstored.md, "Export and import"): its home subtree,
 * its ring connection's watches, open transactions and bytes in flight.
 *
 * The records are those of Xen's docs/designs/xenstore-migration.md
 * (CONNECTION_DATA, WATCH_DATA, TRANSACTION_DATA, NODE_DATA, in that
 * order) inside the domus save stream (domus/stream.h), which frames,
 * bounds and pads them.  Every byte read is untrusted: each record is
 * parsed into scratch copies first, everything is checked as a fresh
 * request from the domain would be, and only then does anything change,
 * all or nothing.  A refusal is one line naming the record and its
 * offset. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xen/xen.h> /* DOMID_INVALID, DOMID_FIRST_RESERVED */

#include "daemon.h"
#include "domus/stream.h"
#include "persist.h"

/* The one connection a domain's export has (Xen's conn-id: non-zero). */
#define CONN_ID 1
#define CONN_TYPE_RING 0 /* Xen's conn-type "shared ring" */
/* Fixed part of CONNECTION_DATA: conn-id, conn-type, flags, the ring's
 * conn-spec (domid, tdomid, evtchn, and domus's next-txid), in-data-len,
 * out-resp-len, out-data-len. */
#define CONN_FIXED 28u
#define WATCH_FIXED 8u
#define NODE_FIXED 16u
#define MSG_MAX (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)
/* Nodes one export may hold: a home the node quota allows many times over
 * (Domain-0's nodes in it are not counted by that quota). */
#define NODES_MAX 65536u

/* ---- export ---- */

/* A permission as NODE_DATA has it: Xen's SET_PERMS letter, and in the pad
 * byte domus's one flag: 1 for an entry of a domain that has gone
 * (XSE_PERM_IGNORE), which grants nothing. */
static char perm_letter(uint32_t p)
{
	static const char letter[4] = { 'n', 'r', 'w', 'b' };

	return letter[p & (XSE_PERM_READ | XSE_PERM_WRITE)];
}

static int put_node(void *arg, const struct xse_node *n)
{
	struct stream_writer *w = arg, rec;
	size_t plen = strlen(n->he.key) + 1;
	int rc;

	if (plen > UINT16_MAX || n->vlen > UINT16_MAX || n->nperms > UINT16_MAX)
		return -E2BIG;
	stream_writer_init_mem(&rec);
	stream_put_u32(&rec, 0); /* conn-id: a committed node */
	stream_put_u32(&rec, 0); /* tx-id */
	stream_put_u16(&rec, (uint16_t)plen);
	stream_put_u16(&rec, (uint16_t)n->vlen);
	stream_put_u16(&rec, 0); /* access: only for pending nodes */
	stream_put_u16(&rec, (uint16_t)n->nperms);
	for (uint32_t i = 0; i < n->nperms; i++) {
		stream_put_u8(&rec, (uint8_t)perm_letter(n->perms[i].perms));
		stream_put_u8(&rec, (n->perms[i].perms & XSE_PERM_IGNORE) ? 1 : 0);
		stream_put_u16(&rec, (uint16_t)n->perms[i].id);
	}
	stream_put_bytes(&rec, n->he.key, plen);
	rc = stream_put_bytes(&rec, n->value, n->vlen);
	if (rc == 0)
		rc = stream_write_record(w, STREAM_REC_XS_NODE, rec.buf, (uint32_t)rec.len);
	stream_writer_fini(&rec);
	return rc;
}

/* A watch as the guest gave it: relative ones relative again, one naming
 * an old id of the domain with that id (alias.c). */
static int put_watch(struct stream_writer *w, uint32_t domid, const struct xse_watch *wa)
{
	char given[XENSTORE_ABS_PATH_MAX + 64];
	struct stream_writer rec;
	const char *path = given;
	size_t plen, tlen = strlen(wa->token) + 1;
	int rc;

	rc = xse_watch_given(domid, wa, given, sizeof(given));
	if (rc < 0)
		return rc;
	if (wa->rel_skip) {
		path = wa->path;
		path += wa->rel_skip;
		path += *path == '/';
	}
	plen = strlen(path) + 1;
	if (plen > UINT16_MAX || tlen > UINT16_MAX)
		return -E2BIG;
	stream_writer_init_mem(&rec);
	stream_put_u32(&rec, CONN_ID);
	stream_put_u16(&rec, (uint16_t)plen);
	stream_put_u16(&rec, (uint16_t)tlen);
	stream_put_bytes(&rec, path, plen);
	rc = stream_put_bytes(&rec, wa->token, tlen);
	if (rc == 0)
		rc = stream_write_record(w, STREAM_REC_XS_WATCH, rec.buf, (uint32_t)rec.len);
	stream_writer_fini(&rec);
	return rc;
}

static int put_conn(struct xsd *d, uint32_t domid, const struct conn *c, struct stream_writer *w)
{
	const struct xse_domain *dom = &d->eng.doms[domid];
	struct stream_writer rec;
	uint32_t in = c ? c->in_used : 0, out = c ? (uint32_t)c->oq_bytes : 0, resp = 0;
	int rc;

	/* The first queued message may be partly in the ring already: what is
	 * left of it is Xen's "partial response". */
	if (c && c->oq_head && c->head_off)
		resp = c->oq_head->len - (uint32_t)c->head_off;
	else if (c && c->oq_head && c->oq_head->partial)
		resp = c->oq_head->len;
	stream_writer_init_mem(&rec);
	stream_put_u32(&rec, CONN_ID);
	stream_put_u16(&rec, CONN_TYPE_RING);
	stream_put_u16(&rec, 0); /* flags: not read-only */
	stream_put_u16(&rec, (uint16_t)domid);
	stream_put_u16(&rec, dom->has_target ? (uint16_t)dom->target : DOMID_INVALID);
	/* evtchn: the port is the monitor's (it binds the ring's kicks), and
	 * XS_INTRODUCE's is not kept (docs/xenstored.md). */
	stream_put_u32(&rec, 0);
	stream_put_u32(&rec, c ? c->cl.next_txid : 0);
	stream_put_u16(&rec, (uint16_t)in);
	stream_put_u16(&rec, (uint16_t)resp);
	stream_put_u32(&rec, out);
	if (c) {
		stream_put_bytes(&rec, &c->hdr, in < sizeof(c->hdr) ? in : sizeof(c->hdr));
		if (in > sizeof(c->hdr))
			stream_put_bytes(&rec, c->body, in - sizeof(c->hdr));
		for (const struct outmsg *m = c->oq_head; m; m = m->next) {
			size_t skip = m == c->oq_head ? c->head_off : 0;

			stream_put_bytes(&rec, m->data + skip, m->len - skip);
		}
		/* domus's: how far the request ring was read (absent if not
		 * known: an import of a file without it, not claimed yet). */
		if (c->req_cons_known)
			stream_put_u32(&rec, c->req_cons);
	}
	rc = rec.error ? rec.error
		       : stream_write_record(w, STREAM_REC_XS_CONNECTION, rec.buf, (uint32_t)rec.len);
	stream_writer_fini(&rec);
	return rc;
}

/* XS_ALIASES (domus's own record): u16 version, u16 count, count x u16
 * old id.  Only a domain restored under a new id has one. */
#define ALIASES_VERSION 1

static int put_aliases(struct xsd *d, uint32_t domid, struct stream_writer *w)
{
	uint32_t old[XSE_ALIAS_MAX];
	unsigned n = xse_alias_get(&d->eng, domid, old);
	struct stream_writer rec;
	int rc;

	if (n == 0)
		return 0;
	stream_writer_init_mem(&rec);
	stream_put_u16(&rec, ALIASES_VERSION);
	stream_put_u16(&rec, (uint16_t)n);
	for (unsigned i = 0; i < n; i++)
		stream_put_u16(&rec, (uint16_t)old[i]);
	rc = rec.error ? rec.error
		       : stream_write_record(w, STREAM_REC_XS_ALIASES, rec.buf, (uint32_t)rec.len);
	stream_writer_fini(&rec);
	return rc;
}

static struct conn *live_ring_conn(struct xsd *d, uint32_t domid)
{
	for (struct conn *c = d->conns; c; c = c->next)
		if (c->kind == CONN_RING && !c->dead && c->cl.eng && c->cl.domid == domid)
			return c;
	return NULL;
}

static bool valid_domid(uint32_t domid)
{
	return domid > 0 && domid < DOMID_FIRST_RESERVED;
}

int xfer_export(struct xsd *d, uint32_t domid, struct stream_writer *w, char *err, size_t errsz)
{
	struct conn *c;
	char home[40];
	uint32_t ids[64];
	unsigned nids;
	int rc;

	if (!valid_domid(domid)) {
		snprintf(err, errsz, "domain id %u is not a guest's", domid);
		return -EINVAL;
	}
	c = live_ring_conn(d, domid);
	snprintf(home, sizeof(home), "/local/domain/%u", domid);
	if (!c && !xse_is_introduced(&d->eng, domid) && !xse_lookup(&d->eng, home)) {
		snprintf(err, errsz, "domain %u: no such domain", domid);
		return -ENOENT;
	}
	rc = stream_write_header(w);
	if (rc == 0)
		rc = put_conn(d, domid, c, w);
	if (rc == 0)
		rc = put_aliases(d, domid, w);
	for (const struct xse_watch *wa = c ? c->cl.watches : NULL; rc == 0 && wa; wa = wa->next)
		rc = put_watch(w, domid, wa);
	nids = c ? xse_txn_ids(&c->cl, ids, 64) : 0;
	for (unsigned i = 0; rc == 0 && i < nids && i < 64; i++) {
		struct stream_writer rec;

		stream_writer_init_mem(&rec);
		stream_put_u32(&rec, CONN_ID);
		stream_put_u32(&rec, ids[i]);
		rc = stream_write_record(w, STREAM_REC_XS_TRANSACTION, rec.buf, (uint32_t)rec.len);
		stream_writer_fini(&rec);
	}
	if (rc == 0 && nids > 64)
		rc = -E2BIG;
	if (rc == 0)
		rc = xse_walk_home(&d->eng, domid, put_node, w);
	if (rc == 0)
		rc = stream_write_end(w);
	if (rc < 0)
		snprintf(err, errsz, "domain %u: export failed: %s", domid, strerror(-rc));
	return rc;
}

/* ---- import: parse into scratch copies ---- */

struct imp_watch {
	char *path, *token;
	uint64_t at; /* record offset, for the error */
};

struct imp_node {
	struct xse_import_node n;
	uint64_t at;
};

struct imp {
	const struct xse_engine *eng; /* its quotas bound the counts */
	uint32_t from, to;
	int last_type;
	bool have_conn, have_aliases;
	uint32_t next_txid;
	/* The domain's old ids once imported: the file's, and `from` */
	uint32_t alias[XSE_ALIAS_MAX];
	unsigned nalias;
	char *in, *out;
	uint32_t inlen, outlen, resp;
	uint32_t req_cons; /* if has_cons: see put_conn */
	bool has_cons;
	struct imp_watch *w;
	size_t nw;
	uint32_t *tx;
	uint64_t *tx_at;
	size_t ntx;
	struct imp_node *nodes;
	size_t nn;
};

static void imp_free(struct imp *m)
{
	free(m->in);
	free(m->out);
	for (size_t i = 0; i < m->nw; i++) {
		free(m->w[i].path);
		free(m->w[i].token);
	}
	free(m->w);
	free(m->tx);
	free(m->tx_at);
	for (size_t i = 0; i < m->nn; i++) {
		free((char *)m->nodes[i].n.path);
		free((void *)m->nodes[i].n.val);
		free((void *)m->nodes[i].n.perms);
	}
	free(m->nodes);
}

/* Room for element n: the capacity is 16, then doubles whenever n reaches
 * it.  The counts are bounded (quotas, NODES_MAX) before they grow. */
static void *grow(void *v, size_t n, size_t sz)
{
	if (n == 0)
		return realloc(v, 16 * sz);
	if (n < 16 || (n & (n - 1)))
		return v;
	return realloc(v, 2 * n * sz);
}

/* A string field of len bytes (NUL included), with exactly one NUL, last. */
static const char *str_field(struct stream_cursor *cur, uint32_t len)
{
	const char *s = (const char *)cur->p + cur->off;

	if (len == 0 || cur->len - cur->off < len || s[len - 1] != '\0' || strlen(s) != len - 1)
		return NULL;
	cur->off += len;
	return s;
}

/* Bytes the guest had sent of a request not yet complete: a header that
 * ring.c would accept and less than its payload. */
static const char *check_in(const char *p, uint32_t n)
{
	struct xsd_sockmsg h;

	if (n < sizeof(h))
		return NULL;
	memcpy(&h, p, sizeof(h));
	if (!wire_header_ok(&h))
		return "partial request: payload length over XENSTORE_PAYLOAD_MAX";
	if (n >= sizeof(h) + h.len)
		return "partial request is complete or longer than its header says";
	return NULL;
}

/* Output not yet in the ring: the rest of a message partly written
 * (out-resp-len bytes), then whole messages with valid headers. */
static const char *check_out(const char *p, uint32_t n, uint32_t resp)
{
	uint32_t off = resp;

	if (resp > n || resp >= MSG_MAX)
		return "out-resp-len over the pending data or one message";
	while (off < n) {
		struct xsd_sockmsg h;

		if (n - off < sizeof(h))
			return "pending data ends inside a message header";
		memcpy(&h, p + off, sizeof(h));
		if (!wire_header_ok(&h) || n - off - sizeof(h) < h.len)
			return "pending data holds a message of bad length";
		off += (uint32_t)sizeof(h) + h.len;
	}
	return NULL;
}

static char *dup_bytes(const void *p, uint32_t n)
{
	char *s = malloc(n ? n : 1);

	if (s && n)
		memcpy(s, p, n);
	return s;
}

static const char *parse_conn(struct imp *m, struct stream_cursor *cur, uint64_t at)
{
	uint32_t id = stream_get_u32(cur), type = stream_get_u16(cur), flags = stream_get_u16(cur);
	uint32_t domid = stream_get_u16(cur), tdomid = stream_get_u16(cur);
	uint32_t in, resp, out;
	uint64_t rest;
	const char *why;

	(void)stream_get_u32(cur); /* evtchn: the monitor's, see put_conn */
	m->next_txid = stream_get_u32(cur);
	in = stream_get_u16(cur);
	resp = stream_get_u16(cur);
	out = stream_get_u32(cur);
	if (cur->short_read)
		return "truncated";
	if (m->have_conn)
		return "a second connection";
	if (id != CONN_ID || type != CONN_TYPE_RING || flags != 0)
		return "not the shared-ring connection of one domain";
	if (domid != m->from)
		return "names another domain than the one imported";
	if (tdomid != DOMID_INVALID && tdomid >= DOMID_FIRST_RESERVED)
		return "invalid target domain";
	/* The data, then domus's u32 req-cons (absent from older files). */
	rest = cur->len - cur->off;
	if (rest != (uint64_t)in + out && rest != (uint64_t)in + out + 4)
		return "data length differs from in-data-len + out-data-len (+ 4 for req-cons)";
	if (in >= MSG_MAX)
		return "partial request longer than one message";
	why = check_in((const char *)cur->p + cur->off, in);
	if (!why)
		why = check_out((const char *)cur->p + cur->off + in, out, resp);
	if (why)
		return why;
	m->in = dup_bytes(cur->p + cur->off, in);
	m->out = dup_bytes(cur->p + cur->off + in, out);
	if (!m->in || !m->out)
		return "out of memory";
	m->inlen = in;
	m->outlen = out;
	m->resp = resp;
	cur->off += in + out;
	if (rest != (uint64_t)in + out) {
		m->req_cons = stream_get_u32(cur);
		m->has_cons = true;
	}
	m->have_conn = true;
	(void)at;
	return NULL;
}

/* Absolute paths and tokens that name the old domain's home name the new
 * one's (relative ones move by themselves).  Paths of its devices' back-end
 * directories stay as the guest gave them: the domain answers to its old
 * ids there (alias.c), and its events must carry what the guest watched. */
static char *moved_string(const struct imp *m, const char *s)
{
	char buf[XENSTORE_PAYLOAD_MAX + 64];

	if (s[0] != '/')
		return strdup(s);
	if (xse_rewrite_domid(s, m->from, m->to, false, buf, sizeof(buf)) < 0)
		return NULL;
	return strdup(buf);
}

/* XS_ALIASES: the old ids of the exported domain (put_aliases).  Each is a
 * guest's id, not the exported domain's own, listed once; with the id the
 * file was taken of they are what the new domain answers to, except its
 * new id itself. */
static const char *parse_aliases(struct imp *m, struct stream_cursor *cur, uint64_t at)
{
	uint32_t version = stream_get_u16(cur), n = stream_get_u16(cur);
	uint32_t old[XSE_ALIAS_MAX];

	(void)at;
	if (cur->short_read)
		return "truncated";
	if (m->have_aliases)
		return "a second XS_ALIASES record";
	if (version != ALIASES_VERSION)
		return "unknown version";
	if (n == 0 || n > XSE_ALIAS_MAX)
		return "count of old ids not 1 to 4";
	if (cur->len - cur->off != 2ull * n)
		return "length differs from its count of old ids";
	for (uint32_t i = 0; i < n; i++)
		old[i] = stream_get_u16(cur);
	if (xse_alias_check(m->from, old, n) < 0)
		return "old id invalid, the domain's own or listed twice";
	if (xse_alias_compose(old, n, m->from, m->to, m->alias, &m->nalias) < 0)
		return "more old ids than a domain keeps (4): restore it under one of them";
	m->have_aliases = true;
	return NULL;
}

static const char *parse_watch(struct imp *m, struct stream_cursor *cur, uint64_t at)
{
	uint32_t id = stream_get_u32(cur), plen = stream_get_u16(cur), tlen = stream_get_u16(cur);
	const char *path, *token;
	struct imp_watch *v;

	if (cur->short_read)
		return "truncated";
	if (id != CONN_ID)
		return "names no connection of the stream";
	path = str_field(cur, plen);
	token = path ? str_field(cur, tlen) : NULL;
	if (!path || !token)
		return "path or token is not one NUL-terminated string of its length";
	if (plen + tlen > XENSTORE_PAYLOAD_MAX)
		return "path and token longer than a request";
	/* Xen compares with '>' (do_watch): quota + 1 watches fit. */
	if (m->nw > (size_t)m->eng->quota[XSE_Q_WATCHES])
		return "over the watches quota";
	v = grow(m->w, m->nw, sizeof(*m->w));
	if (!v)
		return "out of memory";
	m->w = v;
	v = &m->w[m->nw++];
	*v = (struct imp_watch){ moved_string(m, path), moved_string(m, token), at };
	return v->path && v->token ? NULL : "path or token too long once moved";
}

static const char *parse_txn(struct imp *m, struct stream_cursor *cur, uint64_t at)
{
	uint32_t id = stream_get_u32(cur), tx = stream_get_u32(cur);
	uint32_t *v;
	uint64_t *a;

	if (cur->short_read)
		return "truncated";
	if (id != CONN_ID)
		return "names no connection of the stream";
	if (tx == 0)
		return "transaction id 0";
	if (m->ntx > (size_t)m->eng->quota[XSE_Q_TRANSACTIONS])
		return "over the transactions quota";
	v = grow(m->tx, m->ntx, sizeof(*v));
	if (v)
		m->tx = v;
	a = v ? grow(m->tx_at, m->ntx, sizeof(*a)) : NULL;
	if (!a)
		return "out of memory";
	m->tx_at = a;
	m->tx[m->ntx] = tx;
	m->tx_at[m->ntx++] = at;
	return NULL;
}

static const char *parse_node(struct imp *m, struct stream_cursor *cur, uint64_t at)
{
	uint32_t id = stream_get_u32(cur), tx = stream_get_u32(cur);
	uint32_t plen = stream_get_u16(cur), vlen = stream_get_u16(cur);
	uint32_t access = stream_get_u16(cur), np = stream_get_u16(cur);
	char path[XENSTORE_ABS_PATH_MAX + 64];
	struct xse_perm *perms;
	const char *p;
	struct imp_node *v;

	if (cur->short_read)
		return "truncated";
	/* A transaction's pending nodes do not travel: it comes back lost. */
	if (id != 0 || tx != 0 || access != 0)
		return "node of a pending transaction";
	if (np == 0 || cur->len - cur->off != 4ull * np + plen + vlen)
		return "lengths differ from the record's";
	if (m->nn >= NODES_MAX)
		return "more nodes than an export holds";
	perms = calloc(np, sizeof(*perms));
	if (!perms)
		return "out of memory";
	for (uint32_t i = 0; i < np; i++) {
		char letter = (char)stream_get_u8(cur);
		uint8_t flags = stream_get_u8(cur);
		const char *k = strchr("nrwb", letter);

		perms[i].id = stream_get_u16(cur);
		if (!letter || !k || flags > 1) {
			free(perms);
			return "invalid permission";
		}
		perms[i].perms = (uint32_t)(k - "nrwb") | (flags ? XSE_PERM_IGNORE : 0);
		if (perms[i].id == m->from)
			perms[i].id = m->to;
	}
	p = str_field(cur, plen);
	if (!p || xse_rewrite_domid(p, m->from, m->to, false, path, sizeof(path)) != 1) {
		free(perms);
		return p ? "node outside the domain's home" : "path is not one NUL-terminated string of its length";
	}
	v = grow(m->nodes, m->nn, sizeof(*m->nodes));
	if (!v) {
		free(perms);
		return "out of memory";
	}
	m->nodes = v;
	v = &m->nodes[m->nn];
	v->n = (struct xse_import_node){ strdup(path), dup_bytes(cur->p + cur->off, vlen), vlen,
					 perms, np };
	v->at = at;
	m->nn++;
	cur->off += vlen;
	return v->n.path && v->n.val ? NULL : "out of memory";
}

/* The records an export holds, in the order they must come (Xen's
 * "records upon which other records depend must appear earlier"). */
static const struct {
	uint32_t type;
	const char *(*parse)(struct imp *m, struct stream_cursor *cur, uint64_t at);
} recs[] = {
	{ STREAM_REC_XS_CONNECTION, parse_conn },
	{ STREAM_REC_XS_ALIASES, parse_aliases },
	{ STREAM_REC_XS_WATCH, parse_watch },
	{ STREAM_REC_XS_TRANSACTION, parse_txn },
	{ STREAM_REC_XS_NODE, parse_node },
};

/* Whether anything follows the END record: a file is one export. */
static bool trailing(struct stream_reader *r)
{
	char extra;

	if (r->fd < 0)
		return r->off != r->mem_len;
	return read(r->fd, &extra, 1) != 0;
}

static int parse_all(struct imp *m, struct stream_reader *r)
{
	struct stream_record rec;
	int rc = stream_read_header(r);

	while (rc == 0) {
		struct stream_cursor cur;
		const char *why = NULL;
		int k = -1;

		rc = stream_read_record(r, &rec);
		if (rc < 0 || rec.type == STREAM_REC_END)
			break;
		for (int i = 0; i < (int)(sizeof(recs) / sizeof(recs[0])); i++)
			if (recs[i].type == rec.type)
				k = i;
		if (k < 0)
			why = "not a record of a xenstore export";
		else if (k < m->last_type)
			why = "out of order (connection, old ids, watches, transactions, nodes)";
		else if (k > 0 && !m->have_conn)
			why = "before the connection record";
		if (!why) {
			m->last_type = k;
			stream_cursor_init(&cur, &rec);
			why = recs[k].parse(m, &cur, rec.offset);
			if (!why && stream_cursor_done(&cur) < 0)
				why = "bytes left over";
		}
		if (why)
			rc = stream_reject(r, &rec, why);
	}
	if (rc == 0 && !m->have_conn)
		rc = stream_reject(r, &rec, "no connection record before it");
	if (rc == 0 && trailing(r))
		rc = stream_reject(r, &rec, "data after it");
	return rc;
}

/* ---- import: apply ---- */

static int domain_taken(struct xsd *d, uint32_t domid, char *err, size_t errsz)
{
	char home[40];

	snprintf(home, sizeof(home), "/local/domain/%u", domid);
	if (xse_is_introduced(&d->eng, domid) || live_ring_conn(d, domid) ||
	    xse_lookup(&d->eng, home) || d->eng.doms[domid].nodes) {
		snprintf(err, errsz, "domain %u exists (introduced, connected or owning nodes)",
			 domid);
		return -EEXIST;
	}
	return 0;
}

static int apply(struct xsd *d, struct imp *m, char *err, size_t errsz)
{
	struct xse_import_node *nodes = NULL;
	const char *why = NULL;
	struct conn *c;
	size_t bad = 0;
	int rc = 0;

	/* A file without XS_ALIASES: the domain's only old id is `from`. */
	if (!m->have_aliases && xse_alias_compose(NULL, 0, m->from, m->to, m->alias, &m->nalias) < 0)
		return -ENOSPC;
	c = conn_new(d, CONN_RING, -1, m->to);
	if (!c)
		return -ENOMEM;
	/* Before the watches: one naming an old id is translated. */
	rc = xse_alias_set(&d->eng, m->to, m->alias, m->nalias);
	if (rc < 0) {
		snprintf(err, errsz, "record XS_ALIASES: refused: %s", strerror(-rc));
		conn_free(c);
		return rc;
	}
	/* Ids the guest was given before come back as lost transactions
	 * when it uses them (txn.c); new ones do not reuse them. */
	c->cl.next_txid = m->next_txid;
	c->cl.lost_txid_below = m->next_txid;
	/* The guest's half-sent request: the rest comes from its ring when
	 * the ring is handed over again (ring.c ring_connect).  check_in()
	 * refused bad ones already; this is the path every restored request
	 * takes (conn.c). */
	rc = conn_restore_input(c, m->in, m->inlen);
	if (rc < 0)
		snprintf(err, errsz, "record XS_CONNECTION: partial request refused");
	/* Checked against the ring when it comes (ring.c ring_resume_cons). */
	c->req_cons = m->req_cons;
	c->req_cons_known = m->has_cons;
	for (size_t i = 0; rc == 0 && i < m->nw; i++) {
		rc = xse_watch(&c->cl, m->w[i].path, m->w[i].token);
		if (rc < 0)
			snprintf(err, errsz, "record XS_WATCH at offset %llu: refused: %s",
				 (unsigned long long)m->w[i].at, wire_errname(-rc));
	}
	for (size_t i = 0; rc == 0 && i < m->ntx; i++) {
		rc = xse_txn_restore(&c->cl, m->tx[i]);
		if (rc < 0)
			snprintf(err, errsz, "record XS_TRANSACTION at offset %llu: refused: %s",
				 (unsigned long long)m->tx_at[i],
				 rc == -EINVAL ? "transaction id listed twice" : wire_errname(-rc));
	}
	if (rc == 0 && m->nn) {
		nodes = calloc(m->nn, sizeof(*nodes));
		rc = nodes ? 0 : -ENOMEM;
		for (size_t i = 0; nodes && i < m->nn; i++)
			nodes[i] = m->nodes[i].n;
		if (rc == 0)
			rc = xse_import_home(&d->eng, m->to, nodes, m->nn, &c->cl, &bad, &why);
		if (rc < 0 && why)
			snprintf(err, errsz, "record XS_NODE at offset %llu: %s (%s)",
				 (unsigned long long)m->nodes[bad].at, why, nodes[bad].path);
		free(nodes);
	}
	if (rc < 0) {
		if (!err[0])
			snprintf(err, errsz, "import failed: %s", strerror(-rc));
		conn_free(c);
		xse_alias_set(&d->eng, m->to, NULL, 0);
		return rc;
	}
	if (m->resp) {
		conn_queue_raw(c, m->out, m->resp);
		if (c->oq_tail)
			c->oq_tail->partial = true;
	}
	if (m->outlen > m->resp)
		conn_queue_raw(c, m->out + m->resp, m->outlen - m->resp);
	persist_conn(d->persist, &c->cl);
	return 0;
}

int xfer_import(struct xsd *d, uint32_t from, uint32_t to, struct stream_reader *r, char *err,
		size_t errsz)
{
	struct imp m = { .eng = &d->eng, .from = from, .to = to };
	int rc;

	err[0] = '\0';
	if (!valid_domid(from) || !valid_domid(to)) {
		snprintf(err, errsz, "domain ids %u, %u: not a guest's", from, to);
		return -EINVAL;
	}
	rc = domain_taken(d, to, err, errsz);
	if (rc == 0) {
		rc = parse_all(&m, r);
		if (rc < 0)
			snprintf(err, errsz, "%s", stream_error(r));
	}
	if (rc == 0)
		rc = apply(d, &m, err, errsz);
	imp_free(&m);
	return rc;
}

/* ---- quiescing ---- */

void xfer_freeze(struct xsd *d, uint32_t domid, bool frozen)
{
	struct conn *c = live_ring_conn(d, domid);

	if (!c)
		return;
	c->frozen = frozen;
	if (!frozen && c->ring)
		ring_wake(c->ring);
}

/* ---- the control commands ---- */

static int parse_domid(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= DOMID_FIRST_RESERVED)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int export_file(struct xsd *d, uint32_t domid, const char *path, char *err, size_t errsz)
{
	struct stream_writer w;
	char tmp[PATH_MAX];
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errsz, "%.200s: %s", tmp, strerror(-rc));
		return rc;
	}
	stream_writer_init_fd(&w, fd);
	rc = xfer_export(d, domid, &w, err, errsz);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		if (!err[0])
			snprintf(err, errsz, "%.200s: %s", path, strerror(-rc));
	}
	return rc;
}

static int import_file(struct xsd *d, uint32_t from, uint32_t to, const char *path, char *err,
		       size_t errsz)
{
	struct stream_reader r;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errsz, "%.200s: %s", path, strerror(-rc));
		return rc;
	}
	stream_reader_init_fd(&r, fd);
	rc = xfer_import(d, from, to, &r, err, errsz);
	stream_reader_fini(&r);
	close(fd);
	return rc;
}

void xfer_claimed(struct xsd *d, uint32_t domid)
{
	for (struct conn *c = d->conns; c; c = c->next)
		if (c->kind == CONN_RING && c->cl.domid == domid)
			c->importer = NULL;
}

void xfer_importer_gone(struct xsd *d, struct conn *by)
{
	char home[40];

	for (struct conn *c = d->conns; c; c = c->next) {
		uint32_t domid = c->cl.domid;
		int rc;

		if (c->importer != by || c->dead)
			continue;
		c->importer = NULL;
		/* The waiting connection first, so that its own watches do
		 * not fire; then the home, as the importer: Domain-0, which
		 * may remove any node; journalled and firing others' watches
		 * as an XS_RM does. */
		conn_drop_domain(d, domid);
		xse_alias_set(&d->eng, domid, NULL, 0);
		snprintf(home, sizeof(home), "/local/domain/%u", domid);
		rc = xse_rm(&by->cl, 0, home);
		log_warn("control", "import-domain of domain %u abandoned (its importer left before the domain came): "
				    "undone%s%s", domid, rc < 0 && rc != -ENOENT ? ", its home not removed: " : "",
			 rc < 0 && rc != -ENOENT ? strerror(-rc) : "");
	}
}

/* "import-domain 5 9: done, domain 9 answers to old id(s) 5": the old
 * ids say why a guest's old back-end paths work (alias.c). */
static void log_done(struct xsd *d, const char *cmd, const char **v, uint32_t to)
{
	uint32_t old[XSE_ALIAS_MAX];
	unsigned n = to ? xse_alias_get(&d->eng, to, old) : 0;
	char ids[XSE_ALIAS_MAX * 8 + 1] = "";
	size_t used = 0;

	for (unsigned i = 0; i < n; i++)
		used += (size_t)snprintf(ids + used, sizeof(ids) - used, "%s%u", i ? " " : "", old[i]);
	if (n)
		log_info("control", "%s %s %s: done, domain %u answers to old id(s) %s", cmd, v[0], v[1],
			 to, ids);
	else
		log_info("control", "%s %s%s%s: done", cmd, v[0], to ? " " : "", to ? v[1] : "");
}

int xfer_command(struct xsd *d, struct conn *by, const char *cmd, const char **v, unsigned n)
{
	char err[STREAM_ERR_MAX + 128] = "";
	uint32_t a = 0, b = 0;
	bool import = strcmp(cmd, "import-domain") == 0;
	struct conn *c;
	int rc;

	if (n != (import ? 3u : 2u) || parse_domid(v[0], &a) < 0 ||
	    (import && parse_domid(v[1], &b) < 0) || v[n - 1][0] != '/')
		return -EINVAL;
	if (import) {
		rc = import_file(d, a, b, v[2], err, sizeof(err));
		if (rc == 0 && by && by->kind == CONN_SOCKET && (c = live_ring_conn(d, b)))
			c->importer = by;
	} else {
		rc = export_file(d, a, v[1], err, sizeof(err));
		/* Nothing more is read from or written to its ring: what the
		 * file holds is all it has (the monitor paused its vCPUs). */
		if (rc == 0)
			xfer_freeze(d, a, true);
	}
	if (rc < 0)
		log_warn("control", "%s: %s", cmd, err);
	/* The wire has no EBADMSG (xs_wire.h xsd_errors), and EINVAL makes
	 * xenstore-control say the command is not supported: a refused file
	 * is an I/O error to the caller, the log says which record. */
	if (rc == -EBADMSG)
		rc = -EIO;
	else if (rc == 0)
		log_done(d, cmd, v, import ? b : 0);
	return rc;
}
