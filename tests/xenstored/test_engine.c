/* Unit tests of the xenstored engine: tree, permissions, watches,
 * transactions, quotas, domains and per-domain memory, called with explicit
 * domids and txids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct fixture {
	struct xse_engine eng;
	struct xse_client dom0, dom5, dom6;
	char events[64][256]; /* "client:path:token" */
	unsigned nevents;
};

static void record(struct xse_client *c, const char *path, const char *token)
{
	struct fixture *f = c->opaque;

	if (f->nevents < 64)
		snprintf(f->events[f->nevents++], 256, "%u:%s:%s", c->domid, path, token);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(xse_init(&f->eng), 0);
	xse_client_init(&f->eng, &f->dom0, 0, record, f);
	xse_client_init(&f->eng, &f->dom5, 5, record, f);
	xse_client_init(&f->eng, &f->dom6, 6, record, f);
	assert_int_equal(xse_introduce(&f->eng, 5), 0);
	assert_int_equal(xse_introduce(&f->eng, 6), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	xse_dispose(&f->eng);
	free(f);
	return 0;
}

static void give_home(struct fixture *f, uint32_t domid)
{
	char p[64];
	struct xse_perm perm = { domid, XSE_PERM_NONE };

	snprintf(p, sizeof(p), "/local/domain/%u", domid);
	assert_int_equal(xse_mkdir(&f->dom0, 0, p), 0);
	assert_int_equal(xse_set_perms(&f->dom0, 0, p, &perm, 1), 0);
}

static void check_value(struct xse_client *c, uint32_t tx, const char *path, const char *want)
{
	const char *v;
	uint32_t n;

	assert_int_equal(xse_read(c, tx, path, &v, &n), 0);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(v, want, n);
}

static void test_tree_write_creates_parents_in_order(void **state)
{
	struct fixture *f = *state;
	const char *k;
	uint32_t n;

	assert_int_equal(xse_write(&f->dom0, 0, "/a/b/c", "v", 1), 0);
	assert_int_equal(xse_write(&f->dom0, 0, "/a/z", "", 0), 0);
	assert_int_equal(xse_write(&f->dom0, 0, "/a/m", "", 0), 0);
	check_value(&f->dom0, 0, "/a/b/c", "v");
	check_value(&f->dom0, 0, "/a/b", "");
	assert_int_equal(xse_directory(&f->dom0, 0, "/a", &k, &n, NULL), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(k, "b\0z\0m\0", 6);
	/* Relative paths are below the caller's home. */
	assert_int_equal(xse_write(&f->dom0, 0, "rel", "1", 1), 0);
	check_value(&f->dom0, 0, "/local/domain/0/rel", "1");
}

static void test_tree_rm(void **state)
{
	struct fixture *f = *state;
	const char *v;
	uint32_t n;

	assert_int_equal(xse_write(&f->dom0, 0, "/a/b/c", "v", 1), 0);
	assert_int_equal(xse_rm(&f->dom0, 0, "/a/b"), 0);
	assert_int_equal(xse_read(&f->dom0, 0, "/a/b/c", &v, &n), -ENOENT);
	assert_int_equal(xse_read(&f->dom0, 0, "/a/b", &v, &n), -ENOENT);
	/* Missing node, existing parent: fine; missing parent: ENOENT. */
	assert_int_equal(xse_rm(&f->dom0, 0, "/a/nothere"), 0);
	assert_int_equal(xse_rm(&f->dom0, 0, "/nope/nothere"), -ENOENT);
	assert_int_equal(xse_rm(&f->dom0, 0, "/"), -EINVAL);
}

static void test_path_rules(void **state)
{
	struct fixture *f = *state;
	char longp[2200];

	assert_int_equal(xse_write(&f->dom0, 0, "/x//y", "", 0), -EINVAL);
	assert_int_equal(xse_write(&f->dom0, 0, "/x/", "", 0), -EINVAL);
	assert_int_equal(xse_write(&f->dom0, 0, "/x y", "", 0), -EINVAL);
	assert_int_equal(xse_write(&f->dom0, 0, "@x", "", 0), -EINVAL);
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[2049] = '\0';
	assert_int_equal(xse_write(&f->dom0, 0, longp, "", 0), -EINVAL);
	longp[2048] = '\0';
	assert_int_equal(xse_write(&f->dom0, 0, longp, "", 0), 0);
}

static void test_perms_unprivileged(void **state)
{
	struct fixture *f = *state;
	struct xse_perm acl[2] = { { 0, XSE_PERM_NONE }, { 5, XSE_PERM_READ } };
	const char *v;
	uint32_t n;

	give_home(f, 5);
	assert_int_equal(xse_write(&f->dom0, 0, "/secret/x", "s", 1), 0);
	assert_int_equal(xse_read(&f->dom5, 0, "/secret/x", &v, &n), -EACCES);
	/* A missing node under an unreadable parent must not say ENOENT. */
	assert_int_equal(xse_read(&f->dom5, 0, "/secret/nope", &v, &n), -EACCES);
	assert_int_equal(xse_set_perms(&f->dom0, 0, "/secret/x", acl, 2), 0);
	check_value(&f->dom5, 0, "/secret/x", "s");
	assert_int_equal(xse_write(&f->dom5, 0, "/secret/x", "t", 1), -EACCES);
	assert_int_equal(xse_read(&f->dom6, 0, "/secret/x", &v, &n), -EACCES);
	/* In its home the guest owns what it creates, relative paths work. */
	assert_int_equal(xse_write(&f->dom5, 0, "data/k", "1", 1), 0);
	check_value(&f->dom0, 0, "/local/domain/5/data/k", "1");
	assert_int_equal(xse_read(&f->dom6, 0, "/local/domain/5/data/k", &v, &n), -EACCES);
	assert_int_equal(xse_read(&f->dom5, 0, "/local/domain/5/nope", &v, &n), -ENOENT);
}

static void test_perms_owner_and_target(void **state)
{
	struct fixture *f = *state;
	struct xse_perm mine = { 5, XSE_PERM_NONE }, theirs = { 6, XSE_PERM_NONE };
	const struct xse_perm *p;
	uint32_t np;
	const char *v;
	uint32_t n;

	give_home(f, 5);
	assert_int_equal(xse_write(&f->dom5, 0, "k", "1", 1), 0);
	/* An unprivileged owner may change the ACL but not the owner. */
	assert_int_equal(xse_set_perms(&f->dom5, 0, "k", &mine, 1), 0);
	assert_int_equal(xse_set_perms(&f->dom5, 0, "k", &theirs, 1), -EPERM);
	assert_int_equal(xse_set_perms(&f->dom6, 0, "/local/domain/5/k", &theirs, 1), -EACCES);
	assert_int_equal(xse_get_perms(&f->dom5, 0, "k", &p, &np), 0);
	assert_int_equal(np, 1);
	assert_int_equal(p[0].id, 5);
	/* SET_TARGET: domain 6 acts with domain 5's rights (a device model). */
	assert_int_equal(xse_read(&f->dom6, 0, "/local/domain/5/k", &v, &n), -EACCES);
	assert_int_equal(xse_set_target(&f->eng, 6, 5), 0);
	check_value(&f->dom6, 0, "/local/domain/5/k", "1");
	assert_int_equal(xse_set_target(&f->eng, 6, 77), -ENOENT);
}

static void test_watch_fires_on_node_and_below(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(xse_watch(&f->dom0, "/w", "tok"), 0);
	xse_watch_initial(&f->dom0);
	assert_int_equal(xse_write(&f->dom0, 0, "/w/a/b", "1", 1), 0);
	assert_int_equal(xse_write(&f->dom0, 0, "/wx", "1", 1), 0); /* not below /w */
	assert_int_equal(xse_rm(&f->dom0, 0, "/w/a"), 0);
	/* Removal fires exactly for each removed child (none is watched) and
	 * for the removed root as for a change. */
	assert_int_equal(f->nevents, 3);
	assert_string_equal(f->events[0], "0:/w:tok");
	assert_string_equal(f->events[1], "0:/w/a/b:tok");
	assert_string_equal(f->events[2], "0:/w/a:tok");
	assert_int_equal(xse_watch(&f->dom0, "/w", "tok"), -EEXIST);
	assert_int_equal(xse_unwatch(&f->dom0, "/w", "tok"), 0);
	assert_int_equal(xse_unwatch(&f->dom0, "/w", "tok"), -ENOENT);
}

static void test_watch_relative_and_permission(void **state)
{
	struct fixture *f = *state;

	give_home(f, 5);
	assert_int_equal(xse_watch(&f->dom5, "dev", "t5"), 0);
	assert_int_equal(xse_watch(&f->dom6, "/local/domain/5/dev", "t6"), 0);
	assert_int_equal(xse_write(&f->dom0, 0, "/local/domain/5/dev/x", "1", 1), 0);
	/* dom5 sees a relative path; dom6 may not read it and gets nothing. */
	assert_int_equal(f->nevents, 1);
	assert_string_equal(f->events[0], "5:dev/x:t5");
}

static void test_watch_special_paths(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(xse_watch(&f->dom0, "@introduceDomain", "i"), 0);
	assert_int_equal(xse_watch(&f->dom5, "@introduceDomain", "i5"), 0);
	assert_int_equal(xse_watch(&f->dom0, "@releaseDomain", "r"), 0);
	assert_int_equal(xse_introduce(&f->eng, 9), 0);
	assert_int_equal(xse_release(&f->eng, 9), 0);
	assert_int_equal(f->nevents, 2); /* dom5 lacks read on the special node */
	assert_string_equal(f->events[0], "0:@introduceDomain:i");
	assert_string_equal(f->events[1], "0:@releaseDomain:r");
	assert_int_equal(xse_release(&f->eng, 9), -ENOENT);
	assert_false(xse_is_introduced(&f->eng, 9));
	assert_true(xse_is_introduced(&f->eng, 0));
}

static void test_watch_quota(void **state)
{
	struct fixture *f = *state;
	char tok[16];
	int rc = 0, i;

	give_home(f, 5);
	f->eng.quota[XSE_Q_WATCHES] = 3;
	for (i = 0; i < 10 && rc == 0; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		rc = xse_watch(&f->dom5, "x", tok);
	}
	/* Xen 4.17 compares with '>': quota + 1 watches fit. */
	assert_int_equal(rc, -E2BIG);
	assert_int_equal(i, 5);
}

static void test_txn_commit_and_isolation(void **state)
{
	struct fixture *f = *state;
	uint32_t t;
	const char *v;
	uint32_t n;

	assert_int_equal(xse_watch(&f->dom0, "/t", "w"), 0);
	assert_int_equal(xse_txn_start(&f->dom0, 0, &t), 0);
	assert_int_equal(t, 1);
	assert_int_equal(xse_write(&f->dom0, t, "/t/a", "1", 1), 0);
	check_value(&f->dom0, t, "/t/a", "1");
	assert_int_equal(xse_read(&f->dom0, 0, "/t/a", &v, &n), -ENOENT);
	assert_int_equal(f->nevents, 0); /* events wait for the commit */
	assert_int_equal(xse_txn_end(&f->dom0, t, true), 0);
	check_value(&f->dom0, 0, "/t/a", "1");
	assert_int_equal(f->nevents, 1);
	assert_string_equal(f->events[0], "0:/t/a:w");
	assert_int_equal(xse_txn_end(&f->dom0, t, true), -ENOENT);
}

static void test_txn_eagain_only_on_conflict(void **state)
{
	struct fixture *f = *state;
	uint32_t t;
	const char *v;
	uint32_t n;

	assert_int_equal(xse_write(&f->dom0, 0, "/c/a", "1", 1), 0);
	assert_int_equal(xse_write(&f->dom0, 0, "/d/x", "1", 1), 0);
	/* Unrelated change: commits. */
	assert_int_equal(xse_txn_start(&f->dom0, 0, &t), 0);
	assert_int_equal(xse_read(&f->dom0, t, "/c/a", &v, &n), 0);
	assert_int_equal(xse_write(&f->dom5, 0, "/d/x", "2", 1), -EACCES);
	assert_int_equal(xse_write(&f->dom6, 0, "/local/domain/6/q", "2", 1), -EACCES);
	assert_int_equal(xse_write(&f->dom0, 0, "/d/x", "2", 1), 0);
	assert_int_equal(xse_write(&f->dom0, t, "/c/b", "1", 1), 0);
	assert_int_equal(xse_txn_end(&f->dom0, t, true), 0);
	/* Something it read changed: EAGAIN, and nothing of it lands. */
	assert_int_equal(xse_txn_start(&f->dom0, 0, &t), 0);
	assert_int_equal(xse_read(&f->dom0, t, "/c/a", &v, &n), 0);
	assert_int_equal(xse_write(&f->dom0, t, "/c/new", "1", 1), 0);
	assert_int_equal(xse_write(&f->dom0, 0, "/c/a", "2", 1), 0);
	assert_int_equal(xse_txn_end(&f->dom0, t, true), -EAGAIN);
	assert_int_equal(xse_read(&f->dom0, 0, "/c/new", &v, &n), -ENOENT);
	/* Abort discards. */
	assert_int_equal(xse_txn_start(&f->dom0, 0, &t), 0);
	assert_int_equal(xse_write(&f->dom0, t, "/c/gone", "1", 1), 0);
	assert_int_equal(xse_txn_end(&f->dom0, t, false), 0);
	assert_int_equal(xse_read(&f->dom0, 0, "/c/gone", &v, &n), -ENOENT);
}

/* After a restart, a guest's transactions from before come back on use:
 * usable, but their commit fails with EAGAIN so the guest redoes them. */
static void test_txn_lost_in_restart(void **state)
{
	struct fixture *f = *state;
	const char *v;
	uint32_t n, t;

	f->dom0.next_txid = 5;
	f->dom0.lost_txid_below = 5;
	assert_int_equal(xse_txn_check(&f->dom0, 3), 0);
	assert_int_equal(xse_write(&f->dom0, 3, "/lost/a", "1", 1), 0);
	check_value(&f->dom0, 3, "/lost/a", "1");
	assert_int_equal(xse_txn_end(&f->dom0, 3, true), -EAGAIN);
	assert_int_equal(xse_read(&f->dom0, 0, "/lost/a", &v, &n), -ENOENT);
	assert_int_equal(xse_txn_end(&f->dom0, 4, false), 0); /* abort: fine */
	assert_int_equal(xse_txn_check(&f->dom0, 5), -ENOENT); /* never given out */
	assert_int_equal(xse_txn_check(&f->dom0, 0), 0);
	assert_int_equal(xse_txn_start(&f->dom0, 0, &t), 0);
	assert_int_equal(t, 5);
	assert_int_equal(xse_write(&f->dom0, t, "/lost/b", "1", 1), 0);
	assert_int_equal(xse_txn_end(&f->dom0, t, true), 0);
	check_value(&f->dom0, 0, "/lost/b", "1");
	/* A guest cannot hold more revived transactions than its quota allows
	 * (quota + 1, as Xen compares with '>'). */
	f->dom5.lost_txid_below = 100;
	for (uint32_t id = 1; id <= 11; id++)
		assert_int_equal(xse_txn_check(&f->dom5, id), 0);
	assert_int_equal(xse_txn_check(&f->dom5, 12), -ENOENT);
	assert_int_equal(xse_txn_end(&f->dom5, 1, false), 0);
	assert_int_equal(xse_txn_check(&f->dom5, 12), 0);
}

static void test_txn_rm_and_nesting(void **state)
{
	struct fixture *f = *state;
	uint32_t t, t2;
	const char *v;
	uint32_t n;

	assert_int_equal(xse_write(&f->dom0, 0, "/r/a/b", "1", 1), 0);
	assert_int_equal(xse_txn_start(&f->dom0, 0, &t), 0);
	assert_int_equal(xse_txn_start(&f->dom0, t, &t2), -EBUSY);
	assert_int_equal(xse_txn_start(&f->dom0, 999, &t2), -ENOENT);
	assert_int_equal(xse_rm(&f->dom0, t, "/r/a"), 0);
	assert_int_equal(xse_read(&f->dom0, t, "/r/a/b", &v, &n), -ENOENT);
	check_value(&f->dom0, 0, "/r/a/b", "1");
	assert_int_equal(xse_txn_end(&f->dom0, t, true), 0);
	assert_int_equal(xse_read(&f->dom0, 0, "/r/a/b", &v, &n), -ENOENT);
	assert_int_equal(xse_read(&f->dom0, 0, "/r/a", &v, &n), -ENOENT);
}

static void test_txn_quota(void **state)
{
	struct fixture *f = *state;
	uint32_t t;
	int rc = 0, i;

	give_home(f, 5);
	for (i = 0; i < 20 && rc == 0; i++)
		rc = xse_txn_start(&f->dom5, 0, &t);
	assert_int_equal(rc, -ENOSPC);
	assert_int_equal(i, 12); /* 11 fit: Xen compares with '>' */
}

static void test_node_quotas(void **state)
{
	struct fixture *f = *state;
	struct xse_perm many[7] = { { 5, 0 }, { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 1 }, { 6, 1 },
				    { 7, 1 } };
	char big[2100];
	char p[32];
	int rc = 0, i;
	const char *v;
	uint32_t n, t;

	give_home(f, 5);
	memset(big, 'x', sizeof(big));
	/* 24-byte record header + one 8-byte permission + data >= 2048 fails. */
	assert_int_equal(xse_write(&f->dom5, 0, "big", big, 2016), -ENOSPC);
	assert_int_equal(xse_write(&f->dom5, 0, "big", big, 2015), 0);
	assert_int_equal(xse_rm(&f->dom5, 0, "big"), 0);
	/* In a transaction the refused write fails the whole transaction, as
	 * Xen's write_node does: its commit fails and nothing lands. */
	assert_int_equal(xse_txn_start(&f->dom5, 0, &t), 0);
	assert_int_equal(xse_write(&f->dom5, t, "small", "1", 1), 0);
	assert_int_equal(xse_write(&f->dom5, t, "big", big, 2016), -ENOSPC);
	assert_int_equal(xse_txn_end(&f->dom5, t, true), -ENOMEM);
	assert_int_equal(xse_read(&f->dom5, 0, "small", &v, &n), -ENOENT);
	assert_int_equal(xse_write(&f->dom0, 0, "/local/domain/5/big", big, 2100), 0);
	assert_int_equal(xse_write(&f->dom5, 0, "p", "", 0), 0);
	assert_int_equal(xse_set_perms(&f->dom5, 0, "p", many, 6), -ENOSPC);
	assert_int_equal(xse_set_perms(&f->dom5, 0, "p", many, 5), 0);
	f->eng.quota[XSE_Q_NODES] = 10;
	for (i = 0; i < 20 && rc == 0; i++) {
		snprintf(p, sizeof(p), "n%d", i);
		rc = xse_write(&f->dom5, 0, p, "", 0);
	}
	assert_int_equal(rc, -ENOSPC);
	/* dom5 owns its home, "big" (inherited owner) and "p": 7 more fit. */
	assert_int_equal(i, 8);
}

static void test_release_removes_owned_nodes(void **state)
{
	struct fixture *f = *state;
	const char *v;
	uint32_t n;

	give_home(f, 5);
	assert_int_equal(xse_write(&f->dom5, 0, "a/b", "1", 1), 0);
	assert_int_equal(xse_watch(&f->dom0, "/local/domain/5", "h"), 0);
	assert_int_equal(xse_release(&f->eng, 5), 0);
	assert_int_equal(xse_read(&f->dom0, 0, "/local/domain/5/a/b", &v, &n), -ENOENT);
	assert_int_equal(xse_read(&f->dom0, 0, "/local/domain/5", &v, &n), -ENOENT);
	check_value(&f->dom0, 0, "/local/domain", "");
	/* Removal fires exactly for descendants: only the watched root matches. */
	assert_int_equal(f->nevents, 1);
	assert_string_equal(f->events[0], "0:/local/domain/5:h");
}

static void test_release_voids_acl_entries(void **state)
{
	struct fixture *f = *state;
	struct xse_perm acl[2] = { { 0, XSE_PERM_NONE }, { 5, XSE_PERM_READ } };
	const struct xse_perm *p;
	const char *v;
	uint32_t n, np;

	assert_int_equal(xse_write(&f->dom0, 0, "/shared", "s", 1), 0);
	assert_int_equal(xse_set_perms(&f->dom0, 0, "/shared", acl, 2), 0);
	check_value(&f->dom5, 0, "/shared", "s");
	/* Domain 5 goes; a new domain 5 must not inherit its access. */
	assert_int_equal(xse_release(&f->eng, 5), 0);
	assert_int_equal(xse_introduce(&f->eng, 5), 0);
	assert_int_equal(xse_read(&f->dom5, 0, "/shared", &v, &n), -EACCES);
	assert_int_equal(xse_get_perms(&f->dom0, 0, "/shared", &p, &np), 0);
	assert_int_equal(np, 2);
	assert_int_equal(p[1].id, 5);
	/* Granting it again works. */
	assert_int_equal(xse_set_perms(&f->dom0, 0, "/shared", acl, 2), 0);
	check_value(&f->dom5, 0, "/shared", "s");
}

/* ---- Memory accounting (Xen 4.17 xenstored_domain.c domain_memory_add) ---- */

static int64_t mem(struct fixture *f, uint32_t domid)
{
	return f->eng.doms[domid].memory;
}

/* The counters kept along the way equal a count from scratch. */
static void check_mem(struct fixture *f)
{
	static const uint32_t doms[] = { 0, 5, 6, 7 };

	for (size_t i = 0; i < sizeof(doms) / sizeof(doms[0]); i++)
		assert_int_equal(mem(f, doms[i]), xse_mem_expected(&f->eng, doms[i]));
}

static int teardown_checked(void **state)
{
	check_mem(*state);
	return teardown(state);
}

/* The numbers Xen 4.17's xenstored gives in `xenstore-control quota`:
 * each node's TDB record (24-byte header, 8 bytes per permission, value,
 * child names) plus its path. */
static void test_mem_charges_as_xen(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mem(f, 0), 132); /* /, /tool, /tool/xenstored */
	give_home(f, 5);
	/* /local 24+8+7+6, /local/domain 24+8+2+13, / gains "local" */
	assert_int_equal(mem(f, 0), 132 + 45 + 47 + 6);
	assert_int_equal(mem(f, 5), 24 + 8 + 15);
	assert_int_equal(xse_write(&f->dom5, 0, "a", "xyz", 3), 0);
	assert_int_equal(mem(f, 5), 47 + 2 + (24 + 8 + 3 + 17));
	/* A watch: path and token. */
	assert_int_equal(xse_watch(&f->dom5, "a", "tok"), 0);
	assert_int_equal(mem(f, 5), 49 + 52 + 17 + 3);
	assert_int_equal(xse_unwatch(&f->dom5, "a", "tok"), 0);
	assert_int_equal(mem(f, 5), 49 + 52);
	check_mem(f);
}

/* Removing what was written gives back exactly what it cost. */
static void test_mem_rm_restores(void **state)
{
	struct fixture *f = *state;
	int64_t m0, m5;

	give_home(f, 5);
	m0 = mem(f, 0);
	m5 = mem(f, 5);
	assert_int_equal(xse_write(&f->dom5, 0, "a/b/c", "1", 1), 0);
	assert_int_equal(xse_write(&f->dom5, 0, "a/d", "22", 2), 0);
	assert_int_equal(xse_write(&f->dom0, 0, "/local/domain/5/a/e", "333", 3), 0);
	assert_true(mem(f, 5) > m5);
	check_mem(f);
	assert_int_equal(xse_rm(&f->dom5, 0, "a"), 0);
	assert_int_equal(mem(f, 5), m5);
	assert_int_equal(mem(f, 0), m0);
}

/* At the hard quota writes fail with EIO, watches with ENOMEM; domain 0 is
 * never limited. */
static void test_mem_quota(void **state)
{
	struct fixture *f = *state;
	struct xse_perm to5 = { 5, XSE_PERM_NONE };
	char big[64];
	int64_t m;

	memset(big, 'x', sizeof(big));
	give_home(f, 5);
	assert_int_equal(xse_write(&f->dom5, 0, "a", "hello", 5), 0);
	m = mem(f, 5);
	f->eng.quota[XSE_Q_MEMORY] = (int)m + 40;
	assert_false(xse_mem_over_hard(&f->eng, 5));
	/* A new node, 24+8+10+17 bytes and 2 in the parent: over. */
	assert_int_equal(xse_write(&f->dom5, 0, "b", big, 10), -EIO);
	assert_int_equal(xse_mkdir(&f->dom5, 0, "c/d/e"), -EIO);
	/* Domain 0 creating below the home pays as domain 5 (the node
	 * inherits its owner): refused as well. */
	assert_int_equal(xse_write(&f->dom0, 0, "/local/domain/5/b", big, 10), -EIO);
	assert_int_equal(mem(f, 5), m);
	/* Rewriting: 40 more bytes reach the quota (Xen tests '>='), 39 do
	 * not. */
	assert_int_equal(xse_write(&f->dom5, 0, "a", big, 45), -EIO);
	assert_int_equal(xse_write(&f->dom5, 0, "a", big, 44), 0);
	assert_int_equal(mem(f, 5), m + 39);
	/* Giving domain 5 a node charges it: refused. */
	assert_int_equal(xse_write(&f->dom0, 0, "/x", "v", 1), 0);
	assert_int_equal(xse_set_perms(&f->dom0, 0, "/x", &to5, 1), -EIO);
	/* A watch: ENOMEM, as Xen's add_watch. */
	assert_int_equal(xse_watch(&f->dom5, "a", "tok"), -ENOMEM);
	/* Shrinking always works, and domain 0 is not limited. */
	assert_int_equal(xse_write(&f->dom5, 0, "a", "", 0), 0);
	f->eng.quota[XSE_Q_MEMORY] = 1;
	assert_true(xse_mem_over_hard(&f->eng, 5));
	assert_false(xse_mem_over_hard(&f->eng, 0));
	assert_int_equal(xse_write(&f->dom0, 0, "/y", big, 64), 0);
	check_mem(f);
}

/* A transaction's copies are charged to its caller, whoever owns the
 * nodes, until it ends; a commit leaves the owners paying for the nodes. */
static void test_mem_txn(void **state)
{
	struct fixture *f = *state;
	const char *v;
	uint32_t t, n;
	int64_t m0, m5;

	give_home(f, 5);
	assert_int_equal(xse_write(&f->dom5, 0, "a", "1", 1), 0);
	m0 = mem(f, 0);
	m5 = mem(f, 5);
	assert_int_equal(xse_txn_start(&f->dom5, 0, &t), 0);
	assert_int_equal(xse_read(&f->dom5, t, "a", &v, &n), 0);
	assert_true(mem(f, 5) > m5);
	/* A node of domain 0 read (refused, but copied, as Xen's read_node). */
	assert_int_equal(xse_read(&f->dom5, t, "/tool/xenstored", &v, &n), -EACCES);
	assert_int_equal(xse_write(&f->dom5, t, "b/c", "2", 1), 0);
	assert_int_equal(mem(f, 0), m0);
	check_mem(f);
	assert_int_equal(xse_txn_end(&f->dom5, t, false), 0);
	assert_int_equal(mem(f, 5), m5);
	assert_int_equal(mem(f, 0), m0);
	/* Commit. */
	assert_int_equal(xse_txn_start(&f->dom5, 0, &t), 0);
	assert_int_equal(xse_write(&f->dom5, t, "b/c", "2", 1), 0);
	assert_int_equal(xse_rm(&f->dom5, t, "a"), 0);
	assert_int_equal(xse_txn_end(&f->dom5, t, true), 0);
	check_mem(f);
	assert_int_equal(xse_rm(&f->dom5, 0, "b"), 0);
	assert_int_equal(xse_write(&f->dom5, 0, "a", "1", 1), 0);
	assert_int_equal(mem(f, 5), m5);
	/* EAGAIN. */
	assert_int_equal(xse_txn_start(&f->dom5, 0, &t), 0);
	assert_int_equal(xse_read(&f->dom5, t, "a", &v, &n), 0);
	assert_int_equal(xse_write(&f->dom5, t, "n", "1", 1), 0);
	assert_int_equal(xse_write(&f->dom0, 0, "/local/domain/5/a", "2", 1), 0);
	assert_int_equal(xse_txn_end(&f->dom5, t, true), -EAGAIN);
	assert_int_equal(mem(f, 5), m5);
	/* Over the quota inside a transaction: EIO, and the transaction has
	 * failed (Xen's write_node), so its commit says ENOMEM. */
	assert_int_equal(xse_txn_start(&f->dom5, 0, &t), 0);
	assert_int_equal(xse_read(&f->dom5, t, "a", &v, &n), 0);
	f->eng.quota[XSE_Q_MEMORY] = (int)mem(f, 5) + 20;
	assert_int_equal(xse_write(&f->dom5, t, "big", "0123456789", 10), -EIO);
	assert_int_equal(xse_txn_end(&f->dom5, t, true), -ENOMEM);
	assert_int_equal(mem(f, 5), m5);
}

/* SET_PERMS moving a node to another owner moves its charge. */
static void test_mem_owner_change(void **state)
{
	struct fixture *f = *state;
	struct xse_perm to5[2] = { { 5, XSE_PERM_NONE }, { 6, XSE_PERM_READ } };
	struct xse_perm to0 = { 0, XSE_PERM_NONE };
	int64_t m0, m5;

	assert_int_equal(xse_write(&f->dom0, 0, "/x", "v", 1), 0);
	m0 = mem(f, 0);
	m5 = mem(f, 5);
	assert_int_equal(xse_set_perms(&f->dom0, 0, "/x", to5, 1), 0);
	assert_int_equal(mem(f, 0), m0 - 35); /* 24+8+1 and "/x" */
	assert_int_equal(mem(f, 5), m5 + 35);
	assert_int_equal(xse_set_perms(&f->dom0, 0, "/x", to5, 2), 0);
	assert_int_equal(mem(f, 5), m5 + 43);
	assert_int_equal(xse_set_perms(&f->dom0, 0, "/x", &to0, 1), 0);
	assert_int_equal(mem(f, 0), m0);
	assert_int_equal(mem(f, 5), m5);
	check_mem(f);
}

/* The daemon closes a released domain's connections first. */
static void close_dom5(struct xse_engine *eng, uint32_t domid, void *opaque)
{
	struct fixture *f = opaque;

	if (domid == 5)
		xse_client_dispose(&f->dom5);
}

static void test_mem_release(void **state)
{
	struct fixture *f = *state;
	const char *v;
	int64_t m0;
	uint32_t t, n;

	f->eng.domain_gone = close_dom5;
	f->eng.hook_opaque = f;
	give_home(f, 5);
	m0 = mem(f, 0);
	assert_int_equal(xse_write(&f->dom5, 0, "a/b", "1", 1), 0);
	assert_int_equal(xse_watch(&f->dom5, "a", "w"), 0);
	assert_int_equal(xse_txn_start(&f->dom5, 0, &t), 0);
	assert_int_equal(xse_read(&f->dom5, t, "a", &v, &n), 0);
	assert_int_equal(xse_release(&f->eng, 5), 0);
	assert_int_equal(mem(f, 5), 0);
	assert_int_equal(mem(f, 0), m0 - 2); /* "5" left /local/domain's list */
	check_mem(f);
}

/* -K: the released domain's nodes and their charge go to domain 0. */
static void test_mem_release_keep(void **state)
{
	struct fixture *f = *state;
	int64_t m0, m5;

	f->eng.keep_orphans = true;
	give_home(f, 5);
	assert_int_equal(xse_write(&f->dom5, 0, "a/b", "1", 1), 0);
	m0 = mem(f, 0);
	m5 = mem(f, 5);
	assert_int_equal(xse_release(&f->eng, 5), 0);
	assert_int_equal(mem(f, 5), 0);
	assert_int_equal(mem(f, 0), m0 + m5);
	check_mem(f);
}

/* A store changed behind the engine (a load from disk) is counted again,
 * by itself when the first client attaches. */
static void test_mem_rebuild(void **state)
{
	struct fixture *f = *state;
	struct xse_engine eng;
	struct xse_client c;
	static const struct xse_perm own7 = { 7, XSE_PERM_NONE };
	const char *v;
	uint32_t t, n;

	give_home(f, 5);
	assert_int_equal(xse_watch(&f->dom5, "a", "w"), 0);
	assert_int_equal(xse_write(&f->dom5, 0, "a", "1", 1), 0);
	assert_int_equal(xse_txn_start(&f->dom5, 0, &t), 0);
	assert_int_equal(xse_read(&f->dom5, t, "a", &v, &n), 0);
	f->eng.doms[5].memory = 12345;
	f->eng.doms[0].memory = 0;
	xse_mem_rebuild(&f->eng);
	check_mem(f);
	assert_int_equal(xse_txn_end(&f->dom5, t, false), 0);
	check_mem(f);

	assert_int_equal(xse_init(&eng), 0);
	assert_int_equal(xse_put_raw(&eng, "/l", "v", 1, &own7, 1), 0);
	eng.doms[7].memory = 99; /* as if loaded without accounting */
	xse_client_init(&eng, &c, 0, NULL, NULL);
	assert_int_equal(eng.doms[7].memory, 24 + 8 + 1 + 2);
	assert_int_equal(eng.doms[0].memory, xse_mem_expected(&eng, 0));
	xse_dispose(&eng);
}

struct notes {
	enum xse_mem_note what[8];
	unsigned n;
};

static void note(struct xse_engine *eng, uint32_t domid, enum xse_mem_note what, int64_t m,
		 void *opaque)
{
	struct notes *ns = opaque;

	if (ns->n < 8)
		ns->what[ns->n++] = what;
}

/* Quota messages as Xen's domain_chk_quota: the hard quota at once and
 * once, the rest no closer than 10 s after the previous one. */
static void test_mem_notices(void **state)
{
	struct fixture *f = *state;
	struct notes ns = { .n = 0 };
	char big[64];

	memset(big, 'x', sizeof(big));
	f->eng.mem_notice = note;
	f->eng.hook_opaque = &ns;
	give_home(f, 5);
	f->eng.quota[XSE_Q_MEMORY] = (int)mem(f, 5) + 80;
	f->eng.soft_memory = (int)mem(f, 5) + 20;
	assert_int_equal(xse_write(&f->dom5, 0, "a", big, 30), -EIO);
	assert_int_equal(xse_write(&f->dom5, 0, "a", big, 30), -EIO);
	assert_int_equal(ns.n, 1);
	assert_int_equal(ns.what[0], XSE_MEM_HARD_HIT);
	/* Within 10 s nothing more is said (52 bytes: over the soft quota). */
	assert_int_equal(xse_write(&f->dom5, 0, "a", "1", 1), 0);
	assert_int_equal(ns.n, 1);
	/* 10 s later: below the hard quota again, and over the soft one. */
	f->eng.doms[5].mem_last_msg -= 10;
	assert_int_equal(xse_write(&f->dom5, 0, "a", "1", 1), 0);
	assert_int_equal(ns.n, 3);
	assert_int_equal(ns.what[1], XSE_MEM_HARD_CLEAR);
	assert_int_equal(ns.what[2], XSE_MEM_SOFT_HIT);
	f->eng.doms[5].mem_last_msg -= 10;
	assert_int_equal(xse_rm(&f->dom5, 0, "a"), 0);
	assert_int_equal(ns.n, 4);
	assert_int_equal(ns.what[3], XSE_MEM_SOFT_CLEAR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
/* Every test ends with the memory counters checked against a recount. */
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown_checked)
		T(test_tree_write_creates_parents_in_order),
		T(test_tree_rm),
		T(test_path_rules),
		T(test_perms_unprivileged),
		T(test_perms_owner_and_target),
		T(test_watch_fires_on_node_and_below),
		T(test_watch_relative_and_permission),
		T(test_watch_special_paths),
		T(test_watch_quota),
		T(test_txn_commit_and_isolation),
		T(test_txn_eagain_only_on_conflict),
		T(test_txn_lost_in_restart),
		T(test_txn_rm_and_nesting),
		T(test_txn_quota),
		T(test_node_quotas),
		T(test_release_removes_owned_nodes),
		T(test_release_voids_acl_entries),
		T(test_mem_charges_as_xen),
		T(test_mem_rm_restores),
		T(test_mem_quota),
		T(test_mem_txn),
		T(test_mem_owner_change),
		T(test_mem_release),
		T(test_mem_release_keep),
		T(test_mem_rebuild),
		T(test_mem_notices),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
