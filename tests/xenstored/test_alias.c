/* Unit tests of a restored domain's old ids (xenstored/alias.c;
 * docs/xenstored.md, "A new id"): domain 9 was domain 5 before its save,
 * and domain 5 is now another guest.  Domain 9's requests naming
 * /local/domain/0/backend/<type>/5[/...] are served at .../9[/...] with the
 * real node's permissions, its watches set that way get events in the old
 * form, nobody else's requests change, old ids compose across restores,
 * are bounded, and go with the domain. */
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
#include "ops.h"

#define OLD_BE "/local/domain/0/backend/vbd/5/51712"
#define NEW_BE "/local/domain/0/backend/vbd/9/51712"

struct fixture {
	struct xse_engine eng;
	struct xse_client dom0, dom5, dom9;
	char events[64][256]; /* "client:path:token" */
	unsigned nevents;
};

static void record(struct xse_client *c, const char *path, const char *token)
{
	struct fixture *f = c->opaque;

	if (f->nevents < 64)
		snprintf(f->events[f->nevents++], 256, "%u:%s:%s", c->domid, path, token);
}

/* libxl's back-end directory of one vbd: Domain-0's, readable by the
 * frontend (libxl_device.c libxl__device_generic_add). */
static void backend_of(struct fixture *f, uint32_t domid, const char *state)
{
	struct xse_perm p[2] = { { 0, XSE_PERM_NONE }, { domid, XSE_PERM_READ } };
	char dir[64], node[80];

	snprintf(dir, sizeof(dir), "/local/domain/0/backend/vbd/%u/51712", domid);
	snprintf(node, sizeof(node), "%s/state", dir);
	assert_int_equal(xse_write(&f->dom0, 0, dir, "", 0), 0);
	assert_int_equal(xse_set_perms(&f->dom0, 0, dir, p, 2), 0);
	assert_int_equal(xse_write(&f->dom0, 0, node, state, (uint32_t)strlen(state)), 0);
	assert_int_equal(xse_set_perms(&f->dom0, 0, node, p, 2), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const uint32_t old = 5;

	assert_non_null(f);
	assert_int_equal(xse_init(&f->eng), 0);
	xse_client_init(&f->eng, &f->dom0, 0, record, f);
	xse_client_init(&f->eng, &f->dom5, 5, record, f);
	xse_client_init(&f->eng, &f->dom9, 9, record, f);
	assert_int_equal(xse_introduce(&f->eng, 5), 0);
	assert_int_equal(xse_introduce(&f->eng, 9), 0);
	backend_of(f, 5, "1"); /* the other guest now called 5 */
	backend_of(f, 9, "4"); /* the restored guest's */
	assert_int_equal(xse_alias_set(&f->eng, 9, &old, 1), 0);
	f->nevents = 0;
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

static void check_value(struct xse_client *c, uint32_t tx, const char *path, const char *want)
{
	const char *v;
	uint32_t n;

	assert_int_equal(xse_read(c, tx, path, &v, &n), 0);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(v, want, n);
}

/* Every request that names a path, in the old form, reaches the new back
 * end; Domain-0 and the other domain 5 are not translated. */
static void test_requests_translated(void **state)
{
	struct fixture *f = *state;
	struct xse_perm rw[2] = { { 0, XSE_PERM_NONE }, { 9, XSE_PERM_READ | XSE_PERM_WRITE } };
	const struct xse_perm *p;
	const char *k;
	uint32_t n, tx;

	check_value(&f->dom9, 0, OLD_BE "/state", "4");
	assert_int_equal(xse_directory(&f->dom9, 0, OLD_BE, &k, &n, NULL), 0);
	assert_int_equal(n, sizeof("state"));
	assert_string_equal(k, "state");
	assert_int_equal(xse_get_perms(&f->dom9, 0, OLD_BE "/state", &p, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p[1].id, 9);
	/* A node the toolstack lets the frontend write. */
	assert_int_equal(xse_write(&f->dom0, 0, NEW_BE "/fe", "", 0), 0);
	assert_int_equal(xse_set_perms(&f->dom0, 0, NEW_BE "/fe", rw, 2), 0);
	assert_int_equal(xse_write(&f->dom9, 0, OLD_BE "/fe/x", "a", 1), 0);
	check_value(&f->dom0, 0, NEW_BE "/fe/x", "a");
	assert_int_equal(xse_mkdir(&f->dom9, 0, OLD_BE "/fe/d"), 0);
	assert_non_null(xse_lookup(&f->eng, NEW_BE "/fe/d"));
	assert_int_equal(xse_rm(&f->dom9, 0, OLD_BE "/fe/d"), 0);
	assert_null(xse_lookup(&f->eng, NEW_BE "/fe/d"));
	assert_int_equal(xse_set_perms(&f->dom9, 0, OLD_BE "/fe/x", rw + 1, 1), 0);
	assert_int_equal(xse_lookup(&f->eng, NEW_BE "/fe/x")->perms[0].id, 9);
	/* In a transaction too. */
	assert_int_equal(xse_txn_start(&f->dom9, 0, &tx), 0);
	assert_int_equal(xse_write(&f->dom9, tx, OLD_BE "/fe/y", "b", 1), 0);
	check_value(&f->dom9, tx, OLD_BE "/fe/y", "b");
	assert_int_equal(xse_txn_end(&f->dom9, tx, true), 0);
	check_value(&f->dom0, 0, NEW_BE "/fe/y", "b");
	assert_null(xse_lookup(&f->eng, OLD_BE "/fe"));
	/* Domain-0 and the other guest see the real domain 5's. */
	check_value(&f->dom0, 0, OLD_BE "/state", "1");
	check_value(&f->dom5, 0, OLD_BE "/state", "1");
	/* Only the frontend-id component of the back-end layout moves: these
	 * are not found (or not readable) where they are, as before. */
	assert_int_equal(xse_write(&f->dom0, 0, "/local/domain/0/backend/vbd/55/51712", "", 0), 0);
	assert_int_equal(xse_read(&f->dom9, 0, "/local/domain/0/backend/vbd/55/51712", &k, &n),
			 -EACCES);
	assert_int_equal(xse_read(&f->dom9, 0, "/local/domain/0/backend/vbd/5x", &k, &n), -EACCES);
	assert_int_equal(xse_read(&f->dom9, 0, "/local/domain/0/backendx/vbd/5/51712", &k, &n),
			 -EACCES);
	assert_int_equal(xse_read(&f->dom9, 0, "/local/domain/5", &k, &n), -EACCES);
}

/* The permissions are the real node's: an old-form path reaches nothing
 * the domain could not name itself, never the other domain 5's back end. */
static void test_permission_on_real_path(void **state)
{
	struct fixture *f = *state;
	struct xse_perm none[1] = { { 0, XSE_PERM_NONE } };
	const char *k;
	uint32_t n;

	/* A node of 5's back end that 9's lacks: 9 gets its own (absent),
	 * where without the alias it would be refused. */
	assert_int_equal(xse_write(&f->dom0, 0, OLD_BE "/secret", "s", 1), 0);
	assert_int_equal(xse_read(&f->dom9, 0, OLD_BE "/secret", &k, &n), -ENOENT);
	assert_int_equal(xse_write(&f->dom9, 0, OLD_BE "/state", "6", 1), -EACCES);
	check_value(&f->dom0, 0, OLD_BE "/state", "1");
	check_value(&f->dom0, 0, NEW_BE "/state", "4");
	/* 9's own node closed to it: refused through the alias as directly. */
	assert_int_equal(xse_set_perms(&f->dom0, 0, NEW_BE "/state", none, 1), 0);
	assert_int_equal(xse_read(&f->dom9, 0, NEW_BE "/state", &k, &n), -EACCES);
	assert_int_equal(xse_read(&f->dom9, 0, OLD_BE "/state", &k, &n), -EACCES);
	/* Without the alias, 5's back end is closed to 9. */
	assert_int_equal(xse_alias_set(&f->eng, 9, NULL, 0), 0);
	assert_int_equal(xse_read(&f->dom9, 0, OLD_BE "/state", &k, &n), -EACCES);
}

/* Events of a watch set in the old form carry the old form (Linux's
 * xenbus_otherend_changed drops others); one set in the real form the
 * real one; both can be held and removed apart. */
static void test_watch_events_back_translated(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(xse_watch(&f->dom9, OLD_BE "/state", "fe"), 0);
	xse_watch_initial(&f->dom9);
	assert_int_equal(f->nevents, 1);
	assert_string_equal(f->events[0], "9:" OLD_BE "/state:fe");
	assert_string_equal(f->dom9.watches->path, NEW_BE "/state");
	assert_int_equal(xse_watch(&f->dom9, OLD_BE "/state", "fe"), -EEXIST);
	assert_int_equal(xse_watch(&f->dom9, NEW_BE "/state", "fe"), 0);
	assert_int_equal(xse_watch(&f->dom9, "/local/domain/0/backend/vbd/5", "dir"), 0);
	f->nevents = 0;
	assert_int_equal(xse_write(&f->dom0, 0, NEW_BE "/state", "5", 1), 0);
	assert_int_equal(f->nevents, 3);
	assert_string_equal(f->events[0], "9:" OLD_BE "/state:fe");
	assert_string_equal(f->events[1], "9:" NEW_BE "/state:fe");
	assert_string_equal(f->events[2], "9:" OLD_BE "/state:dir");
	/* The other domain 5's back end does not fire 9's watches. */
	f->nevents = 0;
	assert_int_equal(xse_write(&f->dom0, 0, OLD_BE "/state", "2", 1), 0);
	assert_int_equal(f->nevents, 0);
	/* Unwatch in the old form removes the old-form watch only. */
	assert_int_equal(xse_unwatch(&f->dom9, OLD_BE "/state", "fe"), 0);
	assert_int_equal(xse_unwatch(&f->dom9, OLD_BE "/state", "fe"), -ENOENT);
	f->nevents = 0;
	assert_int_equal(xse_write(&f->dom0, 0, NEW_BE "/state", "6", 1), 0);
	assert_int_equal(f->nevents, 2);
	assert_string_equal(f->events[0], "9:" NEW_BE "/state:fe");
	assert_string_equal(f->events[1], "9:" OLD_BE "/state:dir");
	/* A removal of the device's back-end directory (xl block-detach)
	 * fires the state watch in the old form too. */
	assert_int_equal(xse_watch(&f->dom9, OLD_BE "/state", "fe2"), 0);
	f->nevents = 0;
	assert_int_equal(xse_rm(&f->dom0, 0, NEW_BE), 0);
	assert_int_equal(f->nevents, 3);
	assert_string_equal(f->events[0], "9:" NEW_BE "/state:fe");
	assert_string_equal(f->events[1], "9:" OLD_BE "/state:fe2");
	assert_string_equal(f->events[2], "9:" OLD_BE ":dir");
}

/* A watch kept as the guest gave it (persist.c, the export) comes back
 * translated when added raw, as after a restart of the daemon. */
static void test_watch_given_form_and_raw_restore(void **state)
{
	struct fixture *f = *state;
	char given[256];

	assert_int_equal(xse_watch(&f->dom9, OLD_BE "/state", "fe"), 0);
	assert_int_equal(xse_watch_given(9, f->dom9.watches, given, sizeof(given)), 0);
	assert_string_equal(given, OLD_BE "/state");
	xse_reset_watches(&f->dom9);
	assert_int_equal(xse_add_watch_raw(&f->dom9, given, "fe", 0), 0);
	assert_string_equal(f->dom9.watches->path, NEW_BE "/state");
	f->nevents = 0;
	assert_int_equal(xse_write(&f->dom0, 0, NEW_BE "/state", "5", 1), 0);
	assert_int_equal(f->nevents, 1);
	assert_string_equal(f->events[0], "9:" OLD_BE "/state:fe");
}

/* O->N, then saved as N and restored as M: O and N both mean M. */
static void test_composition(void **state)
{
	struct fixture *f = *state;
	uint32_t out[XSE_ALIAS_MAX], got[XSE_ALIAS_MAX];
	const uint32_t five = 5, five_nine[2] = { 5, 9 }, four[4] = { 1, 2, 3, 4 };
	struct xse_client dom12;
	unsigned n;

	assert_int_equal(xse_alias_compose(NULL, 0, 5, 9, out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 5);
	assert_int_equal(xse_alias_compose(&five, 1, 9, 12, out, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 5);
	assert_int_equal(out[1], 9);
	/* Back under an old id: that one is real again. */
	assert_int_equal(xse_alias_compose(&five, 1, 9, 5, out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 9);
	/* Under the same id: nothing new. */
	assert_int_equal(xse_alias_compose(&five, 1, 9, 9, out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(xse_alias_compose(NULL, 0, 9, 9, out, &n), 0);
	assert_int_equal(n, 0);
	/* Bounded: a fifth old id is refused. */
	assert_int_equal(xse_alias_compose(four, 4, 9, 12, out, &n), -ENOSPC);
	assert_int_equal(xse_alias_compose(four, 4, 4, 12, out, &n), 0);
	assert_int_equal(n, 4);

	xse_client_init(&f->eng, &dom12, 12, record, f);
	assert_int_equal(xse_introduce(&f->eng, 12), 0);
	backend_of(f, 12, "3");
	assert_int_equal(xse_alias_set(&f->eng, 12, five_nine, 2), 0);
	assert_int_equal(xse_alias_get(&f->eng, 12, got), 2);
	assert_int_equal(got[0], 5);
	assert_int_equal(got[1], 9);
	check_value(&dom12, 0, OLD_BE "/state", "3");
	check_value(&dom12, 0, NEW_BE "/state", "3");
	check_value(&dom12, 0, "/local/domain/0/backend/vbd/12/51712/state", "3");
	xse_client_dispose(&dom12);
}

static void test_set_checks_and_release(void **state)
{
	struct fixture *f = *state;
	const uint32_t five[5] = { 1, 2, 3, 4, 5 }, own = 9, dup[2] = { 5, 5 }, zero = 0,
		       reserved = 0x7FF0;
	uint32_t got[XSE_ALIAS_MAX];
	const char *k;
	uint32_t n;

	assert_int_equal(xse_alias_set(&f->eng, 9, five, 5), -ENOSPC);
	assert_int_equal(xse_alias_set(&f->eng, 9, &own, 1), -EINVAL);
	assert_int_equal(xse_alias_set(&f->eng, 9, dup, 2), -EINVAL);
	assert_int_equal(xse_alias_set(&f->eng, 9, &zero, 1), -EINVAL);
	assert_int_equal(xse_alias_set(&f->eng, 9, &reserved, 1), -EINVAL);
	assert_int_equal(xse_alias_set(&f->eng, 0, dup, 1), -EINVAL);
	/* Refusals leave what was there. */
	assert_int_equal(xse_alias_get(&f->eng, 9, got), 1);
	assert_int_equal(got[0], 5);
	/* The domain goes: a domain reusing the id answers to its own only. */
	assert_int_equal(xse_release(&f->eng, 9), 0);
	assert_int_equal(xse_alias_get(&f->eng, 9, got), 0);
	assert_int_equal(xse_introduce(&f->eng, 9), 0);
	assert_int_equal(xse_read(&f->dom9, 0, OLD_BE "/state", &k, &n), -EACCES);
	/* A restore abandoned before XS_INTRODUCE is released too. */
	assert_int_equal(xse_alias_set(&f->eng, 20, five, 1), 0);
	assert_int_equal(xse_release(&f->eng, 20), -ENOENT);
	assert_int_equal(xse_alias_get(&f->eng, 20, got), 0);
}

/* Through the wire dispatch, as a guest's ring request comes. */
static void test_through_ops(void **state)
{
	struct fixture *f = *state;
	struct ops_env env = { .eng = &f->eng };
	struct ops_reply *out = malloc(sizeof(*out));
	static const char body[] = OLD_BE "/state";
	struct xsd_sockmsg h = { .type = XS_READ, .len = sizeof(body) };

	assert_non_null(out);
	ops_process(&env, &f->dom9, &h, body, out);
	assert_int_equal(out->type, XS_READ);
	assert_int_equal(out->len, 1);
	assert_memory_equal(out->body, "4", 1);
	ops_process(&env, &f->dom0, &h, body, out);
	assert_memory_equal(out->body, "1", 1);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requests_translated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permission_on_real_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_events_back_translated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_given_form_and_raw_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_composition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_checks_and_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_through_ops, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
