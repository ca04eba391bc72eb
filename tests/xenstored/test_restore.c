/* Unit tests of what xenstored carries over a restart for a guest ring
 * (issue 12, "Hardening"): restored bytes get the checks fresh ones get,
 * the journal work of a request is bounded by the request, not by the
 * state its client has built up, and no request is lost or done twice by a
 * kill -9 at any point of a round (item 1).  The daemon runs in-process on a state
 * directory; the test plays the guest on a memfd page and "kills" the daemon
 * by disposing it without a snapshot (the journal is all that is left, as
 * after kill -9). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "domus/ring_proto.h"
#include "persist.h"
#include "persist_int.h"

#define DOM 5u

struct rig {
	char dir[64];
	int memfd;
	struct xenstore_domain_interface *i;
	struct xsd d;
	struct ring *r;
	struct xse_client dom0;
	bool up;
};

static void daemon_up(struct rig *g)
{
	struct xsd_opts o = { .state_dir = g->dir };

	assert_int_equal(xsd_init_core(&g->d, &o), 0);
	xse_client_init(&g->d.eng, &g->dom0, 0, NULL, NULL);
	g->r = NULL;
	g->up = true;
}

/* As kill -9: no snapshot; what the journal holds is what survives. */
static void daemon_kill(struct rig *g)
{
	xse_client_dispose(&g->dom0);
	xsd_dispose(&g->d);
	g->up = false;
}

/* The monitor hands the ring over (again). */
static void attach(struct rig *g)
{
	struct xsd_ring_attach a = { XSD_RING_MAGIC, XSD_RING_VERSION, DOM, 0, 0 };
	int fds[3] = { dup(g->memfd), eventfd(0, EFD_NONBLOCK), eventfd(0, EFD_NONBLOCK) };

	g->r = ring_alloc(&g->d, -1);
	assert_non_null(g->r);
	assert_int_equal(ring_attach(g->r, &a, fds), 0);
	close(fds[0]);
}

static void guest_put(struct rig *g, const void *p, uint32_t n)
{
	struct xenstore_domain_interface *i = g->i;

	assert_true(n <= XENSTORE_RING_SIZE - (i->req_prod - i->req_cons));
	for (uint32_t k = 0; k < n; k++)
		i->req[MASK_XENSTORE_IDX(i->req_prod + k)] = ((const char *)p)[k];
	__atomic_store_n(&i->req_prod, i->req_prod + n, __ATOMIC_RELEASE);
}

static void guest_request(struct rig *g, uint32_t type, const char *body, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = 1, .len = len };

	guest_put(g, &h, sizeof(h));
	guest_put(g, body, len);
}

/* One loop round of the daemon after a kick. */
static void daemon_round(struct rig *g)
{
	ring_kick_event(&g->d, g->r);
	xsd_round(&g->d);
}

static size_t journal_end(struct rig *g)
{
	return g->d.persist->jend;
}

/* Take every message in the response ring: how many of type `type`. */
static unsigned guest_drain(struct rig *g, uint32_t type)
{
	struct xenstore_domain_interface *i = g->i;
	unsigned n = 0;

	while (i->rsp_prod - i->rsp_cons >= sizeof(struct xsd_sockmsg)) {
		struct xsd_sockmsg h;

		for (size_t k = 0; k < sizeof(h); k++)
			((char *)&h)[k] = i->rsp[MASK_XENSTORE_IDX(i->rsp_cons + k)];
		if (i->rsp_prod - i->rsp_cons < sizeof(h) + h.len)
			break;
		i->rsp_cons += (uint32_t)sizeof(h) + h.len;
		n += h.type == type;
	}
	return n;
}

static int setup(void **state)
{
	static const struct xse_perm home = { DOM, XSE_PERM_NONE };
	struct rig *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	strcpy(g->dir, "/tmp/xsrestore.XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	g->memfd = memfd_create("ring", MFD_ALLOW_SEALING);
	assert_true(g->memfd >= 0);
	assert_int_equal(ftruncate(g->memfd, 4096), 0);
	assert_int_equal(fcntl(g->memfd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	g->i = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, g->memfd, 0);
	assert_true(g->i != MAP_FAILED);
	daemon_up(g);
	assert_int_equal(xse_mkdir(&g->dom0, 0, "/local/domain/5"), 0);
	assert_int_equal(xse_set_perms(&g->dom0, 0, "/local/domain/5", &home, 1), 0);
	assert_int_equal(xse_introduce(&g->d.eng, DOM), 0);
	attach(g);
	xsd_round(&g->d);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct rig *g = *state;
	char cmd[128];

	if (g->up)
		daemon_kill(g);
	munmap(g->i, 4096);
	close(g->memfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", g->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", g->dir);
	free(g);
	return 0;
}

/* A guest sends a header with a length over XENSTORE_PAYLOAD_MAX: its
 * connection is ignored.  The header was journalled as the guest's partial
 * request; after a restart (or an upgrade: the same bytes go through the
 * snapshot) it must be refused again, not resumed: resumed, its 5000 bytes
 * of payload would be copied into a 4097-byte buffer. */
static void restored_bad_header(struct rig *g, bool snapshot)
{
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 9, .len = 5000 };
	char fill[512];
	uint32_t cons;

	guest_put(g, &h, sizeof(h));
	daemon_round(g);
	assert_int_equal(g->i->error, XENSTORE_ERROR_PROTO);
	if (snapshot)
		assert_int_equal(persist_snapshot(g->d.persist), 0);
	daemon_kill(g);

	/* The same guest, its page's error field cleared to see whether the
	 * new daemon sets it again. */
	g->i->error = 0;
	daemon_up(g);
	attach(g);
	daemon_round(g);
	cons = g->i->req_cons;
	memset(fill, 'x', sizeof(fill));
	guest_put(g, fill, sizeof(fill));
	daemon_round(g);
	assert_int_equal(g->i->error, XENSTORE_ERROR_PROTO);
	assert_int_equal(g->i->req_cons, cons); /* not one byte taken */
}

static void test_restored_bad_header_after_restart(void **state)
{
	restored_bad_header(*state, false);
}

static void test_restored_bad_header_after_upgrade(void **state)
{
	restored_bad_header(*state, true);
}

/* A good partial request still resumes where it stopped. */
static void test_restored_partial_request_resumes(void **state)
{
	struct rig *g = *state;
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 3, .len = 10 };

	guest_put(g, &h, sizeof(h));
	guest_put(g, "data", 4);
	daemon_round(g);
	daemon_kill(g);
	daemon_up(g);
	attach(g);
	guest_put(g, "/a\0v1", 6);
	daemon_round(g);
	assert_int_equal(g->i->error, 0);
	assert_int_equal(guest_drain(g, XS_WRITE), 1);
	assert_non_null(xse_lookup(&g->d.eng, "/local/domain/5/data/a"));
}

/* The next whole message in the response ring: its type, body in buf
 * (NUL-terminated); -1 if none. */
static int guest_next(struct rig *g, char *buf, size_t sz)
{
	struct xenstore_domain_interface *i = g->i;
	struct xsd_sockmsg h;

	if (i->rsp_prod - i->rsp_cons < sizeof(h))
		return -1;
	for (size_t k = 0; k < sizeof(h); k++)
		((char *)&h)[k] = i->rsp[MASK_XENSTORE_IDX(i->rsp_cons + k)];
	if (i->rsp_prod - i->rsp_cons < sizeof(h) + h.len || h.len >= sz)
		return -1;
	for (size_t k = 0; k < h.len; k++)
		buf[k] = i->rsp[MASK_XENSTORE_IDX(i->rsp_cons + sizeof(h) + k)];
	buf[h.len] = '\0';
	i->rsp_cons += (uint32_t)sizeof(h) + h.len;
	return (int)h.type;
}

/* Domain 5 was domain 3 before a restore (its old id, alias.c): its watch
 * set on the old back-end path survives a kill -9 (journal) or a restart
 * (snapshot) of the daemon, still served at 5's back end and still firing
 * in the old form. */
static void old_id_watch_survives(struct rig *g, bool snapshot)
{
	static const char w[] = "/local/domain/0/backend/vbd/3/51712/state\0fe";
	const struct xse_perm be[2] = { { 0, XSE_PERM_NONE }, { DOM, XSE_PERM_READ } };
	const uint32_t old = 3;
	char buf[256];
	int t;

	assert_int_equal(xse_write(&g->dom0, 0, "/local/domain/0/backend/vbd/5/51712/state", "4", 1), 0);
	assert_int_equal(xse_set_perms(&g->dom0, 0, "/local/domain/0/backend/vbd/5/51712", be, 2), 0);
	assert_int_equal(xse_set_perms(&g->dom0, 0, "/local/domain/0/backend/vbd/5/51712/state", be, 2), 0);
	assert_int_equal(xse_alias_set(&g->d.eng, DOM, &old, 1), 0);
	guest_request(g, XS_WATCH, w, sizeof(w));
	daemon_round(g);
	guest_drain(g, XS_WATCH);
	if (snapshot)
		assert_int_equal(persist_snapshot(g->d.persist), 0);
	daemon_kill(g);
	daemon_up(g);
	assert_int_equal(g->d.eng.doms[DOM].nalias, 1);
	assert_int_equal(g->d.eng.doms[DOM].alias[0], 3);
	attach(g);
	xsd_round(&g->d);
	guest_drain(g, XS_WATCH_EVENT); /* anything from the reconnect */
	assert_int_equal(xse_write(&g->dom0, 0, "/local/domain/0/backend/vbd/5/51712/state", "5", 1), 0);
	xsd_round(&g->d);
	t = guest_next(g, buf, sizeof(buf));
	assert_int_equal(t, XS_WATCH_EVENT);
	assert_string_equal(buf, "/local/domain/0/backend/vbd/3/51712/state");
	assert_string_equal(buf + strlen(buf) + 1, "fe");
	/* UNWATCH in the form it was set removes it, also after the restart. */
	guest_request(g, XS_UNWATCH, w, sizeof(w));
	daemon_round(g);
	assert_int_equal(guest_next(g, buf, sizeof(buf)), XS_UNWATCH);
	assert_string_equal(buf, "OK");
}

static void test_old_id_watch_survives_kill(void **state)
{
	old_id_watch_survives(*state, false);
}

static void test_old_id_watch_survives_snapshot(void **state)
{
	old_id_watch_survives(*state, true);
}

/* Journal bytes of one WATCH and the round after it (which records that its
 * replies reached the ring). */
static size_t watch_cost(struct rig *g, unsigned k, uint32_t *req_bytes)
{
	char body[64];
	size_t before = journal_end(g);
	int n = snprintf(body, sizeof(body), "data/w%05u%ct%05u", k, 0, k) + 1;

	guest_request(g, XS_WATCH, body, (uint32_t)n);
	daemon_round(g);
	assert_int_equal(guest_drain(g, XS_WATCH), 1);
	daemon_round(g);
	assert_int_equal(g->i->error, 0);
	/* request, its reply "OK" and the watch's first event */
	*req_bytes = 3 * (uint32_t)sizeof(struct xsd_sockmsg) + (uint32_t)n + 3 + (uint32_t)n;
	return journal_end(g) - before;
}

/* Journal growth per WATCH does not depend on how many watches the guest
 * already has: the 1000th costs what the 1st did. */
static void test_watch_journal_cost_is_constant(void **state)
{
	struct rig *g = *state;
	size_t first, last, cost;
	uint32_t req;

	g->d.eng.quota[XSE_Q_WATCHES] = 2000;
	first = watch_cost(g, 1, &req);
	for (unsigned k = 2; k < 1000; k++)
		cost = watch_cost(g, k, &req);
	(void)cost;
	last = watch_cost(g, 1000, &req);
	fprintf(stderr, "journal bytes: 1st WATCH %zu, 1000th %zu (request, reply, event: %u)\n",
		first, last, req);
	assert_int_equal(first, last);
	assert_true(last <= 3 * req + 64);

	/* UNWATCH too. */
	{
		size_t before = journal_end(g);

		guest_request(g, XS_UNWATCH, "data/w00500\0t00500", 19);
		daemon_round(g);
		assert_int_equal(guest_drain(g, XS_UNWATCH), 1);
		daemon_round(g);
		cost = journal_end(g) - before;
		fprintf(stderr, "journal bytes: UNWATCH with 999 watches left %zu\n", cost);
		assert_true(cost <= 3 * (2 * sizeof(struct xsd_sockmsg) + 19 + 3) + 64);
	}
	/* And the 999 watches are what a restart brings back. */
	daemon_kill(g);
	daemon_up(g);
	attach(g);
	{
		unsigned n = 0;

		for (struct conn *c = g->d.conns; c; c = c->next)
			if (c->kind == CONN_RING && c->cl.domid == DOM)
				n = c->cl.nwatches;
		assert_int_equal(n, 999);
	}
}

/* A guest that reads nothing lets events pile up in its queue; each round
 * must still journal only what changed in it, not the whole queue.  After a
 * restart every queued event still reaches the guest. */
static void test_queued_output_journal_cost(void **state)
{
	struct rig *g = *state;
	unsigned writes = 0, events;
	size_t before, cost, queued = 0;
	char path[64], val[16];

	/* Each write below fires exactly one event: the node's. */
	assert_int_equal(xse_mkdir(&g->dom0, 0, "/local/domain/5/data"), 0);
	guest_request(g, XS_WATCH, "data\0w", 7);
	daemon_round(g);
	for (unsigned k = 0; k < 3000; k++) {
		snprintf(path, sizeof(path), "/local/domain/5/data/n%03u", k % 200);
		snprintf(val, sizeof(val), "%u", k);
		assert_int_equal(xse_write(&g->dom0, 0, path, val, (uint32_t)strlen(val)), 0);
		writes++;
		xsd_round(&g->d);
	}
	for (struct conn *c = g->d.conns; c; c = c->next)
		if (c->kind == CONN_RING && c->cl.domid == DOM)
			queued = c->oq_bytes;
	assert_true(queued > 50000);
	before = journal_end(g);
	assert_int_equal(xse_write(&g->dom0, 0, "/local/domain/5/data/n000", "last", 4), 0);
	writes++;
	xsd_round(&g->d);
	cost = journal_end(g) - before;
	fprintf(stderr, "journal bytes: a write with %zu bytes queued for the guest: %zu\n", queued,
		cost);
	assert_true(cost <= 512);

	/* kill -9, restart: the guest gets its watch's first event, the WATCH
	 * reply and one event per write, none lost or doubled. */
	daemon_kill(g);
	daemon_up(g);
	attach(g);
	events = guest_drain(g, XS_WATCH_EVENT);
	for (int k = 0; k < 20000; k++) {
		daemon_round(g);
		events += guest_drain(g, XS_WATCH_EVENT);
		if (g->i->rsp_prod == g->i->rsp_cons && k > 2)
			break;
	}
	/* Before the restart, some events were already in the ring: drained
	 * above too (the page is the guest's memory and survives). */
	assert_int_equal(events, writes + 1);
}

/* ---- no guest request is lost, none is done twice (issue 12 item 1) ----
 *
 * A daemon round is: take the guests' requests (ring_service), write the
 * journal (persist_flush), publish req_cons (ring_publish), send replies.
 * The tests drive those pieces themselves and "kill -9" the daemon between
 * them: daemon_kill disposes of it without writing anything more (what the
 * journal file holds is what a killed daemon leaves), and the guest's page
 * is guest memory, which outlives the daemon. */

/* Every whole message in the response ring, counted by type; the bodies
 * of TRANSACTION_START replies (the ids given) in ids. */
struct replies {
	unsigned n[XS_TYPE_COUNT + 1];
	unsigned errors;
	char ids[8][16];
	unsigned nids;
};

static void guest_replies(struct rig *g, struct replies *out)
{
	char buf[4200];
	int t;

	while ((t = guest_next(g, buf, sizeof(buf))) >= 0) {
		if (t == XS_ERROR) {
			fprintf(stderr, "guest got error %s\n", buf);
			out->errors++;
		} else if (t <= XS_TYPE_COUNT) {
			out->n[t]++;
		}
		if (t == XS_TRANSACTION_START && out->nids < 8)
			snprintf(out->ids[out->nids++], sizeof(out->ids[0]), "%.15s", buf);
	}
}

/* Serve the guest until it has nothing left to say or hear. */
static void settle(struct rig *g, struct replies *out)
{
	for (int k = 0; k < 8; k++) {
		daemon_round(g);
		guest_replies(g, out);
	}
	assert_int_equal(g->i->req_cons, g->i->req_prod);
	assert_int_equal(g->i->error, 0);
}

/* What Linux's xenbus sends for a guest that writes a node, starts a
 * transaction and watches a directory (xs_talkv: header, then the
 * payload, written into the ring as xb_write does), plus the first half of
 * a WRITE whose rest comes after the restart. */
#define HALF2_BODY "data/b\0second"
static void guest_sends_work(struct rig *g)
{
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 4, .len = sizeof(HALF2_BODY) - 1 };

	guest_request(g, XS_WRITE, "data/a\0v1", 9);
	guest_request(g, XS_TRANSACTION_START, "", 1);
	guest_request(g, XS_WATCH, "data\0tok", 9);
	guest_put(g, &h, sizeof(h));
	guest_put(g, HALF2_BODY, 5);
}

static void guest_sends_rest(struct rig *g)
{
	guest_put(g, HALF2_BODY + 5, sizeof(HALF2_BODY) - 1 - 5);
}

/* After the restart the guest got each reply once: one WRITE for each of
 * its two writes, one transaction id ("1"), one WATCH, and two events (the
 * watch's first, and data/b's write); a new transaction gets the next id. */
static void answered_once(struct rig *g, struct replies *got)
{
	const char *v;
	uint32_t vl;

	guest_sends_rest(g);
	settle(g, got);
	assert_int_equal(got->errors, 0);
	assert_int_equal(got->n[XS_WRITE], 2);
	assert_int_equal(got->n[XS_TRANSACTION_START], 1);
	assert_string_equal(got->ids[0], "1");
	assert_int_equal(got->n[XS_WATCH], 1);
	assert_int_equal(got->n[XS_WATCH_EVENT], 2);
	assert_int_equal(xse_read(&g->dom0, 0, "/local/domain/5/data/a", &v, &vl), 0);
	assert_int_equal(vl, 2);
	assert_int_equal(xse_read(&g->dom0, 0, "/local/domain/5/data/b", &v, &vl), 0);
	assert_memory_equal(v, "second", 6);
	/* One watch, so a change fires once; the next id is 2. */
	assert_int_equal(xse_write(&g->dom0, 0, "/local/domain/5/data/a", "v2", 2), 0);
	guest_request(g, XS_TRANSACTION_START, "", 1);
	memset(got, 0, sizeof(*got));
	settle(g, got);
	assert_int_equal(got->n[XS_WATCH_EVENT], 1);
	assert_int_equal(got->n[XS_TRANSACTION_START], 1);
	assert_string_equal(got->ids[0], "2");
	assert_int_equal(got->errors, 0);
}

/* (a) kill -9 after the requests were taken and done in memory, before the
 * journal write: the guest's bytes must still be in its ring (before the
 * fix, req_cons was already published: the new daemon found the ring
 * empty and the guest waited for its replies forever). */
static void test_kill_before_journal_loses_no_request(void **state)
{
	struct rig *g = *state;
	struct replies got = { 0 };

	guest_sends_work(g);
	ring_kick_event(&g->d, g->r);
	ring_service(&g->d);
	assert_non_null(xse_lookup(&g->d.eng, "/local/domain/5/data/a")); /* done, in memory */
	daemon_kill(g);

	daemon_up(g);
	attach(g);
	answered_once(g, &got);
}

/* The same crash, checked at the page: nothing the round took is consumed
 * before the journal write, all of it after ring_publish. */
static void test_req_cons_published_after_journal(void **state)
{
	struct rig *g = *state;
	uint32_t cons0 = g->i->req_cons, prod;
	size_t j0 = journal_end(g);

	guest_sends_work(g);
	prod = g->i->req_prod;
	ring_kick_event(&g->d, g->r);
	ring_service(&g->d);
	assert_int_equal(g->i->req_cons, cons0);
	assert_int_equal(persist_flush(g->d.persist), 0);
	assert_true(journal_end(g) > j0);
	assert_int_equal(g->i->req_cons, cons0);
	ring_publish(&g->d);
	assert_int_equal(g->i->req_cons, prod);
}

/* (b) kill -9 after the journal write (or a snapshot: the upgrade's, or a
 * full journal's), before req_cons was published: the journal holds the
 * requests' effects, replies and partial request, and how far the ring was
 * read; the page still shows the bytes.  Read again, the WRITE would be
 * answered twice, the transaction would get a second id, the WATCH an
 * EEXIST, and the half request's restored bytes would be followed by its
 * own header again. */
static void kill_after_journal(struct rig *g, bool snapshot)
{
	uint32_t cons0 = g->i->req_cons;
	struct replies got = { 0 };

	guest_sends_work(g);
	ring_kick_event(&g->d, g->r);
	ring_service(&g->d);
	assert_int_equal(persist_flush(g->d.persist), 0);
	if (snapshot)
		assert_int_equal(persist_snapshot(g->d.persist), 0);
	daemon_kill(g);
	/* The page as such a kill leaves it (this daemon never published;
	 * one that published before its journal write had moved it). */
	g->i->req_cons = cons0;

	daemon_up(g);
	attach(g);
	answered_once(g, &got);
}

static void test_kill_after_journal_no_duplicate(void **state)
{
	kill_after_journal(*state, false);
}

static void test_kill_after_snapshot_no_duplicate(void **state)
{
	kill_after_journal(*state, true);
}

/* (d) A snapshot cut short, after each of its steps (persist.h, enum
 * persist_step), after the round's journal write and before req_cons was
 * published: every reply still comes once.  Before the generation, a cut
 * after the rename left the new snapshot (the WATCH made, the replies
 * queued, the ring read) beside the old journal, and the replay did them
 * again on top. */
static char *slurp(const char *path, size_t *n);
static void copy_seed(const char *name, uint8_t selector, const void *a, size_t na,
		      const void *b, size_t nb);

/* The state directory as it is, for a seed: the snapshot, and the journal
 * up to its end. */
static void seed_dir(struct rig *g, const char *name)
{
	char path[128], *st;
	size_t ns;

	snprintf(path, sizeof(path), "%s/xenstored.state", g->dir);
	st = slurp(path, &ns);
	copy_seed(name, 2, st, ns, g->d.persist->jmap, journal_end(g));
	free(st);
}

static int stop_at(void *opaque, enum persist_step step)
{
	return step == *(const enum persist_step *)opaque;
}

static void test_kill_in_snapshot_no_duplicate(void **state)
{
	struct rig *g = *state;

	for (enum persist_step at = PS_TMP_SYNCED; at < PS_STEP_COUNT; at++) {
		struct persist_seam seam = { stop_at, &at };
		uint32_t cons0 = g->i->req_cons;
		struct replies got = { 0 };

		guest_sends_work(g);
		ring_kick_event(&g->d, g->r);
		ring_service(&g->d);
		assert_int_equal(persist_flush(g->d.persist), 0);
		persist_set_seam(g->d.persist, &seam);
		assert_int_equal(persist_snapshot(g->d.persist), -EINTR);
		if (at == PS_RENAMED) /* the fuzz target's seed of this state */
			seed_dir(g, "state-journal-stale");
		daemon_kill(g);
		g->i->req_cons = cons0;

		daemon_up(g);
		attach(g);
		fprintf(stderr, "snapshot cut after step %d:\n", (int)at);
		answered_once(g, &got);
		/* The next step on a fresh rig. */
		teardown(state);
		setup(state);
		g = *state;
	}
}

/* (c) The saved index must lie within the page's [req_cons, req_prod]:
 * here the page was reset meanwhile (indexes back to 0, as XS_INTRODUCE
 * resets them), so the saved index, past req_prod, is refused with a
 * warning naming the domain, and the ring is served as it says: the
 * guest's new request, at index 0, is answered. */
static void test_saved_cons_outside_ring_refused(void **state)
{
	struct rig *g = *state;
	struct replies got = { 0 };
	char *logbuf = NULL;
	size_t loglen = 0;
	FILE *logf;

	guest_request(g, XS_WRITE, "data/a\0v1", 9);
	ring_kick_event(&g->d, g->r);
	ring_service(&g->d);
	assert_int_equal(persist_flush(g->d.persist), 0);
	daemon_kill(g);
	assert_true(g->i->req_prod > 0);
	memset(g->i, 0, 4096);
	guest_request(g, XS_WRITE, "data/c\0v", 8); /* ends before the saved 25 */

	logf = open_memstream(&logbuf, &loglen);
	assert_non_null(logf);
	log_init("test", LOG_WARN, logf);
	daemon_up(g);
	attach(g);
	settle(g, &got);
	log_init("test", LOG_ERR, NULL);
	fclose(logf);
	fprintf(stderr, "%s", logbuf);
	assert_non_null(strstr(logbuf, "test[dom5]: warning: domain 5: saved request index"));
	assert_non_null(strstr(logbuf, "outside its ring's [0, 24]"));
	free(logbuf);
	assert_non_null(xse_lookup(&g->d.eng, "/local/domain/5/data/c"));
	/* the journalled reply to the first WRITE, and the new one's */
	assert_int_equal(got.n[XS_WRITE], 2);
	assert_int_equal(got.errors, 0);

	/* A saved index behind the page's req_cons is refused the same way. */
	daemon_kill(g);
	g->i->req_cons = g->i->req_prod = 100;
	logbuf = NULL;
	logf = open_memstream(&logbuf, &loglen);
	log_init("test", LOG_WARN, logf);
	daemon_up(g);
	attach(g);
	log_init("test", LOG_ERR, NULL);
	fclose(logf);
	assert_non_null(strstr(logbuf, "saved request index 24 outside its ring's [100, 100]"));
	free(logbuf);
	guest_request(g, XS_WRITE, "data/d\0v4", 9);
	memset(&got, 0, sizeof(got));
	settle(g, &got);
	assert_int_equal(got.n[XS_WRITE], 1);
	assert_non_null(xse_lookup(&g->d.eng, "/local/domain/5/data/d"));
}

/* The function every restored request goes through refuses what a fresh
 * connection would, and what no daemon keeps (a whole message). */
static void test_restore_input_checks(void **state)
{
	struct rig *g = *state;
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 1, .len = 5000 };
	char buf[sizeof(h) + 8] = { 0 };
	struct conn *c;

	c = conn_new(&g->d, CONN_RING, -1, 7);
	assert_int_equal(conn_restore_input(c, (const char *)&h, sizeof(h)), -EPROTO);
	/* and it stays refused: the payload never reaches the body */
	assert_int_equal(conn_feed(c, buf, sizeof(buf)), -EPROTO);
	conn_free(c);
	h.len = 4;
	memcpy(buf, &h, sizeof(h));
	c = conn_new(&g->d, CONN_RING, -1, 7);
	assert_int_equal(conn_restore_input(c, buf, sizeof(h) + 4), -EPROTO); /* whole */
	conn_free(c);
	c = conn_new(&g->d, CONN_RING, -1, 7);
	assert_int_equal(conn_restore_input(c, buf, sizeof(h) + 8), -EPROTO); /* longer */
	conn_free(c);
	c = conn_new(&g->d, CONN_RING, -1, 7);
	assert_int_equal(conn_restore_input(c, buf, sizeof(h) + 3), 0);
	assert_int_equal(c->in_used, sizeof(h) + 3);
	conn_free(c);
}

/* ---- the upgrade hand-over file ---- */

/* Descriptor numbers the hand-over tests and the fuzz target use
 * (fuzz_restore.c): the listening socket, then the clients. */
#define FD_LISTEN 100
#define FD_CLIENT 101

static int at_fd(int fd, int want)
{
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, want), want);
	close(fd);
	return want;
}

static void listen_at(const char *dir, int want)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	at_fd(fd, want);
}

/* A socket client at descriptor `want`; its peer (the client's end). */
static int client_at(int want)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	at_fd(sv[0], want);
	return sv[1];
}

/* The old process execs: its descriptors stay open for the new one. */
static void exec_away(struct xsd *d)
{
	for (struct conn *c = d->conns; c; c = c->next)
		c->fd = -1;
	d->listen_fd = -1;
	xsd_dispose(d);
}

static void copy_seed(const char *name, uint8_t selector, const void *a, size_t na,
		      const void *b, size_t nb)
{
	const char *dir = getenv("XS_RESTORE_SEEDS");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(&selector, 1, 1, f);
	if (b) { /* state and journal: the state's length first */
		uint16_t n = (uint16_t)na;

		assert_true(na < 65536);
		fwrite(&n, sizeof(n), 1, f);
	}
	fwrite(a, 1, na, f);
	if (b)
		fwrite(b, 1, nb, f);
	fclose(f);
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *p = malloc(1 << 20);

	assert_non_null(f);
	*n = fread(p, 1, 1 << 20, f);
	fclose(f);
	return p;
}

/* A socket client whose partial request has a header Xen rejects is
 * refused after the upgrade (its socket closed); the others carry on with
 * their watches and partial requests. */
static void test_handover_bad_header_refuses_that_connection(void **state)
{
	struct rig *g = *state;
	struct xsd_sockmsg bad = { .type = XS_WRITE, .req_id = 1, .len = 5000 };
	struct xsd_sockmsg good = { .type = XS_WRITE, .req_id = 2, .len = 12 };
	struct xsd_opts o = { 0 };
	struct xsd a, b;
	char sock[128];
	struct conn *ca, *cb;
	char file[128], err[512], buf[8];
	int pa, pb;
	size_t n;
	char *bytes;

	daemon_kill(g);
	snprintf(sock, sizeof(sock), "%s/sock", g->dir);
	o.socket_path = sock;
	assert_int_equal(xsd_init_core(&a, &o), 0);
	listen_at(g->dir, FD_LISTEN);
	a.listen_fd = FD_LISTEN;
	pa = client_at(FD_CLIENT);
	pb = client_at(FD_CLIENT + 1);
	ca = conn_new(&a, CONN_SOCKET, FD_CLIENT, 0);
	cb = conn_new(&a, CONN_SOCKET, FD_CLIENT + 1, 0);
	assert_int_equal(xse_watch(&ca->cl, "/keep", "k"), 0);
	xse_watch_initial(&ca->cl); /* output queued */
	assert_int_equal(conn_feed(ca, (const char *)&good, sizeof(good)), sizeof(good));
	assert_int_equal(conn_feed(ca, "/kee", 4), 4);
	assert_int_equal(conn_restore_input(cb, (const char *)&bad, 10), 0);
	snprintf(file, sizeof(file), "%s/xenstored.handover", g->dir);
	assert_int_equal(upgrade_save(&a, file), 0);
	bytes = slurp(file, &n);
	copy_seed("handover-good", 3, bytes, n, NULL, 0);
	free(bytes);
	/* Now the rest of client b's header: a length over 4096 (as written
	 * by a daemon before this fix, or by anyone). */
	memcpy(&cb->hdr, &bad, sizeof(bad));
	cb->in_used = sizeof(bad);
	assert_int_equal(upgrade_save(&a, file), 0);
	bytes = slurp(file, &n);
	copy_seed("handover-bad-header", 3, bytes, n, NULL, 0);
	free(bytes);
	exec_away(&a);

	assert_int_equal(xsd_init_core(&b, &o), 0);
	assert_int_equal(upgrade_restore(&b, file, err, sizeof(err)), 0);
	fprintf(stderr, "hand-over: %s\n", err);
	assert_non_null(strstr(err, "offset"));
	assert_non_null(strstr(err, "partial request refused"));
	assert_int_equal(b.nconns, 1);
	assert_int_equal(b.conns->fd, FD_CLIENT);
	assert_int_equal(b.conns->cl.nwatches, 1);
	assert_int_equal(b.conns->in_used, sizeof(good) + 4);
	assert_int_equal(recv(pb, buf, sizeof(buf), MSG_DONTWAIT), 0); /* closed */
	/* Client a's request completes and is answered. */
	assert_int_equal(conn_feed(b.conns, "p/x\0val!", 8), 8);
	xsd_round(&b);
	assert_non_null(xse_lookup(&b.eng, "/keep/x"));
	xsd_dispose(&b);
	close(pa);
	close(pb);
	g->up = false;
}

/* A hand-over file naming a descriptor the new process opened itself (a
 * socket's peer end, close-on-exec) is refused for that connection: the
 * new daemon adopts only what the old one handed over across exec.  The
 * fuzz target found this (restore-seeds/handover-foreign-fd). */
static void test_handover_refuses_foreign_descriptor(void **state)
{
	struct rig *g = *state;
	struct xsd_opts o = { 0 };
	struct xsd a, b;
	char sock[128], file[128], err[512];
	uint32_t want = FD_CLIENT + 1, got;
	int pa, pb;
	size_t n, hits = 0;
	char *bytes;
	FILE *f;

	daemon_kill(g);
	snprintf(sock, sizeof(sock), "%s/sock", g->dir);
	o.socket_path = sock;
	assert_int_equal(xsd_init_core(&a, &o), 0);
	listen_at(g->dir, FD_LISTEN);
	a.listen_fd = FD_LISTEN;
	pa = client_at(FD_CLIENT);
	pb = client_at(FD_CLIENT + 1);
	conn_new(&a, CONN_SOCKET, FD_CLIENT, 0);
	conn_new(&a, CONN_SOCKET, FD_CLIENT + 1, 0);
	snprintf(file, sizeof(file), "%s/xenstored.handover", g->dir);
	assert_int_equal(upgrade_save(&a, file), 0);
	exec_away(&a);
	/* The second client's descriptor number becomes pb's: a live AF_UNIX
	 * stream socket of this process, but not one handed over. */
	bytes = slurp(file, &n);
	got = (uint32_t)pb;
	for (size_t i = 0; i + 4 <= n; i++)
		if (memcmp(bytes + i, &want, 4) == 0) {
			memcpy(bytes + i, &got, 4);
			hits++;
		}
	assert_int_equal(hits, 1);
	f = fopen(file, "w");
	assert_non_null(f);
	fwrite(bytes, 1, n, f);
	fclose(f);
	copy_seed("handover-foreign-fd", 3, bytes, n, NULL, 0);
	free(bytes);

	assert_int_equal(xsd_init_core(&b, &o), 0);
	assert_int_equal(upgrade_restore(&b, file, err, sizeof(err)), 0);
	fprintf(stderr, "hand-over: %s\n", err);
	assert_non_null(strstr(err, "not a client socket"));
	assert_int_equal(b.nconns, 1);
	assert_int_equal(b.conns->fd, FD_CLIENT);
	assert_true(fcntl(pb, F_GETFD) >= 0); /* not adopted, not closed */
	xsd_dispose(&b);
	close(FD_CLIENT + 1);
	close(pa);
	close(pb);
	g->up = false;
}

/* The children of path, as DIRECTORY lists them, in *out. */
static void dir_list(struct rig *g, const char *path, char **out, uint32_t *len)
{
	const char *kids;

	assert_int_equal(xse_directory(&g->dom0, 0, path, &kids, len, NULL), 0);
	*out = malloc(*len + 1);
	assert_non_null(*out);
	memcpy(*out, kids, *len);
}

static size_t write_cost(struct rig *g, const char *path)
{
	size_t before = journal_end(g);

	assert_int_equal(xse_write(&g->dom0, 0, path, "v", 1), 0);
	xsd_round(&g->d);
	return journal_end(g) - before;
}

/* Journal bytes for a WRITE of a new node, and for its RM, do not grow with
 * the number of children its directory has (a node's journal record named
 * all its parent's children: 2000 of them made a 14 kB record), and replay
 * rebuilds the directory as it was, in order, also after a transaction
 * that made a subtree and removed nodes. */
static void test_child_journal_cost_is_constant(void **state)
{
	struct rig *g = *state;
	size_t small, big, rm_small, rm_big, before;
	char p[64], *l1, *l2, *s1, *s2;
	uint32_t n1, n2, m1, m2, t;

	assert_int_equal(xse_mkdir(&g->dom0, 0, "/dir"), 0);
	for (unsigned k = 0; k < 10; k++) {
		snprintf(p, sizeof(p), "/dir/c%05u", k);
		assert_int_equal(xse_write(&g->dom0, 0, p, "v", 1), 0);
	}
	xsd_round(&g->d);
	small = write_cost(g, "/dir/x00010");
	before = journal_end(g);
	assert_int_equal(xse_rm(&g->dom0, 0, "/dir/x00010"), 0);
	xsd_round(&g->d);
	rm_small = journal_end(g) - before;
	for (unsigned k = 10; k < 2000; k++) {
		snprintf(p, sizeof(p), "/dir/c%05u", k);
		assert_int_equal(xse_write(&g->dom0, 0, p, "v", 1), 0);
		if (k % 100 == 0)
			xsd_round(&g->d);
	}
	xsd_round(&g->d);
	assert_int_equal(persist_snapshot(g->d.persist), 0); /* room in the journal */
	big = write_cost(g, "/dir/x02000");
	before = journal_end(g);
	assert_int_equal(xse_rm(&g->dom0, 0, "/dir/c00005"), 0);
	xsd_round(&g->d);
	rm_big = journal_end(g) - before;
	fprintf(stderr, "journal bytes: a WRITE under 10 children %zu, under 2000 %zu; an RM %zu, %zu\n",
		small, big, rm_small, rm_big);
	assert_int_equal(small, big);
	assert_int_equal(rm_small, rm_big);
	assert_true(big <= 256);

	/* A transaction: nodes made in another order than first looked up, a
	 * subtree, a node removed; then a node removed and made again outside
	 * it. */
	assert_int_equal(xse_txn_start(&g->dom0, 0, &t), 0);
	{
		/* Looked up before made: made after /dir/q all the same. */
		const char *v;
		uint32_t vl;

		assert_int_equal(xse_read(&g->dom0, t, "/dir/r", &v, &vl), -ENOENT);
	}
	assert_int_equal(xse_write(&g->dom0, t, "/dir/q", "q", 1), 0);
	assert_int_equal(xse_write(&g->dom0, t, "/dir/r", "r", 1), 0);
	assert_int_equal(xse_write(&g->dom0, t, "/dir/sub/a/b", "1", 1), 0);
	assert_int_equal(xse_write(&g->dom0, t, "/dir/sub/c", "2", 1), 0);
	assert_int_equal(xse_rm(&g->dom0, t, "/dir/c00007"), 0);
	assert_int_equal(xse_write(&g->dom0, t, "/dir/y", "3", 1), 0);
	assert_int_equal(xse_txn_end(&g->dom0, t, true), 0);
	assert_int_equal(xse_rm(&g->dom0, 0, "/dir/c00003"), 0);
	assert_int_equal(xse_write(&g->dom0, 0, "/dir/c00003", "again", 5), 0);
	xsd_round(&g->d);
	dir_list(g, "/dir", &l1, &n1);
	dir_list(g, "/dir/sub", &s1, &m1);
	daemon_kill(g);
	daemon_up(g);
	dir_list(g, "/dir", &l2, &n2);
	dir_list(g, "/dir/sub", &s2, &m2);
	assert_int_equal(n1, n2);
	assert_memory_equal(l1, l2, n1);
	assert_int_equal(m1, m2);
	assert_memory_equal(s1, s2, m1);
	assert_non_null(xse_lookup(&g->d.eng, "/dir/sub/a/b"));
	assert_null(xse_lookup(&g->d.eng, "/dir/c00007"));
	assert_int_equal(xse_lookup(&g->d.eng, "/dir/c00003")->vlen, 5);
	free(l1);
	free(l2);
	free(s1);
	free(s2);
}

static void put_path_file(struct rig *g, const char *name, const struct buf *b)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", g->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(b->p, 1, b->len, f), b->len);
	fclose(f);
}

/* The snapshot in place made a version 2 file (no generation), as an
 * older daemon wrote it. */
static void snapshot_to_v2(struct rig *g)
{
	char path[128];
	size_t n;
	char *st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/xenstored.state", g->dir);
	st = slurp(path, &n);
	assert_true(n > HDR_LEN);
	assert_memory_equal(st, MAGIC, 4);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(MAGIC_V2, 1, 4, f);
	fwrite(st + HDR_LEN, 1, n - HDR_LEN, f);
	fclose(f);
	free(st);
}

/* A version 3 journal's header: it continues the snapshot in place. */
static void put_journal_header(struct buf *b, uint64_t gen)
{
	put(b, MAGIC, 4);
	put(b, &gen, sizeof(gen));
}

/* A version 1 journal (each node's record with its child list) still
 * replays beside a snapshot without a generation; R_NODE_J is refused in a
 * version 1 file, before its parent's record and in a snapshot. */
static void test_journal_versions(void **state)
{
	struct rig *g = *state;
	uint64_t gen;
	struct xse_perm home = { DOM, XSE_PERM_NONE };
	struct xse_node kid = { .he.key = "/local/domain/5/v1", .value = "x", .vlen = 1,
				.perms = &home, .nperms = 1 };
	struct xse_node dir = { .he.key = "/local/domain/5", .value = "", .perms = &home, .nperms = 1,
				.children = "v1", .clen = 3 };
	struct buf b = { 0 };
	char path[128];

	assert_int_equal(persist_snapshot(g->d.persist), 0); /* the journal is ours */
	daemon_kill(g);
	snapshot_to_v2(g);
	put(&b, "DXS1", 4);
	enc_node(&b, kid.he.key, &kid);
	enc_node(&b, dir.he.key, &dir);
	put_path_file(g, "xenstored.journal", &b);
	daemon_up(g);
	assert_non_null(xse_lookup(&g->d.eng, "/local/domain/5/v1"));
	assert_int_equal(xse_lookup(&g->d.eng, "/local/domain/5")->clen, 3);

	/* R_NODE_J in a version 1 journal ends the replay there. */
	daemon_kill(g);
	snapshot_to_v2(g);
	b.len = 0;
	put(&b, "DXS1", 4);
	kid.he.key = "/local/domain/5/v2";
	enc_node_journal(&b, kid.he.key, &kid);
	put_path_file(g, "xenstored.journal", &b);
	daemon_up(g);
	assert_null(xse_lookup(&g->d.eng, "/local/domain/5/v2"));

	/* A new node before its parent ends the replay there too. */
	assert_int_equal(persist_snapshot(g->d.persist), 0);
	gen = g->d.persist->gen;
	daemon_kill(g);
	b.len = 0;
	put_journal_header(&b, gen);
	kid.he.key = "/local/domain/5/nodir/v3";
	enc_node_journal(&b, kid.he.key, &kid);
	kid.he.key = "/local/domain/5/nodir";
	enc_node_journal(&b, kid.he.key, &kid);
	put_path_file(g, "xenstored.journal", &b);
	daemon_up(g);
	assert_null(xse_lookup(&g->d.eng, "/local/domain/5/nodir/v3"));
	assert_null(xse_lookup(&g->d.eng, "/local/domain/5/nodir"));
	assert_non_null(xse_lookup(&g->d.eng, "/local/domain/5/v1"));

	/* ... and in a snapshot it is refused. */
	daemon_kill(g);
	b.len = 0;
	put_journal_header(&b, 1);
	enc_node_journal(&b, kid.he.key, &kid);
	put_path_file(g, "xenstored.state", &b);
	snprintf(path, sizeof(path), "%s/xenstored.journal", g->dir);
	unlink(path);
	{
		struct xsd d2 = { 0 };
		struct xsd_opts o = { .state_dir = g->dir };

		assert_int_not_equal(xsd_init_core(&d2, &o), 0);
	}
	free(b.p);
	/* Leave a loadable directory for the teardown. */
	snprintf(path, sizeof(path), "%s/xenstored.state", g->dir);
	unlink(path);
	daemon_up(g);
}

/* Real snapshot and journal files for the fuzz target's seeds (written
 * where $XS_RESTORE_SEEDS says; nothing otherwise): a guest with watches,
 * a transaction id, a partial request and output queued, across a snapshot
 * and journal deltas after it, and nodes a transaction made leaf first. */
static void test_state_files_for_seeds(void **state)
{
	struct rig *g = *state;
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 3, .len = 10 };
	char path[128], *st, *jn;
	size_t ns, nj;

	assert_int_equal(xse_mkdir(&g->dom0, 0, "/local/domain/5/data"), 0);
	guest_request(g, XS_WATCH, "data\0w", 7);
	guest_request(g, XS_WATCH, "@releaseDomain\0r", 17);
	guest_request(g, XS_TRANSACTION_START, "", 1);
	daemon_round(g);
	assert_int_equal(persist_snapshot(g->d.persist), 0);
	guest_request(g, XS_WATCH, "/local/domain/5/abs\0a", 22);
	guest_request(g, XS_UNWATCH, "@releaseDomain\0r", 17);
	for (int k = 0; k < 40; k++) {
		char p[64];

		snprintf(p, sizeof(p), "/local/domain/5/data/n%d", k);
		assert_int_equal(xse_write(&g->dom0, 0, p, "v", 1), 0);
		xsd_round(&g->d);
	}
	{
		/* A transaction journals a new leaf before its new parents. */
		uint32_t t;

		assert_int_equal(xse_txn_start(&g->dom0, 0, &t), 0);
		assert_int_equal(xse_write(&g->dom0, t, "/local/domain/5/data/t/a/b", "1", 1), 0);
		assert_int_equal(xse_rm(&g->dom0, t, "/local/domain/5/data/n3"), 0);
		assert_int_equal(xse_txn_end(&g->dom0, t, true), 0);
		xsd_round(&g->d);
	}
	guest_put(g, &h, sizeof(h));
	guest_put(g, "data", 4);
	daemon_round(g);
	g->i->rsp_cons = g->i->rsp_prod; /* some reach the guest */
	daemon_round(g);
	daemon_round(g);
	snprintf(path, sizeof(path), "%s/xenstored.state", g->dir);
	st = slurp(path, &ns);
	jn = malloc(journal_end(g));
	memcpy(jn, g->d.persist->jmap, journal_end(g));
	nj = journal_end(g);
	copy_seed("state", 0, st, ns, NULL, 0);
	copy_seed("journal", 1, jn, nj, NULL, 0);
	copy_seed("state-journal", 2, st, ns, jn, nj);
	/* And they load: the guest gets its watches and partial request. */
	daemon_kill(g);
	daemon_up(g);
	attach(g);
	guest_put(g, "/a\0v1", 6);
	daemon_round(g);
	assert_int_equal(g->i->error, 0);
	assert_non_null(xse_lookup(&g->d.eng, "/local/domain/5/data/a"));
	assert_non_null(xse_lookup(&g->d.eng, "/local/domain/5/data/t/a/b"));
	assert_null(xse_lookup(&g->d.eng, "/local/domain/5/data/n3"));
	free(st);
	free(jn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restored_bad_header_after_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restored_bad_header_after_upgrade, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restore_input_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_id_watch_survives_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_id_watch_survives_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restored_partial_request_resumes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_journal_cost_is_constant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queued_output_journal_cost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_journal_cost_is_constant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handover_bad_header_refuses_that_connection,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_handover_refuses_foreign_descriptor, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_state_files_for_seeds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_before_journal_loses_no_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_req_cons_published_after_journal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kill_after_journal_no_duplicate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kill_after_snapshot_no_duplicate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_saved_cons_outside_ring_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kill_in_snapshot_no_duplicate, setup, teardown),
	};

	log_init("test", LOG_ERR, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
