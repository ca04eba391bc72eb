/* Unit tests of a domain's export and import (xenstored/domxfer.c and
 * migrate.c; docs/xenstored.md, "Export and import"): a guest with nodes,
 * two watches, an open transaction, a half-sent request and queued replies
 * is exported, released and imported under another id; everything comes
 * back rewritten for the new id, export -> import -> export gives the same
 * bytes, and every truncated or corrupted stream is refused without a
 * trace.  The old ids a restored domain answers to (XS_ALIASES) travel,
 * compose across restores and are refused when malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "domus/stream.h"

#define HALF_BODY "data/half\0abc"
#define HALF_LEN (uint32_t)sizeof(HALF_BODY) /* NUL included: sent as the value */
#define HALF_CUT 7u                            /* bytes of the body sent before export */
/* A frontend's watch on its backend's state directory, token a path. */
#define BE_WATCH "/local/domain/0/backend/vbd/5/51712\0/local/domain/5/device/vbd/51712"

struct fx {
	struct xsd a, b, c;
	struct xse_client dom0a, dom0b, dom0c;
	struct stream_writer first;
	uint32_t txid;
};

static void gone(struct xse_engine *eng, uint32_t domid, void *opaque)
{
	conn_drop_domain(opaque, domid);
}

/* What the daemon's loop does after each round: dead connections go. */
static void reap(struct xsd *d)
{
	for (struct conn *c = d->conns, *next; c; c = next) {
		next = c->next;
		if (c->dead)
			conn_free(c);
	}
}

static void daemon_init(struct xsd *d, struct xse_client *dom0)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(xse_init(&d->eng), 0);
	d->eng.hook_opaque = d;
	d->eng.domain_gone = gone;
	d->env = (struct ops_env){ .eng = &d->eng, .daemon = d };
	xse_client_init(&d->eng, dom0, 0, NULL, NULL);
	assert_int_equal(xse_write(dom0, 0, "/local/domain", "", 0), 0);
}

static void daemon_fini(struct xsd *d, struct xse_client *dom0)
{
	while (d->conns)
		conn_free(d->conns);
	xse_client_dispose(dom0);
	xse_dispose(&d->eng);
}

static void feed(struct conn *c, uint32_t type, uint32_t tx, const void *body, uint32_t len,
		 uint32_t cut)
{
	char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = { .type = type, .req_id = 77, .tx_id = tx, .len = len };

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), body, len);
	assert_int_equal(conn_feed(c, buf, sizeof(h) + cut), (long)(sizeof(h) + cut));
}

static struct conn *ring_conn(struct xsd *d, uint32_t domid)
{
	for (struct conn *c = d->conns; c; c = c->next)
		if (c->kind == CONN_RING && !c->dead && c->cl.domid == domid)
			return c;
	return NULL;
}

/* The last message queued on c: its type, and its body in buf. */
static uint32_t last_msg(struct conn *c, char *buf)
{
	struct xsd_sockmsg h;

	assert_non_null(c->oq_tail);
	memcpy(&h, c->oq_tail->data, sizeof(h));
	memcpy(buf, c->oq_tail->data + sizeof(h), h.len);
	return h.type;
}

/* A guest as libxl lays it out, then its own doings over its ring. */
static void make_guest(struct fx *f)
{
	struct xse_perm home[2] = { { 0, XSE_PERM_NONE }, { 5, XSE_PERM_READ } };
	struct xse_perm own[1] = { { 5, XSE_PERM_NONE } };
	struct xse_client *d0 = &f->dom0a;
	struct conn *c;
	uint32_t n;

	assert_int_equal(xse_write(d0, 0, "/local/domain/5", "", 0), 0);
	assert_int_equal(xse_set_perms(d0, 0, "/local/domain/5", home, 2), 0);
	assert_int_equal(xse_write(d0, 0, "/local/domain/5/name", "guest", 5), 0);
	assert_int_equal(xse_write(d0, 0, "/local/domain/5/device/vbd/51712/backend",
				   "/local/domain/0/backend/vbd/5/51712", 35), 0);
	/* Enough nodes that the importer's lists grow past their first size. */
	for (int i = 0; i < 20; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/local/domain/5/device/many/%d", i);
		assert_int_equal(xse_write(d0, 0, p, "x", 1), 0);
	}
	assert_int_equal(xse_mkdir(d0, 0, "/local/domain/5/data"), 0);
	assert_int_equal(xse_set_perms(d0, 0, "/local/domain/5/data", own, 1), 0);
	assert_int_equal(xse_write(d0, 0, "/local/domain/0/backend/vbd/5/51712/state", "4", 1), 0);
	assert_int_equal(xse_introduce(&f->a.eng, 5), 0);
	assert_int_equal(xse_introduce(&f->a.eng, 6), 0);
	c = conn_new(&f->a, CONN_RING, -1, 5);
	assert_non_null(c);
	feed(c, XS_WRITE, 0, "data/x\0hello", 12, 12);
	feed(c, XS_WRITE, 0, "data/bin\0b\0\1n", 13, 13);
	feed(c, XS_WRITE, 0, "data/acl\0", 9, 9);
	feed(c, XS_SET_PERMS, 0, "data/acl\0" "b5\0r6\0", 15, 15);
	/* Domain 6 goes: its entry stays but grants nothing. */
	assert_int_equal(xse_release(&f->a.eng, 6), 0);
	feed(c, XS_WATCH, 0, "data\0tokA", 10, 10);
	feed(c, XS_WATCH, 0, BE_WATCH, sizeof(BE_WATCH), sizeof(BE_WATCH));
	feed(c, XS_TRANSACTION_START, 0, "", 1, 1);
	assert_int_equal(xse_txn_ids(&c->cl, &f->txid, 1), 1);
	feed(c, XS_WRITE, f->txid, "data/t\0v", 8, 8);
	feed(c, XS_WRITE, 0, HALF_BODY, HALF_LEN, HALF_CUT); /* half sent */
	assert_int_equal(c->in_used, sizeof(struct xsd_sockmsg) + HALF_CUT);
	n = c->oq_count;
	assert_true(n >= 10); /* replies and initial events, no ring to take them */
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	daemon_init(&f->a, &f->dom0a);
	daemon_init(&f->b, &f->dom0b);
	daemon_init(&f->c, &f->dom0c);
	make_guest(f);
	stream_writer_init_mem(&f->first);
	if (xfer_export(&f->a, 5, &f->first, err, sizeof(err)) < 0)
		fail_msg("export: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	stream_writer_fini(&f->first);
	daemon_fini(&f->a, &f->dom0a);
	daemon_fini(&f->b, &f->dom0b);
	daemon_fini(&f->c, &f->dom0c);
	free(f);
	return 0;
}

static int import_buf(struct xsd *d, uint32_t from, uint32_t to, const void *p, size_t n,
		      char *err, size_t errsz)
{
	struct stream_reader r;
	int rc;

	stream_reader_init_mem(&r, p, n);
	rc = xfer_import(d, from, to, &r, err, errsz);
	stream_reader_fini(&r);
	return rc;
}

static void assert_value(struct xse_engine *eng, const char *path, const void *v, uint32_t n)
{
	struct xse_node *k = xse_lookup(eng, path);

	assert_non_null(k);
	assert_int_equal(k->vlen, n);
	assert_memory_equal(k->value, v, n);
}

static void test_import_under_new_id(void **state)
{
	struct fx *f = *state;
	struct conn *c;
	struct xse_node *k;
	struct xse_watch *w;
	struct xse_perm bperm[2] = { { 0, XSE_PERM_NONE }, { 9, XSE_PERM_READ } };
	char err[256], buf[XENSTORE_PAYLOAD_MAX + 1];

	/* The old domain goes (xl save destroys it) before it comes back. */
	assert_int_equal(xse_release(&f->a.eng, 5), 0);
	reap(&f->a);
	assert_int_equal(import_buf(&f->b, 5, 9, f->first.buf, f->first.len, err, sizeof(err)), 0);
	assert_null(xse_lookup(&f->b.eng, "/local/domain/5"));
	assert_value(&f->b.eng, "/local/domain/9/data/x", "hello", 5);
	assert_value(&f->b.eng, "/local/domain/9/data/bin", "b\0\1n", 4);
	/* Values are data: the toolstack rewrites the ones naming domains. */
	assert_value(&f->b.eng, "/local/domain/9/device/vbd/51712/backend",
		     "/local/domain/0/backend/vbd/5/51712", 35);
	/* Owners and ACL entries naming the old id name the new one. */
	k = xse_lookup(&f->b.eng, "/local/domain/9");
	assert_int_equal(k->nperms, 2);
	assert_int_equal(k->perms[0].id, 0);
	assert_int_equal(k->perms[1].id, 9);
	assert_int_equal(k->perms[1].perms, XSE_PERM_READ);
	k = xse_lookup(&f->b.eng, "/local/domain/9/data/acl");
	assert_int_equal(k->perms[0].id, 9);
	assert_int_equal(k->perms[0].perms, XSE_PERM_READ | XSE_PERM_WRITE);
	assert_int_equal(k->perms[1].id, 6);
	assert_int_equal(k->perms[1].perms, XSE_PERM_READ | XSE_PERM_IGNORE);
	assert_int_equal(f->b.eng.doms[9].nodes, 4); /* data, x, bin, acl */
	assert_int_equal(f->b.eng.doms[9].memory,
			 xse_mem_expected(&f->b.eng, 9) + (int64_t)ring_conn(&f->b, 9)->oq_bytes);
	/* Its connection waits for the ring, with what it had. */
	c = ring_conn(&f->b, 9);
	assert_non_null(c);
	assert_null(c->ring);
	assert_int_equal(c->cl.nwatches, 2);
	w = c->cl.watches;
	assert_string_equal(w->path, "/local/domain/9/data");
	assert_string_equal(w->token, "tokA");
	assert_int_equal(w->rel_skip, strlen("/local/domain/9"));
	/* The frontend's watch on its back end: served at the new id, given
	 * back in the old form (the guest's kernel compares event paths with
	 * the back-end path it read before the save). */
	w = w->next;
	assert_string_equal(w->path, "/local/domain/0/backend/vbd/9/51712");
	assert_int_equal(w->alias_old, 5);
	assert_string_equal(w->token, "/local/domain/9/device/vbd/51712");
	assert_int_equal(f->b.eng.doms[9].nalias, 1);
	assert_int_equal(f->b.eng.doms[9].alias[0], 5);
	/* Writes after the import fire its watches with the new paths (the
	 * toolstack made the new backend directory readable to it). */
	assert_int_equal(xse_write(&f->dom0b, 0, "/local/domain/0/backend/vbd/9/51712", "", 0), 0);
	assert_int_equal(xse_set_perms(&f->dom0b, 0, "/local/domain/0/backend/vbd/9/51712", bperm, 2),
			 0);
	assert_int_equal(xse_write(&f->dom0b, 0, "/local/domain/9/data/new", "1", 1), 0);
	assert_int_equal(last_msg(c, buf), XS_WATCH_EVENT);
	assert_string_equal(buf, "data/new");
	assert_string_equal(buf + strlen(buf) + 1, "tokA");
	assert_int_equal(xse_write(&f->dom0b, 0, "/local/domain/0/backend/vbd/9/51712/state", "5", 1),
			 0);
	assert_int_equal(last_msg(c, buf), XS_WATCH_EVENT);
	assert_string_equal(buf, "/local/domain/0/backend/vbd/5/51712/state");
	/* The half-sent request completes once the rest arrives. */
	assert_int_equal(conn_feed(c, HALF_BODY + HALF_CUT, HALF_LEN - HALF_CUT),
			 (long)(HALF_LEN - HALF_CUT));
	assert_int_equal(last_msg(c, buf), XS_WRITE);
	assert_string_equal(buf, "OK");
	assert_value(&f->b.eng, "/local/domain/9/data/half", "abc", 4);
	/* Its reads of the old back-end path reach the new back end. */
	feed(c, XS_READ, 0, "/local/domain/0/backend/vbd/5/51712/state", 42, 42);
	assert_int_equal(last_msg(c, buf), XS_READ);
	assert_memory_equal(buf, "5", 1);
	/* The open transaction did not travel: it is lost, and its commit
	 * fails with EAGAIN so the guest redoes it; its write never lands. */
	assert_int_equal(xse_txn_end(&c->cl, f->txid, true), -EAGAIN);
	assert_null(xse_lookup(&f->b.eng, "/local/domain/9/data/t"));
}

static void test_round_trip_same_bytes(void **state)
{
	struct fx *f = *state;
	struct stream_writer second, third;
	char err[256];

	assert_int_equal(xse_release(&f->a.eng, 5), 0);
	reap(&f->a);
	assert_int_equal(import_buf(&f->b, 5, 9, f->first.buf, f->first.len, err, sizeof(err)), 0);
	stream_writer_init_mem(&second);
	assert_int_equal(xfer_export(&f->b, 9, &second, err, sizeof(err)), 0);
	/* One record more (the old id 5: XS_ALIASES, 16 bytes with its
	 * header), other bytes where the id is. */
	assert_int_equal(second.len, f->first.len + 16);
	assert_memory_not_equal(second.buf, f->first.buf, f->first.len);
	/* Under its own id again: the same bytes. */
	assert_int_equal(import_buf(&f->c, 9, 9, second.buf, second.len, err, sizeof(err)), 0);
	stream_writer_init_mem(&third);
	assert_int_equal(xfer_export(&f->c, 9, &third, err, sizeof(err)), 0);
	assert_int_equal(third.len, second.len);
	assert_memory_equal(third.buf, second.buf, third.len);
	stream_writer_fini(&third);
	/* Back under 5 (in a, where 5 was released and xl removed its home):
	 * the domain answers to 9,
	 * the id it last had, and to nothing else; otherwise the first
	 * export's bytes. */
	assert_int_equal(xse_rm(&f->dom0a, 0, "/local/domain/5"), 0);
	assert_int_equal(import_buf(&f->a, 9, 5, second.buf, second.len, err, sizeof(err)), 0);
	assert_int_equal(f->a.eng.doms[5].nalias, 1);
	assert_int_equal(f->a.eng.doms[5].alias[0], 9);
	stream_writer_init_mem(&third);
	assert_int_equal(xfer_export(&f->a, 5, &third, err, sizeof(err)), 0);
	assert_int_equal(third.len, f->first.len + 16);
	stream_writer_fini(&second);
	stream_writer_fini(&third);
}

/* What an import that failed must leave: exactly what was there. */
struct snap {
	size_t nodes;
	int64_t mem0, mem9;
	uint32_t nodes9, watches9, clen;
	uint64_t gen_parent;
	unsigned nconns;
};

static struct snap snap_of(struct xsd *d)
{
	struct xse_node *p = xse_lookup(&d->eng, "/local/domain");
	struct snap s;

	memset(&s, 0, sizeof(s)); /* compared whole, padding included */
	s.nodes = xse_node_count(&d->eng);
	s.mem0 = d->eng.doms[0].memory;
	s.mem9 = d->eng.doms[9].memory;
	s.nodes9 = d->eng.doms[9].nodes;
	s.watches9 = d->eng.doms[9].watches;
	s.clen = p->clen;
	s.gen_parent = p->gen;
	s.nconns = d->nconns;
	return s;
}

static void assert_unchanged(struct xsd *d, const struct snap *s)
{
	struct snap now = snap_of(d);

	assert_memory_equal(&now, s, sizeof(now));
	assert_int_equal(d->eng.doms[9].nalias, 0);
	assert_null(xse_lookup(&d->eng, "/local/domain/9"));
	assert_null(ring_conn(d, 9));
}

static void test_every_truncation_refused(void **state)
{
	struct fx *f = *state;
	struct snap s = snap_of(&f->b);
	char err[256];

	for (size_t n = 0; n < f->first.len; n++) {
		err[0] = '\0';
		assert_int_equal(import_buf(&f->b, 5, 9, f->first.buf, n, err, sizeof(err)),
				 -EBADMSG);
		assert_true(strlen(err) > 0 && !strchr(err, '\n'));
		assert_unchanged(&f->b, &s);
	}
}

static int count_one(void *arg, const struct xse_node *n)
{
	(*(size_t *)arg)++;
	return 0;
}

static size_t count_home(struct xsd *d, uint32_t domid)
{
	size_t n = 0;

	assert_int_equal(xse_walk_home(&d->eng, domid, count_one, &n), 0);
	return n;
}

/* Undo a corrupted import that was taken (its bytes still made sense). */
static void drop_imported(struct xsd *d, struct xse_client *dom0)
{
	assert_int_equal(xse_introduce(&d->eng, 9), 0);
	assert_int_equal(xse_release(&d->eng, 9), 0);
	reap(d);
	xse_rm(dom0, 0, "/local/domain/9");
}

/* Every byte flipped: refused, or taken whole and consistent.  A flip in a
 * record header or in a fixed field is always refused; one in a value (or
 * a path byte that stays a valid path) cannot be told from data. */
static void test_every_corruption_refused_or_consistent(void **state)
{
	struct fx *f = *state;
	struct snap s = snap_of(&f->b);
	uint8_t *copy = malloc(f->first.len);
	unsigned refused = 0, taken = 0;
	char err[256];

	assert_non_null(copy);
	for (size_t at = 0; at < f->first.len; at++) {
		int rc;

		memcpy(copy, f->first.buf, f->first.len);
		copy[at] ^= 0xff;
		err[0] = '\0';
		rc = import_buf(&f->b, 5, 9, copy, f->first.len, err, sizeof(err));
		if (rc < 0) {
			assert_true(strlen(err) > 0 && !strchr(err, '\n'));
			assert_unchanged(&f->b, &s);
			refused++;
			continue;
		}
		/* Taken: confined to the new home, and charged exactly. */
		taken++;
		assert_int_equal(xse_node_count(&f->b.eng), s.nodes + count_home(&f->b, 9));
		assert_int_equal(f->b.eng.doms[9].memory,
				 xse_mem_expected(&f->b.eng, 9) + (int64_t)ring_conn(&f->b, 9)->oq_bytes);
		drop_imported(&f->b, &f->dom0b);
		assert_int_equal(xse_node_count(&f->b.eng), s.nodes);
		s = snap_of(&f->b);
	}
	assert_true(refused > taken);
	free(copy);
}

/* Each record's 8-byte header, and each fixed field, refused when flipped. */
static void test_structure_corruption_refused(void **state)
{
	struct fx *f = *state;
	struct snap s = snap_of(&f->b);
	uint8_t *copy = malloc(f->first.len);
	struct stream_reader r;
	struct stream_record rec;
	char err[256];

	assert_non_null(copy);
	stream_reader_init_mem(&r, f->first.buf, f->first.len);
	assert_int_equal(stream_read_header(&r), 0);
	for (size_t at = 0; at < STREAM_HEADER_SIZE; at++) {
		memcpy(copy, f->first.buf, f->first.len);
		copy[at] ^= 0x5a;
		assert_true(import_buf(&f->b, 5, 9, copy, f->first.len, err, sizeof(err)) < 0);
		assert_unchanged(&f->b, &s);
	}
	do {
		/* The fixed part: record header, then the fields before the
		 * strings (not CONNECTION's tdomid, evtchn and next-txid, nor a
		 * transaction's id: any value is one). */
		size_t fixed = 8;

		assert_int_equal(stream_read_record(&r, &rec), 0);
		if (rec.type == STREAM_REC_XS_WATCH)
			fixed += 8;
		else if (rec.type == STREAM_REC_XS_TRANSACTION)
			fixed += 4;
		else if (rec.type == STREAM_REC_XS_NODE)
			fixed += 16;
		else if (rec.type == STREAM_REC_XS_CONNECTION)
			fixed += 10; /* conn-id, conn-type, flags, domid */
		for (size_t i = 0; i < fixed; i++) {
			memcpy(copy, f->first.buf, f->first.len);
			copy[rec.offset + i] ^= 0x5a;
			err[0] = '\0';
			assert_true(import_buf(&f->b, 5, 9, copy, f->first.len, err, sizeof(err)) < 0);
			assert_true(err[0] != '\0');
			assert_unchanged(&f->b, &s);
		}
	} while (rec.type != STREAM_REC_END);
	stream_reader_fini(&r);
	free(copy);
}

/* A stream with one record changed by `edit`, imported: its error. */
static int import_edited(struct fx *f, uint32_t type, void (*edit)(uint8_t *p, uint32_t len),
			 char *err, size_t errsz)
{
	uint8_t *copy = malloc(f->first.len);
	struct stream_reader r;
	struct stream_record rec;
	int rc;

	assert_non_null(copy);
	memcpy(copy, f->first.buf, f->first.len);
	stream_reader_init_mem(&r, f->first.buf, f->first.len);
	assert_int_equal(stream_read_header(&r), 0);
	do {
		assert_int_equal(stream_read_record(&r, &rec), 0);
	} while (rec.type != type);
	edit(copy + rec.offset + 8, rec.len);
	stream_reader_fini(&r);
	rc = import_buf(&f->b, 5, 9, copy, f->first.len, err, errsz);
	free(copy);
	return rc;
}

static void node_outside(uint8_t *p, uint32_t len)
{
	/* The first node's path: "/local/domain/5" becomes "/local/domain/6". */
	p[16 + 4 * 2 + 14] = '6';
}

static void node_bad_letter(uint8_t *p, uint32_t len)
{
	p[16] = 'x';
}

static void watch_bad_path(uint8_t *p, uint32_t len)
{
	p[8] = '~'; /* "data" -> "~ata": not a valid path */
}

static void conn_in_too_long(uint8_t *p, uint32_t len)
{
	/* The partial request's header says a payload over 4096 bytes. */
	p[28 + 12] = 0xff;
	p[28 + 13] = 0xff;
}

static void test_refusals_name_the_record(void **state)
{
	struct fx *f = *state;
	struct snap s = snap_of(&f->b);
	char err[256];

	assert_int_equal(import_edited(f, STREAM_REC_XS_NODE, node_outside, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "record XS_NODE at offset "));
	assert_non_null(strstr(err, "node outside the domain's home"));
	assert_unchanged(&f->b, &s);
	assert_int_equal(import_edited(f, STREAM_REC_XS_NODE, node_bad_letter, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "invalid permission"));
	assert_unchanged(&f->b, &s);
	/* A watch is checked as a fresh WATCH request would be. */
	assert_int_equal(import_edited(f, STREAM_REC_XS_WATCH, watch_bad_path, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "record XS_WATCH at offset "));
	assert_non_null(strstr(err, "EINVAL"));
	assert_unchanged(&f->b, &s);
	/* The partial request is checked as ring.c checks a header. */
	assert_int_equal(import_edited(f, STREAM_REC_XS_CONNECTION, conn_in_too_long, err,
				       sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "record XS_CONNECTION at offset 16: partial request"));
	assert_unchanged(&f->b, &s);
	/* A file is one export: nothing may follow its END. */
	stream_write_end(&f->first);
	assert_int_equal(import_buf(&f->b, 5, 9, f->first.buf, f->first.len, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "record END at offset "));
	assert_non_null(strstr(err, ": data after it"));
	assert_unchanged(&f->b, &s);
}

static void conn_out_len_off_by_two(uint8_t *p, uint32_t len)
{
	uint32_t out;

	memcpy(&out, p + 24, 4);
	out -= 2;
	memcpy(p + 24, &out, 4);
}

/* How far the guest's request ring was read travels with the bytes in
 * flight (XS_CONNECTION's last u32, domus's): the import keeps it for the
 * ring's hand-over (ring.c ring_resume_cons), the next export writes it
 * again.  A file without it (an older export) imports as "the ring's own
 * index" and exports without it; the data then has to be exactly
 * in-data-len + out-data-len, or those plus 4. */
static void test_ring_index_travels(void **state)
{
	struct fx *f = *state;
	struct stream_writer with, again, plain;
	struct conn *c = ring_conn(&f->a, 5);
	char err[256];

	/* Two bytes more data than in-data-len + out-data-len: refused. */
	assert_int_equal(import_edited(f, STREAM_REC_XS_CONNECTION, conn_out_len_off_by_two, err,
				       sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "data length differs"));
	/* As a connection serving a ring has it. */
	c = ring_conn(&f->a, 5);
	c->req_cons = 0x12345;
	c->req_cons_known = true;
	stream_writer_init_mem(&with);
	assert_int_equal(xfer_export(&f->a, 5, &with, err, sizeof(err)), 0);
	assert_memory_not_equal(with.buf, f->first.buf, f->first.len); /* 4 bytes more */
	if (getenv("XS_XFER_SEEDS")) {
		char path[512];
		FILE *out;

		snprintf(path, sizeof(path), "%s/guest5-cons", getenv("XS_XFER_SEEDS"));
		out = fopen(path, "w");
		assert_non_null(out);
		fwrite(with.buf, 1, with.len, out);
		fclose(out);
	}
	assert_int_equal(xse_release(&f->a.eng, 5), 0);
	reap(&f->a);
	assert_int_equal(import_buf(&f->b, 5, 9, with.buf, with.len, err, sizeof(err)), 0);
	c = ring_conn(&f->b, 9);
	assert_true(c->req_cons_known);
	assert_int_equal(c->req_cons, 0x12345);
	stream_writer_init_mem(&again);
	assert_int_equal(xfer_export(&f->b, 9, &again, err, sizeof(err)), 0);
	assert_int_equal(again.len, with.len + 16); /* XS_ALIASES */

	/* The first export had none (no ring behind its connection). */
	assert_int_equal(import_buf(&f->c, 5, 9, f->first.buf, f->first.len, err, sizeof(err)), 0);
	assert_false(ring_conn(&f->c, 9)->req_cons_known);
	stream_writer_init_mem(&plain);
	assert_int_equal(xfer_export(&f->c, 9, &plain, err, sizeof(err)), 0);
	assert_int_equal(plain.len, f->first.len + 16);

	stream_writer_fini(&with);
	stream_writer_fini(&again);
	stream_writer_fini(&plain);
}

static void test_refused_when_taken_or_over_quota(void **state)
{
	struct fx *f = *state;
	struct snap s;
	char err[256];

	/* Domain 5 still exists in a: importing onto it is refused. */
	assert_int_equal(import_buf(&f->a, 5, 5, f->first.buf, f->first.len, err, sizeof(err)),
			 -EEXIST);
	assert_non_null(strstr(err, "domain 5 exists"));
	/* A domain that would own more nodes than its quota. */
	f->b.eng.quota[XSE_Q_NODES] = 3; /* it owns 4 */
	s = snap_of(&f->b);
	assert_int_equal(import_buf(&f->b, 5, 9, f->first.buf, f->first.len, err, sizeof(err)),
			 -ENOSPC);
	assert_non_null(strstr(err, "over the nodes quota"));
	assert_unchanged(&f->b, &s);
	/* Or more watches. */
	f->b.eng.quota[XSE_Q_NODES] = 1000;
	f->b.eng.quota[XSE_Q_WATCHES] = 0; /* Xen's '>': one fits, two do not */
	assert_int_equal(import_buf(&f->b, 5, 9, f->first.buf, f->first.len, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "record XS_WATCH"));
	assert_non_null(strstr(err, "over the watches quota"));
	assert_unchanged(&f->b, &s);
	/* Or memory: the failure comes after nodes went in, which go again. */
	f->b.eng.quota[XSE_Q_WATCHES] = 128;
	f->b.eng.quota[XSE_Q_MEMORY] = 200;
	assert_int_equal(import_buf(&f->b, 5, 9, f->first.buf, f->first.len, err, sizeof(err)),
			 -ENOMEM);
	assert_non_null(strstr(err, "over the memory quota"));
	assert_unchanged(&f->b, &s);
}

/* `src` again with its XS_ALIASES payload replaced by (p, n) (n 0: none
 * written), and a copy of that record after the first record of type
 * `dup_after` too (0: none). */
static void rebuild(const struct stream_writer *src, const void *p, uint32_t n,
		    uint32_t dup_after, struct stream_writer *out)
{
	struct stream_reader r;
	struct stream_record rec;
	bool dup_done = false;

	stream_writer_init_mem(out);
	stream_write_header(out);
	stream_reader_init_mem(&r, src->buf, src->len);
	assert_int_equal(stream_read_header(&r), 0);
	for (;;) {
		assert_int_equal(stream_read_record(&r, &rec), 0);
		if (rec.type == STREAM_REC_END)
			break;
		if (rec.type != STREAM_REC_XS_ALIASES)
			stream_write_record(out, rec.type, rec.data, rec.len);
		if (rec.type == STREAM_REC_XS_CONNECTION && n)
			stream_write_record(out, STREAM_REC_XS_ALIASES, p, n);
		if (rec.type == dup_after && !dup_done && n) {
			stream_write_record(out, STREAM_REC_XS_ALIASES, p, n);
			dup_done = true;
		}
	}
	stream_write_end(out);
	assert_int_equal(out->error, 0);
	stream_reader_fini(&r);
}

/* The domain as 9 (old id 5) in b, exported into *second. */
static void restore_as_9(struct fx *f, struct stream_writer *second)
{
	char err[256];

	assert_int_equal(xse_release(&f->a.eng, 5), 0);
	reap(&f->a);
	assert_int_equal(import_buf(&f->b, 5, 9, f->first.buf, f->first.len, err, sizeof(err)), 0);
	stream_writer_init_mem(second);
	assert_int_equal(xfer_export(&f->b, 9, second, err, sizeof(err)), 0);
}

/* 5 -> 9 -> 12: the guest's watch set while it was 5, and paths naming 9
 * (read while it was 9), both reach 12's back end; its events keep the
 * form it watched. */
static void test_aliases_compose_across_restores(void **state)
{
	struct fx *f = *state;
	struct stream_writer second;
	struct conn *c;
	uint32_t old[XSE_ALIAS_MAX];
	struct xse_perm bperm[2] = { { 0, XSE_PERM_NONE }, { 12, XSE_PERM_READ } };
	char err[256], buf[XENSTORE_PAYLOAD_MAX + 1];

	restore_as_9(f, &second);
	assert_int_equal(import_buf(&f->c, 9, 12, second.buf, second.len, err, sizeof(err)), 0);
	assert_int_equal(xse_alias_get(&f->c.eng, 12, old), 2);
	assert_int_equal(old[0], 5);
	assert_int_equal(old[1], 9);
	c = ring_conn(&f->c, 12);
	assert_non_null(c);
	assert_int_equal(xse_write(&f->dom0c, 0, "/local/domain/0/backend/vbd/12/51712/state", "4", 1), 0);
	assert_int_equal(xse_set_perms(&f->dom0c, 0, "/local/domain/0/backend/vbd/12/51712", bperm, 2), 0);
	assert_int_equal(xse_set_perms(&f->dom0c, 0, "/local/domain/0/backend/vbd/12/51712/state", bperm, 2),
			 0);
	assert_int_equal(last_msg(c, buf), XS_WATCH_EVENT);
	assert_string_equal(buf, "/local/domain/0/backend/vbd/5/51712/state");
	/* The half-sent request of the file is still pending: complete it. */
	assert_int_equal(conn_feed(c, HALF_BODY + HALF_CUT, HALF_LEN - HALF_CUT),
			 (long)(HALF_LEN - HALF_CUT));
	feed(c, XS_READ, 0, "/local/domain/0/backend/vbd/9/51712/state", 42, 42);
	assert_int_equal(last_msg(c, buf), XS_READ);
	assert_memory_equal(buf, "4", 1);
	feed(c, XS_READ, 0, "/local/domain/0/backend/vbd/5/51712/state", 42, 42);
	assert_int_equal(last_msg(c, buf), XS_READ);
	assert_memory_equal(buf, "4", 1);
	stream_writer_fini(&second);
}

/* XS_ALIASES payloads, each refused naming the record, leaving nothing. */
static void test_aliases_malformed_refused(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *what;
		uint8_t p[16];
		uint32_t n, dup_after;
		const char *why;
	} bad[] = {
		{ "version 2", { 2, 0, 1, 0, 5, 0 }, 6, 0, "unknown version" },
		{ "no id", { 1, 0, 0, 0 }, 4, 0, "count of old ids not 1 to 4" },
		{ "five ids", { 1, 0, 5, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0 }, 14, 0,
		  "count of old ids not 1 to 4" },
		{ "count over length", { 1, 0, 2, 0, 5, 0 }, 6, 0, "length differs" },
		{ "length over count", { 1, 0, 1, 0, 5, 0, 6, 0 }, 8, 0, "length differs" },
		{ "truncated", { 1, 0 }, 2, 0, "truncated" },
		{ "its own id", { 1, 0, 1, 0, 9, 0 }, 6, 0, "old id invalid" },
		{ "id 0", { 1, 0, 1, 0, 0, 0 }, 6, 0, "old id invalid" },
		{ "reserved id", { 1, 0, 1, 0, 0xf0, 0x7f }, 6, 0, "old id invalid" },
		{ "listed twice", { 1, 0, 2, 0, 5, 0, 5, 0 }, 8, 0, "old id invalid" },
		{ "second record", { 1, 0, 1, 0, 5, 0 }, 6, STREAM_REC_XS_ALIASES, "a second XS_ALIASES" },
		{ "after a watch", { 1, 0, 1, 0, 5, 0 }, 6, STREAM_REC_XS_WATCH, "out of order" },
		/* 1..4 and 9 make five old ids for 12: over the bound. */
		{ "five once composed", { 1, 0, 4, 0, 1, 0, 2, 0, 3, 0, 4, 0 }, 12, 0, "more old ids" },
	};
	struct stream_writer second;
	char err[256];
	struct snap s;

	restore_as_9(f, &second);
	s = snap_of(&f->c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct stream_writer edited;
		int rc;

		rebuild(&second, bad[i].p, bad[i].n, bad[i].dup_after, &edited);
		err[0] = '\0';
		rc = import_buf(&f->c, 9, 12, edited.buf, edited.len, err, sizeof(err));
		if (rc != -EBADMSG || !strstr(err, "XS_ALIASES") || !strstr(err, bad[i].why))
			fail_msg("%s: rc %d, %s", bad[i].what, rc, err);
		assert_unchanged(&f->c, &s);
		assert_int_equal(f->c.eng.doms[12].nalias, 0);
		assert_null(ring_conn(&f->c, 12));
		assert_null(xse_lookup(&f->c.eng, "/local/domain/12"));
		stream_writer_fini(&edited);
	}
	/* Four, once composed with 9 for 12, are five: refused; the same
	 * four for a restore under 4 are fine (4 is real again). */
	{
		static const uint8_t four[] = { 1, 0, 4, 0, 1, 0, 2, 0, 3, 0, 4, 0 };
		struct stream_writer edited;
		uint32_t old[XSE_ALIAS_MAX];

		rebuild(&second, four, sizeof(four), 0, &edited);
		assert_int_equal(import_buf(&f->c, 9, 4, edited.buf, edited.len, err, sizeof(err)), 0);
		assert_int_equal(xse_alias_get(&f->c.eng, 4, old), 4);
		assert_int_equal(old[3], 9);
		stream_writer_fini(&edited);
	}
	stream_writer_fini(&second);
}

/* An import whose importer leaves before the domain comes is undone, its
 * old ids with it (a later domain 9 answers to its own id only). */
static void test_abandoned_import_drops_old_ids(void **state)
{
	struct fx *f = *state;
	struct conn *by, *c;
	char err[256];

	assert_int_equal(xse_release(&f->a.eng, 5), 0);
	reap(&f->a);
	by = conn_new(&f->b, CONN_SOCKET, -1, 0);
	assert_non_null(by);
	assert_int_equal(import_buf(&f->b, 5, 9, f->first.buf, f->first.len, err, sizeof(err)), 0);
	assert_int_equal(f->b.eng.doms[9].nalias, 1);
	c = ring_conn(&f->b, 9);
	assert_non_null(c);
	c->importer = by;
	xfer_importer_gone(&f->b, by);
	reap(&f->b);
	assert_null(ring_conn(&f->b, 9));
	assert_null(xse_lookup(&f->b.eng, "/local/domain/9"));
	assert_int_equal(f->b.eng.doms[9].nalias, 0);
}

static void test_rewrite_rules(void **state)
{
	char out[128];

	assert_int_equal(xse_rewrite_domid("/local/domain/5", 5, 12, true, out, sizeof(out)), 1);
	assert_string_equal(out, "/local/domain/12");
	assert_int_equal(xse_rewrite_domid("/local/domain/5/a", 5, 12, false, out, sizeof(out)), 1);
	assert_string_equal(out, "/local/domain/12/a");
	assert_int_equal(xse_rewrite_domid("/local/domain/55/a", 5, 12, true, out, sizeof(out)), 0);
	assert_string_equal(out, "/local/domain/55/a");
	assert_int_equal(xse_rewrite_domid("/local/domain/0/backend/vif/5/0", 5, 12, true, out,
					   sizeof(out)), 1);
	assert_string_equal(out, "/local/domain/0/backend/vif/12/0");
	assert_int_equal(xse_rewrite_domid("/local/domain/0/backend/vif/5/0", 5, 12, false, out,
					   sizeof(out)), 0);
	assert_int_equal(xse_rewrite_domid("/local/domain/0/backend/vif/51", 5, 12, true, out,
					   sizeof(out)), 0);
	assert_int_equal(xse_rewrite_domid("/vm/5", 5, 12, true, out, sizeof(out)), 0);
	assert_int_equal(xse_rewrite_domid("/local/domain/5/x", 5, 12, true, out, 10), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_import_under_new_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_corruption_refused_or_consistent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_structure_corruption_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_name_the_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_when_taken_or_over_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aliases_compose_across_restores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aliases_malformed_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandoned_import_drops_old_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_index_travels, setup, teardown),
		cmocka_unit_test(test_rewrite_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
