/* An import-domain whose domain never comes (docs/xenstored.md, "Export and
 * import"): `xl restore` imports the saved domain's xenstore side, then
 * dies before the monitor hands the ring over.  The import is tied to the
 * connection that asked for it: when that connection closes first, the
 * daemon undoes it, leaving no node and no waiting connection (the id can
 * be imported again).  An import that was claimed (ring handed over,
 * domain introduced) stays when its importer leaves.  Against the real
 * daemon on a private socket. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#include "domus/ring_proto.h"
#include "guestsim.h"
#include "testutil.h"
#include "xsctl.h"

static char dir[256];

static bool import_dom(struct xs_handle *h, unsigned from, unsigned to)
{
	char args[512];
	int n = snprintf(args, sizeof(args), "%u%c%u%c%s/dom5.xs", from, 0, to, 0, dir);

	return control(h, "import-domain", args, (unsigned)n + 1);
}

static bool is(struct xs_handle *h, const char *path, const char *want)
{
	unsigned len;
	char *v = xs_read(h, XBT_NULL, path, &len);
	bool ok = v && strcmp(v, want) == 0;

	free(v);
	return ok;
}

static bool exists(struct xs_handle *h, const char *path)
{
	unsigned len;
	char *v = xs_read(h, XBT_NULL, path, &len);

	free(v);
	return v != NULL;
}

/* The daemon sees a client's close on its next round: wait up to 3 s. */
static bool gone_soon(struct xs_handle *h, const char *path)
{
	for (int i = 0; i < 60; i++) {
		if (!exists(h, path))
			return true;
		usleep(50000);
	}
	return false;
}

/* Domain 5 with a node and a watch, saved to dom5.xs and destroyed. */
static void saved_domain(struct xs_handle *h, const char *gsock)
{
	struct xs_permissions p[2] = { { .id = 0, .perms = XS_PERM_NONE }, { .id = 5, .perms = XS_PERM_READ } };
	char buf[XENSTORE_PAYLOAD_MAX + 1], args[512];
	struct guest g;
	int n;

	CHECK(xs_mkdir(h, XBT_NULL, "/local/domain/5/data"));
	CHECK(xs_set_permissions(h, XBT_NULL, "/local/domain/5", p, 2));
	p[0].id = 5;
	CHECK(xs_set_permissions(h, XBT_NULL, "/local/domain/5/data", p, 1));
	CHECK(xs_introduce_domain(h, 5, 0, 1));
	CHECK(guest_init(&g, 5) == 0 && guest_handover(&g, gsock, 0) == 0);
	CHECK(guest_call(&g, XS_WRITE, "data/x\0hello", 12, buf) == XS_WRITE);
	CHECK(guest_call(&g, XS_WATCH, "data\0tokA", 10, buf) == XS_WATCH);
	CHECK(guest_recv(&g, buf, 2000) == XS_WATCH_EVENT);
	n = snprintf(args, sizeof(args), "%u%c%s/dom5.xs", 5, 0, dir);
	CHECK(control(h, "export-domain", args, (unsigned)n + 1));
	CHECK(xs_release_domain(h, 5));
	close(g.mon);
	CHECK(xs_rm(h, XBT_NULL, "/local/domain/5"));
}

int main(void)
{
	const char *gsock = getenv("XSD_GUEST_SOCKET");
	char sockdir[256], buf[XENSTORE_PAYLOAD_MAX + 1];
	struct xs_handle *h = xs_open(0), *xl;
	struct guest g10;

	if (!h || !gsock || !getenv("XENSTORED_PATH")) {
		fprintf(stderr, "abandontest: no daemon or no XSD_GUEST_SOCKET\n");
		return 1;
	}
	snprintf(sockdir, sizeof(sockdir), "%s", getenv("XENSTORED_PATH"));
	snprintf(dir, sizeof(dir), "%s", dirname(sockdir));
	CHECK(xs_mkdir(h, XBT_NULL, "/local/domain"));
	saved_domain(h, gsock);

	/* xl restore imports as 9 and dies before the monitor starts. */
	xl = xs_open(0);
	CHECK(xl && import_dom(xl, 5, 9));
	CHECK(is(h, "/local/domain/9/data/x", "hello"));
	CHECK(!import_dom(h, 5, 9)); /* taken while the import waits */
	if (xl)
		xs_close(xl);
	CHECK(gone_soon(h, "/local/domain/9"));
	/* Nothing is left of it: no node, and no waiting connection (an
	 * import to the id is taken again). */
	CHECK(!exists(h, "/local/domain/9/data"));
	CHECK(import_dom(h, 5, 9));
	CHECK(is(h, "/local/domain/9/data/x", "hello"));

	/* The abandoned domain's id undone by the existing path as well:
	 * XS_INTRODUCE claims it, XS_RELEASE and removing the home undo it. */
	CHECK(xs_introduce_domain(h, 9, 0, 1) && xs_release_domain(h, 9));
	CHECK(xs_rm(h, XBT_NULL, "/local/domain/9"));
	CHECK(import_dom(h, 5, 9));
	CHECK(xs_introduce_domain(h, 9, 0, 1) && xs_release_domain(h, 9));
	CHECK(xs_rm(h, XBT_NULL, "/local/domain/9"));

	/* A restore that completes: the ring is handed over and the domain
	 * introduced; the importer leaving then changes nothing. */
	xl = xs_open(0);
	CHECK(xl && import_dom(xl, 5, 10));
	CHECK(guest_init(&g10, 10) == 0 && guest_handover(&g10, gsock, XSD_RING_RECONNECT) == 0);
	CHECK(xs_introduce_domain(h, 10, 0, 1));
	if (xl)
		xs_close(xl);
	usleep(300000);
	CHECK(is(h, "/local/domain/10/data/x", "hello"));
	CHECK(guest_call(&g10, XS_READ, "data/x", 7, buf) == XS_READ && strcmp(buf, "hello") == 0);
	/* Its imported watch is there: a write fires it. */
	CHECK(xs_write(h, XBT_NULL, "/local/domain/10/data/y", "1", 1));
	CHECK(guest_recv(&g10, buf, 2000) == XS_WATCH_EVENT && strcmp(buf, "data/y") == 0);

	xs_close(h);
	if (failures)
		fprintf(stderr, "abandontest: %d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
