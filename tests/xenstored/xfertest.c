/* A guest's XenStore side through `xl save` and `xl restore` under a new
 * domain id, against the real daemon (docs/xenstored.md, "Export and
 * import").  This program plays Domain-0's toolstack (libxenstore and
 * xenstore-control's XS_CONTROL), and the guest and its monitor on a memfd
 * ring (guestsim.c), whose page stays as it was across the "restore" as a
 * restored guest's memory does.
 *
 * Domain 5 has nodes, two watches, an open transaction, a reply too big for
 * its ring (partly delivered) and a half-written request.  It is exported,
 * released and imported as domain 9; then the rest of the request, written
 * while the domain was frozen, completes; the reply's rest arrives; watches
 * fire with the new paths; the transaction commits with EAGAIN; export ->
 * import -> export gives the same file; a truncated file is refused. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xenstore.h>

#include "domus/ring_proto.h"
#include "guestsim.h"
#include "testutil.h"
#include "xsctl.h"

#define BIG 2000 /* a value whose READ reply does not fit the 1024-byte ring */
#define HALF_BODY "data/half\0abc"
#define HALF_CUT 5u

static char dir[256];

static bool export_dom(struct xs_handle *h, unsigned domid, const char *file)
{
	char args[512];
	int n = snprintf(args, sizeof(args), "%u%c%s/%s", domid, 0, dir, file);

	return control(h, "export-domain", args, (unsigned)n + 1);
}

static bool import_dom(struct xs_handle *h, unsigned from, unsigned to, const char *file)
{
	char args[512];
	int n = snprintf(args, sizeof(args), "%u%c%u%c%s/%s", from, 0, to, 0, dir, file);

	return control(h, "import-domain", args, (unsigned)n + 1);
}

static char *slurp(const char *file, size_t *len)
{
	char path[512], *p;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	p = malloc((size_t)st.st_size + 1);
	if (p && read_full(fd, p, (size_t)st.st_size) < 0) {
		free(p);
		p = NULL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static void spill(const char *file, const char *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	CHECK(f && fwrite(p, 1, n, f) == n);
	if (f)
		fclose(f);
}

static bool is(struct xs_handle *h, const char *path, const char *want)
{
	unsigned len;
	char *v = xs_read(h, XBT_NULL, path, &len);
	bool ok = v && strcmp(v, want) == 0;

	free(v);
	return ok;
}

static void mkdir_for(struct xs_handle *h, const char *path, unsigned owner, unsigned reader)
{
	struct xs_permissions p[2] = { { .id = owner, .perms = XS_PERM_NONE },
				       { .id = reader, .perms = XS_PERM_READ } };

	CHECK(xs_mkdir(h, XBT_NULL, path));
	CHECK(xs_set_permissions(h, XBT_NULL, path, p, reader ? 2 : 1));
}

/* Domain 5 as libxl lays it out, and what its guest does. */
static uint32_t make_guest(struct xs_handle *h, struct guest *g, const char *gsock)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1], big[BIG + 16];
	struct xsd_sockmsg hdr = { .type = XS_WRITE, .req_id = 77, .len = sizeof(HALF_BODY) };
	uint32_t tx;

	mkdir_for(h, "/local/domain/5", 0, 5);
	mkdir_for(h, "/local/domain/5/data", 5, 0);
	mkdir_for(h, "/local/domain/0/backend/vbd/5/51712", 0, 5);
	CHECK(xs_introduce_domain(h, 5, 0, 1));
	CHECK(guest_init(g, 5) == 0 && guest_handover(g, gsock, 0) == 0);
	CHECK(guest_call(g, XS_WRITE, "data/x\0hello", 12, buf) == XS_WRITE);
	memset(big, 'b', sizeof(big));
	memcpy(big, "data/big", 9);
	CHECK(guest_call(g, XS_WRITE, big, 9 + BIG, buf) == XS_WRITE);
	CHECK(guest_call(g, XS_WATCH, "data\0tokA", 10, buf) == XS_WATCH);
	CHECK(guest_recv(g, buf, 2000) == XS_WATCH_EVENT); /* its first event */
	CHECK(guest_call(g, XS_WATCH, "/local/domain/0/backend/vbd/5/51712\0tokB", 41, buf) ==
	      XS_WATCH);
	CHECK(guest_recv(g, buf, 2000) == XS_WATCH_EVENT);
	CHECK(guest_call(g, XS_TRANSACTION_START, "", 1, buf) == XS_TRANSACTION_START);
	tx = (uint32_t)atoi(buf);
	CHECK(guest_send_tx(g, XS_WRITE, tx, "data/t\0v", 8) == 0 &&
	      guest_recv(g, buf, 2000) == XS_WRITE);
	/* Not read: 1024 bytes of the reply reach the ring, the rest waits. */
	CHECK(guest_send(g, XS_READ, "data/big", 9) == 0);
	usleep(200000);
	CHECK(g->intf->rsp_prod - g->intf->rsp_cons == XENSTORE_RING_SIZE);
	/* Half a request, taken by the daemon (partial messages are). */
	CHECK(guest_put(g, &hdr, sizeof(hdr)) == 0 && guest_put(g, HALF_BODY, HALF_CUT) == 0);
	usleep(200000);
	CHECK(g->intf->req_cons == g->intf->req_prod);
	return tx;
}

int main(int argc, char **argv)
{
	const char *gsock = getenv("XSD_GUEST_SOCKET");
	char sockdir[256], buf[XENSTORE_PAYLOAD_MAX + 1], path[512];
	struct xs_handle *h = xs_open(0);
	struct guest g;
	struct xsd_sockmsg rsp;
	struct stat st;
	uint32_t tx, cons;
	char *f1, *f2, *f3;
	size_t n1 = 0, n2 = 0, n3 = 0;
	bool saw_half_event = false;
	int t;

	if (!h || !gsock) {
		fprintf(stderr, "xfertest: no daemon or no XSD_GUEST_SOCKET\n");
		return 1;
	}
	snprintf(sockdir, sizeof(sockdir), "%s", getenv("XENSTORED_PATH"));
	snprintf(dir, sizeof(dir), "%s", dirname(sockdir));
	CHECK(xs_mkdir(h, XBT_NULL, "/local/domain"));
	tx = make_guest(h, &g, gsock);

	/* xl save: the monitor paused the vCPUs; xenstored writes the file. */
	CHECK(export_dom(h, 5, "dom5.xs"));
	snprintf(path, sizeof(path), "%s/dom5.xs", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* Frozen: the rest of the request is not read, nothing more is
	 * written to the ring even when the guest makes room in it. */
	cons = g.intf->req_cons;
	CHECK(guest_put(&g, HALF_BODY + HALF_CUT, sizeof(HALF_BODY) - HALF_CUT) == 0);
	CHECK(guest_get(&g, &rsp, sizeof(rsp), 100) == 0 && rsp.type == XS_READ && rsp.len == BIG);
	CHECK(guest_get(&g, buf, XENSTORE_RING_SIZE - sizeof(rsp), 100) == 0);
	usleep(300000);
	CHECK(g.intf->req_cons == cons);
	CHECK(g.intf->rsp_prod == g.intf->rsp_cons);
	/* Then it is destroyed (its monitor exits, the toolstack removes
	 * its home). */
	CHECK(xs_release_domain(h, 5));
	close(g.mon);
	g.mon = -1;
	CHECK(xs_rm(h, XBT_NULL, "/local/domain/5"));
	CHECK(xs_rm(h, XBT_NULL, "/local/domain/0/backend/vbd/5"));
	CHECK(!xs_read(h, XBT_NULL, "/local/domain/5/data/x", &(unsigned){ 0 }));

	/* A truncated file is refused and leaves nothing. */
	f1 = slurp("dom5.xs", &n1);
	CHECK(f1 && n1 > 100);
	if (!f1)
		return 1;
	spill("cut.xs", f1, n1 - 12);
	CHECK(!import_dom(h, 5, 9, "cut.xs"));
	CHECK(!xs_read(h, XBT_NULL, "/local/domain/9", &(unsigned){ 0 }));

	/* xl restore as domain 9. */
	CHECK(import_dom(h, 5, 9, "dom5.xs"));
	CHECK(is(h, "/local/domain/9/data/x", "hello"));
	CHECK(!import_dom(h, 5, 9, "dom5.xs")); /* taken now */
	/* export -> import -> export: the same bytes (5 and 9: same length)
	 * but for the old id the domain now answers to (XS_ALIASES, 16
	 * bytes, right after the connection record). */
	CHECK(export_dom(h, 9, "dom9.xs"));
	f2 = slurp("dom9.xs", &n2);
	CHECK(f2 && n2 == n1 + 16 && memcmp(f1, f2, n1) != 0);
	CHECK(import_dom(h, 9, 5, "dom9.xs"));
	CHECK(export_dom(h, 5, "again5.xs"));
	f3 = slurp("again5.xs", &n3);
	CHECK(f3 && n3 == n1 + 16);
	if (f3 && n3 == n1 + 16) {
		/* header 16, then the connection record (its length at 20) */
		uint32_t clen;
		size_t at;

		memcpy(&clen, f1 + 20, 4);
		at = 16 + 8 + ((clen + 7u) & ~7u);
		CHECK(memcmp(f1, f3, at) == 0 && memcmp(f1 + at, f3 + at + 16, n1 - at) == 0);
		CHECK((unsigned char)f3[at] == 0x80 && f3[at + 1] == 0x01 && f3[at + 12] == 9); /* old id 9 */
	}
	CHECK(xs_introduce_domain(h, 5, 0, 1) && xs_release_domain(h, 5));
	CHECK(xs_rm(h, XBT_NULL, "/local/domain/5"));

	/* The toolstack introduces 9 and the new monitor hands the same
	 * memory over (the guest's page travelled with its RAM). */
	mkdir_for(h, "/local/domain/0/backend/vbd/9/51712", 0, 9);
	CHECK(xs_introduce_domain(h, 9, 0, 1));
	g.domid = 9;
	CHECK(guest_handover(&g, gsock, XSD_RING_RECONNECT) == 0);
	/* The rest of the big reply, then the half request's event and ack. */
	memset(buf, 0, sizeof(buf));
	CHECK(guest_get(&g, buf, BIG + sizeof(rsp) - XENSTORE_RING_SIZE, 2000) == 0);
	CHECK(strlen(buf) == BIG + sizeof(rsp) - XENSTORE_RING_SIZE && buf[0] == 'b');
	while ((t = guest_recv(&g, buf, 2000)) == XS_WATCH_EVENT)
		saw_half_event |= strcmp(buf, "data/half") == 0;
	CHECK(t == XS_WRITE && strcmp(buf, "OK") == 0 && saw_half_event);
	CHECK(is(h, "/local/domain/9/data/half", "abc"));
	/* Watches fire for writes after the import, with the new paths. */
	CHECK(xs_write(h, XBT_NULL, "/local/domain/9/data/y", "1", 1));
	t = guest_recv(&g, buf, 2000);
	CHECK(t == XS_WATCH_EVENT && strcmp(buf, "data/y") == 0 &&
	      strcmp(buf + strlen(buf) + 1, "tokA") == 0);
	/* The frontend's watch on its back end, set naming the old id: served
	 * at the new one, its events in the form the guest watched. */
	CHECK(xs_write(h, XBT_NULL, "/local/domain/0/backend/vbd/9/51712/state", "4", 1));
	t = guest_recv(&g, buf, 2000);
	CHECK(t == XS_WATCH_EVENT &&
	      strcmp(buf, "/local/domain/0/backend/vbd/5/51712/state") == 0 &&
	      strcmp(buf + strlen(buf) + 1, "tokB") == 0);
	/* And its reads of the old path reach the new back end. */
	CHECK(guest_send(&g, XS_READ, "/local/domain/0/backend/vbd/5/51712/state", 42) == 0);
	t = guest_recv(&g, buf, 2000);
	CHECK(t == XS_READ && buf[0] == '4');
	/* The open transaction is lost: its commit says EAGAIN. */
	CHECK(guest_send_tx(&g, XS_TRANSACTION_END, tx, "T", 2) == 0);
	t = guest_recv(&g, buf, 2000);
	CHECK(t == XS_ERROR && strcmp(buf, "EAGAIN") == 0);
	CHECK(!xs_read(h, XBT_NULL, "/local/domain/9/data/t", &(unsigned){ 0 }));
	/* And the guest goes on. */
	CHECK(guest_send(&g, XS_WRITE, "data/z\0after", 12) == 0);
	while ((t = guest_recv(&g, buf, 2000)) == XS_WATCH_EVENT)
		; /* data/z's own */
	CHECK(t == XS_WRITE && is(h, "/local/domain/9/data/z", "after"));
	/* A save that fails: the toolstack resumes the domain (XS_RESUME) and
	 * its ring is served again. */
	CHECK(export_dom(h, 9, "dom9b.xs"));
	CHECK(guest_send(&g, XS_READ, "data/z", 7) == 0);
	usleep(300000);
	CHECK(g.intf->req_cons != g.intf->req_prod);
	CHECK(xs_resume_domain(h, 9));
	t = guest_recv(&g, buf, 2000);
	CHECK(t == XS_READ && strcmp(buf, "after") == 0);
	free(f1);
	free(f2);
	free(f3);
	xs_close(h);
	if (failures)
		fprintf(stderr, "xfertest: %d check(s) failed\n", failures);
	(void)argc;
	(void)argv;
	return failures ? 1 : 0;
}
