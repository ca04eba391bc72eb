/* A client linked with Debian's libxenstore, run against our xenstored:
 * domain calls, transactions (including a real conflict), watches and
 * permissions through the library Xen's own tools use.  Exit 0 if all
 * checks pass; each failure prints the check. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "testutil.h"


/* Next watch event within 2 s; "path|token" in buf. */
static int next_event(struct xs_handle *h, char *buf, size_t sz)
{
	struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
	unsigned n;
	char **v;

	if (poll(&p, 1, 2000) != 1)
		return -1;
	v = xs_read_watch(h, &n);
	if (!v)
		return -1;
	snprintf(buf, sz, "%s|%s", v[XS_WATCH_PATH], v[XS_WATCH_TOKEN]);
	free(v);
	return 0;
}

static void test_domains(struct xs_handle *h)
{
	char ev[256], *p = xs_get_domain_path(h, 5);

	CHECK(p && strcmp(p, "/local/domain/5") == 0);
	free(p);
	CHECK(xs_watch(h, "@introduceDomain", "tokI"));
	CHECK(next_event(h, ev, sizeof(ev)) == 0 && strcmp(ev, "@introduceDomain|tokI") == 0);
	CHECK(xs_watch(h, "@releaseDomain", "tokR"));
	CHECK(next_event(h, ev, sizeof(ev)) == 0 && strcmp(ev, "@releaseDomain|tokR") == 0);
	CHECK(!xs_is_domain_introduced(h, 5));
	CHECK(xs_introduce_domain(h, 5, 0x1234, 7));
	CHECK(next_event(h, ev, sizeof(ev)) == 0 && strcmp(ev, "@introduceDomain|tokI") == 0);
	CHECK(xs_is_domain_introduced(h, 5));
	CHECK(xs_release_domain(h, 5));
	CHECK(next_event(h, ev, sizeof(ev)) == 0 && strcmp(ev, "@releaseDomain|tokR") == 0);
	CHECK(!xs_is_domain_introduced(h, 5));
	CHECK(!xs_release_domain(h, 5) && errno == ENOENT);
	CHECK(xs_unwatch(h, "@introduceDomain", "tokI"));
	CHECK(xs_unwatch(h, "@releaseDomain", "tokR"));
}

static void test_errors(struct xs_handle *h)
{
	unsigned len;

	CHECK(!xs_write(h, XBT_NULL, "/x//y", "1", 1) && errno == EINVAL);
	CHECK(!xs_rm(h, XBT_NULL, "/nonexist/a") && errno == ENOENT);
	CHECK(!xs_read(h, XBT_NULL, "/nonexist", &len) && errno == ENOENT);
}

static void test_transactions(struct xs_handle *a, struct xs_handle *b)
{
	xs_transaction_t t;
	unsigned len;
	char *v;

	CHECK(xs_write(a, XBT_NULL, "/txn/x", "0", 1));
	/* Unrelated concurrent write: commit succeeds. */
	t = xs_transaction_start(a);
	CHECK(t != XBT_NULL);
	v = xs_read(a, t, "/txn/x", &len);
	free(v);
	CHECK(xs_write(b, XBT_NULL, "/txn/other", "1", 1));
	CHECK(xs_write(a, t, "/txn/y", "1", 1));
	CHECK(xs_transaction_end(a, t, false));
	/* Conflicting write to a node the transaction read: EAGAIN. */
	t = xs_transaction_start(a);
	v = xs_read(a, t, "/txn/x", &len);
	free(v);
	CHECK(xs_write(b, XBT_NULL, "/txn/x", "2", 1));
	CHECK(xs_write(a, t, "/txn/z", "1", 1));
	CHECK(!xs_transaction_end(a, t, false) && errno == EAGAIN);
	v = xs_read(a, XBT_NULL, "/txn/z", &len);
	CHECK(v == NULL && errno == ENOENT);
	free(v);
	/* Abort. */
	t = xs_transaction_start(a);
	CHECK(xs_write(a, t, "/txn/aborted", "1", 1));
	CHECK(xs_transaction_end(a, t, true));
	CHECK(!xs_read(a, XBT_NULL, "/txn/aborted", &len));
}

static void test_watches_and_perms(struct xs_handle *h)
{
	struct xs_permissions p[2] = { { .id = 3, .perms = XS_PERM_NONE },
				       { .id = 4, .perms = XS_PERM_READ } };
	struct xs_permissions *got;
	unsigned n;
	char ev[256];

	CHECK(xs_watch(h, "/wp", "t"));
	CHECK(next_event(h, ev, sizeof(ev)) == 0 && strcmp(ev, "/wp|t") == 0);
	CHECK(xs_write(h, XBT_NULL, "/wp/a/b", "1", 1));
	CHECK(next_event(h, ev, sizeof(ev)) == 0 && strcmp(ev, "/wp/a/b|t") == 0);
	CHECK(xs_set_permissions(h, XBT_NULL, "/wp/a", p, 2));
	CHECK(next_event(h, ev, sizeof(ev)) == 0 && strcmp(ev, "/wp/a|t") == 0);
	got = xs_get_permissions(h, XBT_NULL, "/wp/a", &n);
	CHECK(got && n == 2 && got[0].id == 3 && got[1].id == 4 && got[1].perms == XS_PERM_READ);
	free(got);
	CHECK(xs_watch(h, "rel", "r"));
	CHECK(next_event(h, ev, sizeof(ev)) == 0 && strcmp(ev, "rel|r") == 0);
	CHECK(xs_write(h, XBT_NULL, "/local/domain/0/rel/k", "1", 1));
	CHECK(next_event(h, ev, sizeof(ev)) == 0 && strcmp(ev, "rel/k|r") == 0);
	CHECK(xs_unwatch(h, "/wp", "t"));
	CHECK(xs_unwatch(h, "rel", "r"));
}

static void test_directory(struct xs_handle *h)
{
	char p[64], **d;
	unsigned n;

	/* Enough children that libxenstore needs DIRECTORY_PART (> 4096 bytes). */
	for (int i = 0; i < 400; i++) {
		snprintf(p, sizeof(p), "/dir/child-with-a-longish-name-%03d", i);
		CHECK(xs_write(h, XBT_NULL, p, "", 0));
	}
	d = xs_directory(h, XBT_NULL, "/dir", &n);
	CHECK(d && n == 400);
	CHECK(d && strcmp(d[0], "child-with-a-longish-name-000") == 0);
	CHECK(d && strcmp(d[399], "child-with-a-longish-name-399") == 0);
	free(d);
	CHECK(xs_rm(h, XBT_NULL, "/dir"));
}

int main(void)
{
	struct xs_handle *a = xs_open(0), *b = xs_open(0);

	if (!a || !b) {
		perror("xs_open");
		return 1;
	}
	test_domains(a);
	test_errors(a);
	test_transactions(a, b);
	test_watches_and_perms(a);
	test_directory(a);
	xs_close(a);
	xs_close(b);
	printf("libxenstore client: %d failures\n", failures);
	return failures ? 1 : 0;
}
