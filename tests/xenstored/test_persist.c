/* Unit tests of xenstored's durable state: what the journal and snapshot
 * hold reads back as the same store (nodes, values, permissions, child
 * order, domains, quotas, restored domains' old ids), and a round cut
 * short by kill -9 is not half applied. */
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
#include <sys/mman.h>
#include <unistd.h>

#include "daemon.h"
#include "persist.h"
#include "persist_int.h"

struct fx {
	char dir[64];
	struct xsd a, b;
	struct xse_client ca;
};

static int open_state(struct xsd *d, const char *dir)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(xse_init(&d->eng), 0);
	d->eng.hook_opaque = d;
	char err[512];

	return persist_open(d, dir, &d->persist, err, sizeof(err));
}

/* Let go of the state directory (its lock) but keep the store to compare. */
static void release_dir(struct xsd *d)
{
	d->eng.node_changed = NULL;
	d->eng.meta_changed = NULL;
	persist_close(d->persist);
	d->persist = NULL;
}

static void close_state(struct xsd *d)
{
	persist_close(d->persist);
	d->persist = NULL;
	xse_dispose(&d->eng);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/xspersist.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(open_state(&f->a, f->dir), 0);
	xse_client_init(&f->a.eng, &f->ca, 0, NULL, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", f->dir);
	free(f);
	return 0;
}

/* Same nodes with the same value, permissions and children, both ways. */
static void assert_same_store(struct xse_engine *x, struct xse_engine *y)
{
	size_t i;

	assert_int_equal(xse_node_count(x), xse_node_count(y));
	for (struct htab_ent *e = htab_first(&x->nodes, &i); e; e = htab_next(&x->nodes, e, &i)) {
		struct xse_node *n = (struct xse_node *)e, *m = xse_lookup(y, e->key);

		assert_non_null(m);
		assert_int_equal(n->vlen, m->vlen);
		assert_memory_equal(n->value, m->value, n->vlen);
		assert_int_equal(n->nperms, m->nperms);
		assert_memory_equal(n->perms, m->perms, n->nperms * sizeof(*n->perms));
		assert_int_equal(n->clen, m->clen);
		if (n->clen)
			assert_memory_equal(n->children, m->children, n->clen);
	}
	for (uint32_t d = 0; d < XSE_DOMID_COUNT; d++) {
		assert_int_equal(x->doms[d].introduced, y->doms[d].introduced);
		assert_int_equal(x->doms[d].nodes, y->doms[d].nodes);
		assert_int_equal(x->doms[d].nalias, y->doms[d].nalias);
		assert_memory_equal(x->doms[d].alias, y->doms[d].alias,
				    x->doms[d].nalias * sizeof(x->doms[d].alias[0]));
	}
	assert_memory_equal(x->quota, y->quota, sizeof(x->quota));
}

static void make_changes(struct fx *f)
{
	struct xse_perm p[2] = { { 5, XSE_PERM_NONE }, { 6, XSE_PERM_READ } };
	uint32_t t;

	assert_int_equal(xse_write(&f->ca, 0, "/a/z", "1", 1), 0);
	assert_int_equal(xse_write(&f->ca, 0, "/a/b/c", "bin\0ary", 7), 0);
	assert_int_equal(xse_write(&f->ca, 0, "/a/m", "", 0), 0);
	assert_int_equal(xse_set_perms(&f->ca, 0, "/a/b", p, 2), 0);
	assert_int_equal(xse_introduce(&f->a.eng, 5), 0);
	assert_int_equal(xse_set_target(&f->a.eng, 5, 0), 0);
	f->a.eng.quota[XSE_Q_NODES] = 77;
	xse_meta_changed(&f->a.eng);
	/* A domain restored under a new id answers to its old ones. */
	assert_int_equal(xse_alias_set(&f->a.eng, 5, (const uint32_t[]){ 7, 8 }, 2), 0);
	assert_int_equal(xse_introduce(&f->a.eng, 6), 0);
	assert_int_equal(xse_alias_set(&f->a.eng, 6, (const uint32_t[]){ 3 }, 1), 0);
	assert_int_equal(xse_release(&f->a.eng, 6), 0); /* and goes: none left */
	assert_int_equal(xse_txn_start(&f->ca, 0, &t), 0);
	assert_int_equal(xse_write(&f->ca, t, "/t/new/deep", "x", 1), 0);
	assert_int_equal(xse_rm(&f->ca, t, "/a/z"), 0);
	assert_int_equal(xse_write(&f->ca, t, "/a/z", "again", 5), 0);
	assert_int_equal(xse_txn_end(&f->ca, t, true), 0);
	assert_int_equal(xse_rm(&f->ca, 0, "/a/m"), 0);
}

static void test_journal_replays_to_same_store(void **state)
{
	struct fx *f = *state;

	make_changes(f);
	assert_int_equal(persist_flush(f->a.persist), 0);
	/* No snapshot: only the journal carries the changes (as after kill -9). */
	release_dir(&f->a);
	assert_int_equal(open_state(&f->b, f->dir), 0);
	assert_same_store(&f->a.eng, &f->b.eng);
	close_state(&f->b);
	xse_client_dispose(&f->ca);
	close_state(&f->a);
}

static void test_snapshot_round_trip(void **state)
{
	struct fx *f = *state;

	make_changes(f);
	assert_int_equal(persist_snapshot(f->a.persist), 0);
	release_dir(&f->a);
	assert_int_equal(open_state(&f->b, f->dir), 0);
	assert_same_store(&f->a.eng, &f->b.eng);
	close_state(&f->b);
	xse_client_dispose(&f->ca);
	close_state(&f->a);
}

static void test_one_daemon_per_directory(void **state)
{
	struct fx *f = *state;

	assert_int_equal(open_state(&f->b, f->dir), -EBUSY);
	xse_dispose(&f->b.eng);
	xse_client_dispose(&f->ca);
	close_state(&f->a);
}

static void test_cut_round_is_not_applied(void **state)
{
	struct fx *f = *state;
	char path[128];
	const char *v;
	uint32_t n;
	int fd;
	off_t end;
	char zero[4] = { 0 }, buf[8];

	assert_int_equal(xse_write(&f->ca, 0, "/kept", "1", 1), 0);
	assert_int_equal(persist_flush(f->a.persist), 0);
	snprintf(path, sizeof(path), "%s/xenstored.journal", f->dir);
	/* Find where the next round starts: after the last non-zero record. */
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	for (end = HDR_LEN;; ) {
		uint32_t type, len;

		assert_int_equal(pread(fd, buf, 8, end), 8);
		memcpy(&type, buf, 4);
		memcpy(&len, buf + 4, 4);
		if (type == 0)
			break;
		end += 8 + len;
	}
	assert_int_equal(xse_write(&f->ca, 0, "/lost", "1", 1), 0);
	assert_int_equal(persist_flush(f->a.persist), 0);
	/* kill -9 before the round's first type word was stored. */
	assert_int_equal(pwrite(fd, zero, 4, end), 4);
	close(fd);
	release_dir(&f->a);
	assert_int_equal(open_state(&f->b, f->dir), 0);
	assert_non_null(xse_lookup(&f->b.eng, "/kept"));
	assert_null(xse_lookup(&f->b.eng, "/lost"));
	{
		struct xse_client cb;

		xse_client_init(&f->b.eng, &cb, 0, NULL, NULL);
		assert_int_equal(xse_read(&cb, 0, "/kept", &v, &n), 0);
		xse_client_dispose(&cb);
	}
	close_state(&f->b);
	xse_client_dispose(&f->ca);
	close_state(&f->a);
}

/* ---- a snapshot cut short (issue 12: the generation) ----
 *
 * persist_snapshot writes snapshot N+1 in steps (persist.h, enum
 * persist_step); a seam stops it after one of them, as a kill -9 or power
 * cut there would, and the directory is loaded as the next daemon would. */

struct stop {
	enum persist_step at;
	bool hit;
};

static int stop_after(void *opaque, enum persist_step step)
{
	struct stop *s = opaque;

	if (step != s->at)
		return 0;
	s->hit = true;
	return 1;
}

/* Open as the daemon does, keeping the warning line it would log. */
static int open_state_err(struct xsd *d, const char *dir, char *err, size_t errsz)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(xse_init(&d->eng), 0);
	d->eng.hook_opaque = d;
	return persist_open(d, dir, &d->persist, err, errsz);
}

/* A node's value as a string (the tests' values have no NUL), or NULL. */
static const char *value_of(struct xsd *d, const char *path)
{
	static __thread char v[64];
	struct xse_node *n = xse_lookup(&d->eng, path);

	if (!n)
		return NULL;
	snprintf(v, sizeof(v), "%.*s", (int)n->vlen, n->value);
	return v;
}

static char *read_file(const char *dir, const char *name, size_t *n)
{
	char path[128];
	FILE *f;
	char *p = malloc(JOURNAL_MAX + 1);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	*n = fread(p, 1, JOURNAL_MAX + 1, f);
	fclose(f);
	return p;
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* A=1 in snapshot N; A=2 and /d/gone journalled (N); then a round whose
 * records are not journalled but go into snapshot N+1 (what persist_flush
 * does when they do not fit the journal): A=3, /d/gone removed.  The
 * snapshot is cut after `at`.  Before the rename the state is N's with its
 * journal (A=2, /d/gone there: the last round was never acknowledged, its
 * replies wait for the journal write); from the rename on it is N+1's
 * (A=3, /d/gone removed).  Replaying journal N over snapshot N+1 gave
 * A=2 (a value the snapshot had overwritten) and /d/gone back. */
static void cut_snapshot(struct fx *f, enum persist_step at)
{
	struct stop s = { at, false };
	struct persist_seam seam = { stop_after, &s };
	bool after = at != PS_TMP_SYNCED;
	char err[512];

	assert_int_equal(xse_write(&f->ca, 0, "/d/A", "1", 1), 0);
	assert_int_equal(persist_flush(f->a.persist), 0);
	assert_int_equal(persist_snapshot(f->a.persist), 0);
	assert_int_equal(xse_write(&f->ca, 0, "/d/A", "2", 1), 0);
	assert_int_equal(xse_write(&f->ca, 0, "/d/gone", "x", 1), 0);
	assert_int_equal(persist_flush(f->a.persist), 0);
	assert_int_equal(xse_write(&f->ca, 0, "/d/A", "3", 1), 0);
	assert_int_equal(xse_rm(&f->ca, 0, "/d/gone"), 0);
	persist_set_seam(f->a.persist, &seam);
	assert_int_equal(persist_snapshot(f->a.persist), -EINTR);
	assert_true(s.hit);
	release_dir(&f->a); /* killed: nothing more is written */

	assert_int_equal(open_state_err(&f->b, f->dir, err, sizeof(err)), 0);
	fprintf(stderr, "cut after step %d: A=%s, /d/gone %s; %s\n", (int)at,
		value_of(&f->b, "/d/A") ?: "(none)",
		xse_lookup(&f->b.eng, "/d/gone") ? "there" : "removed", err[0] ? err : "no warning");
	assert_string_equal(value_of(&f->b, "/d/A"), after ? "3" : "2");
	if (after)
		assert_null(xse_lookup(&f->b.eng, "/d/gone"));
	else
		assert_string_equal(value_of(&f->b, "/d/gone"), "x");
	/* The old journal is left, and refused in one line, only between the
	 * rename and its restart. */
	if (at == PS_RENAMED || at == PS_DIR_SYNCED) {
		assert_non_null(strstr(err, "xenstored.journal: at offset 4: journal of generation 2 "
					    "beside a snapshot of generation 3: not replayed"));
	} else {
		assert_string_equal(err, "");
	}
	/* Whatever it was, the next daemon goes on from there: its own
	 * snapshot and journal load back to the same state. */
	{
		struct xse_client cb;

		xse_client_init(&f->b.eng, &cb, 0, NULL, NULL);
		assert_int_equal(xse_write(&cb, 0, "/d/A", "4", 1), 0);
		assert_int_equal(persist_flush(f->b.persist), 0);
		xse_client_dispose(&cb);
	}
	release_dir(&f->b);
	xse_client_dispose(&f->ca);
	close_state(&f->a);
	assert_int_equal(open_state_err(&f->a, f->dir, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_same_store(&f->a.eng, &f->b.eng);
	assert_string_equal(value_of(&f->a, "/d/A"), "4");
	close_state(&f->b);
	close_state(&f->a);
}

static void test_cut_before_rename_gives_state_before(void **state)
{
	cut_snapshot(*state, PS_TMP_SYNCED);
}

/* The window of the review: the new snapshot beside the old journal. */
static void test_cut_after_rename_gives_state_after(void **state)
{
	cut_snapshot(*state, PS_RENAMED);
}

static void test_cut_after_dir_sync_gives_state_after(void **state)
{
	cut_snapshot(*state, PS_DIR_SYNCED);
}

static void test_cut_in_journal_restart_gives_state_after(void **state)
{
	cut_snapshot(*state, PS_JOURNAL_EMPTIED);
}

static void test_cut_after_journal_restart_gives_state_after(void **state)
{
	cut_snapshot(*state, PS_JOURNAL_STARTED);
}

/* A journal replays only over the snapshot of its generation: the same
 * journal bytes, with /j in them, re-create /j beside the snapshot they
 * continue, and are ignored with one line beside a later one (where /j
 * was removed); a journal without a generation (version 2) is ignored
 * beside a snapshot with one (an older daemon's journal, left by a kill
 * after the first snapshot of a new one) and replays beside one without
 * (an older daemon's directory, as before). */
static void test_journal_of_other_generation_ignored(void **state)
{
	struct fx *f = *state;
	char err[512], *jn, *st;
	size_t nj, ns;
	uint64_t gen;

	/* Journal of generation 1 (the snapshot open wrote): /j made. */
	assert_int_equal(xse_write(&f->ca, 0, "/j", "1", 1), 0);
	assert_int_equal(persist_flush(f->a.persist), 0);
	jn = read_file(f->dir, "xenstored.journal", &nj);
	assert_memory_equal(jn, "DXS3", 4);
	memcpy(&gen, jn + 4, sizeof(gen));
	assert_int_equal(gen, 1);
	assert_int_equal(xse_rm(&f->ca, 0, "/j"), 0);
	assert_int_equal(persist_snapshot(f->a.persist), 0); /* generation 2, no /j */
	release_dir(&f->a);

	write_file(f->dir, "xenstored.journal", jn, nj);
	assert_int_equal(open_state_err(&f->b, f->dir, err, sizeof(err)), 0);
	assert_null(xse_lookup(&f->b.eng, "/j"));
	assert_non_null(strstr(err, "/xenstored.journal: at offset 4: journal of generation 1 "
				    "beside a snapshot of generation 2: not replayed (a snapshot cut "
				    "short after its rename left it; the snapshot holds all of it)"));
	close_state(&f->b);

	/* The same records as generation 3's, the snapshot open wrote last. */
	gen = 3;
	memcpy(jn + 4, &gen, sizeof(gen));
	write_file(f->dir, "xenstored.journal", jn, nj);
	assert_int_equal(open_state_err(&f->b, f->dir, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(value_of(&f->b, "/j"), "1");
	close_state(&f->b);
	assert_int_equal(open_state_err(&f->b, f->dir, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(value_of(&f->b, "/j"), "1"); /* in snapshot 4 now */
	close_state(&f->b);

	/* A journal from the future (its snapshot lost): not replayed. */
	gen = 9;
	memcpy(jn + 4, &gen, sizeof(gen));
	write_file(f->dir, "xenstored.journal", jn, nj);
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/xenstored.state", f->dir);
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(open_state_err(&f->b, f->dir, err, sizeof(err)), 0);
	assert_null(xse_lookup(&f->b.eng, "/j"));
	assert_non_null(strstr(err, "journal of generation 9 beside a snapshot of no generation: "
				    "not replayed (it continues a snapshot that is not there)"));
	close_state(&f->b);

	/* Version 2: the records after a "DXS2" magic, no generation; the
	 * snapshot the open above wrote is of generation 1. */
	memcpy(jn + 8, "DXS2", 4);
	write_file(f->dir, "xenstored.journal", jn + 8, nj - 8);
	assert_int_equal(open_state_err(&f->b, f->dir, err, sizeof(err)), 0);
	assert_null(xse_lookup(&f->b.eng, "/j"));
	assert_non_null(strstr(err, "/xenstored.journal: at offset 0: journal of no generation "
				    "beside a snapshot of generation 1: not replayed"));
	release_dir(&f->b);
	st = read_file(f->dir, "xenstored.state", &ns);
	memcpy(st + 8, "DXS2", 4);
	write_file(f->dir, "xenstored.state", st + 8, ns - 8);
	write_file(f->dir, "xenstored.journal", jn + 8, nj - 8);
	xse_dispose(&f->b.eng);
	assert_int_equal(open_state_err(&f->b, f->dir, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(value_of(&f->b, "/j"), "1");
	close_state(&f->b);
	free(st);
	free(jn);
	xse_client_dispose(&f->ca);
	close_state(&f->a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_journal_replays_to_same_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_round_is_not_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_daemon_per_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_before_rename_gives_state_before, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cut_after_rename_gives_state_after, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cut_after_dir_sync_gives_state_after, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cut_in_journal_restart_gives_state_after, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cut_after_journal_restart_gives_state_after,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_of_other_generation_ignored, setup,
						teardown),
	};

	log_init("test", LOG_ERR, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
