/* Unit tests of the xenstored engine: tree, permissions, watches,
 * transactions, quotas and domains, called with explicit domids and txids. */
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

	give_home(f, 5);
	memset(big, 'x', sizeof(big));
	/* 24-byte record header + one 8-byte permission + data >= 2048 fails. */
	assert_int_equal(xse_write(&f->dom5, 0, "big", big, 2016), -ENOSPC);
	assert_int_equal(xse_write(&f->dom5, 0, "big", big, 2015), 0);
	assert_int_equal(xse_rm(&f->dom5, 0, "big"), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
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
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
