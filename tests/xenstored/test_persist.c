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
	for (end = 4;; ) {
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_journal_replays_to_same_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_round_is_not_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_daemon_per_directory, setup, teardown),
	};

	log_init("test", LOG_ERR, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
