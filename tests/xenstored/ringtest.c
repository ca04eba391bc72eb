/* Guest rings without a VM: this program plays the monitor (hands over a
 * memfd page and two eventfds, domus/ring_proto.h) and the guest (writes requests
 * into struct xenstore_domain_interface, reads replies), while domain 0
 * talks over the socket with libxenstore.  Checks: guest requests and
 * permissions, relative paths, watch events over the ring, a flooding guest
 * not starving another, the memory quota (charges, refusal, a stalled ring
 * resuming), and hostile indexes or lengths costing only that guest its
 * connection. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xs_wire.h>

#include "testutil.h"

#include "guestsim.h"


static void give_home(struct xs_handle *h, unsigned domid)
{
	struct xs_permissions p = { .id = domid, .perms = XS_PERM_NONE };
	char path[64];

	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	CHECK(xs_mkdir(h, XBT_NULL, path));
	CHECK(xs_set_permissions(h, XBT_NULL, path, &p, 1));
	CHECK(xs_introduce_domain(h, domid, 0, 1));
}

static void test_basic(struct xs_handle *h, struct guest *g)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	unsigned len;
	char *v;

	CHECK(guest_call(g, XS_WRITE, "data/x\0hello", 12, buf) == XS_WRITE && !strcmp(buf, "OK"));
	v = xs_read(h, XBT_NULL, "/local/domain/5/data/x", &len);
	CHECK(v && len == 5 && !memcmp(v, "hello", 5));
	free(v);
	CHECK(guest_call(g, XS_READ, "/tool/xenstored", 16, buf) == XS_ERROR && !strcmp(buf, "EACCES"));
	CHECK(guest_call(g, XS_INTRODUCE, "9\0" "0\0" "1", 6, buf) == XS_ERROR && !strcmp(buf, "EACCES"));
	CHECK(guest_call(g, XS_GET_DOMAIN_PATH, "5", 2, buf) == XS_GET_DOMAIN_PATH &&
	      !strcmp(buf, "/local/domain/5"));
	/* A watch: ack, the initial event, then dom0's change, relative. */
	CHECK(guest_call(g, XS_WATCH, "data\0tk", 8, buf) == XS_WATCH && !strcmp(buf, "OK"));
	CHECK(guest_recv(g, buf, 2000) == XS_WATCH_EVENT && !strcmp(buf, "data"));
	CHECK(xs_write(h, XBT_NULL, "/local/domain/5/data/y", "1", 1));
	CHECK(guest_recv(g, buf, 2000) == XS_WATCH_EVENT && !strcmp(buf, "data/y") &&
	      !strcmp(buf + 7, "tk"));
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Linux writes a request's header and payload separately and notifies only
 * if it found the ring drained: every request must still be answered. */
static void test_linux_notification(struct guest *g)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	int ok = 0;

	g->linux_kicks = true;
	for (int i = 0; i < 200; i++)
		if (guest_call(g, XS_READ, "data/x", 7, buf) == XS_READ && !strcmp(buf, "hello"))
			ok++;
	g->linux_kicks = false;
	CHECK(ok == 200);
}

/* dom5 queues many requests and reads nothing; dom6 is still served. */
static void test_flood_is_contained(struct guest *g5, struct guest *g6)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	const char req[] = "data/x";
	int got = 0, i;
	double t0;

	/* 40 reads fit the 1 KiB request ring; the outstanding quota (20)
	 * and the full reply ring stop dom5 halfway. */
	for (i = 0; i < 40; i++)
		if (guest_send(g5, XS_READ, req, sizeof(req)) < 0)
			break;
	CHECK(i == 40);
	t0 = now();
	CHECK(guest_call(g6, XS_WRITE, "k\0v", 3, buf) == XS_WRITE);
	CHECK(now() - t0 < 1.5); /* served at once, not after dom5's backlog */
	for (i = 0; i < 40; i++)
		if (guest_recv(g5, buf, 2000) == XS_READ && !strcmp(buf, "hello"))
			got++;
	CHECK(got == 40);
}

/* Bytes charged to a domain, as `xenstore-control quota <domid>` shows. */
static long long domain_memory(struct xs_handle *h, unsigned domid)
{
	char arg[16], *r, *m;
	long long v = -1;

	snprintf(arg, sizeof(arg), "%u", domid);
	r = xs_control_command(h, "quota", arg, strlen(arg) + 1);
	m = r ? strstr(r, "\nmemory") : NULL;
	if (m && (m = strchr(m, ':')) != NULL)
		v = strtoll(m + 1, NULL, 10);
	free(r);
	return v;
}

static void set_memory_quota(struct xs_handle *h, long long bytes)
{
	char arg[64];
	int n = snprintf(arg, sizeof(arg), "set%cmemory%c%lld", 0, 0, bytes) + 1;
	char *r = xs_control_command(h, "quota", arg, (unsigned)n);

	CHECK(r && !strcmp(r, "OK"));
	free(r);
}

/* A reply in the ring within timeout_ms, looked for without notifying
 * xenstored (guest_recv notifies as it reads). */
static bool reply_waiting(struct guest *g, int timeout_ms)
{
	for (int i = 0; i < timeout_ms / 10; i++) {
		if (__atomic_load_n(&g->intf->rsp_prod, __ATOMIC_ACQUIRE) != g->intf->rsp_cons)
			return true;
		usleep(10000);
	}
	return false;
}

/* A guest that never reads its events: past its memory quota they are
 * dropped instead of piling up in the daemon.  The nodes belong to domain
 * 0 (readable by 6), so only the events are charged to domain 6. */
static void test_unread_events_bounded(struct xs_handle *h, struct guest *g)
{
	struct xs_permissions p[2] = { { .id = 0, .perms = XS_PERM_NONE },
				       { .id = 6, .perms = XS_PERM_READ } };
	char buf[XENSTORE_PAYLOAD_MAX + 1], path[64];
	int events = 0;
	long long base;

	CHECK(xs_mkdir(h, XBT_NULL, "/ev6"));
	CHECK(xs_set_permissions(h, XBT_NULL, "/ev6", p, 2));
	CHECK(guest_call(g, XS_WATCH, "/ev6\0t", 7, buf) == XS_WATCH);
	CHECK(guest_recv(g, buf, 2000) == XS_WATCH_EVENT && !strcmp(buf, "/ev6"));
	base = domain_memory(h, 6);
	CHECK(base > 0);
	set_memory_quota(h, base + 3000);
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/ev6/n%03d", i);
		CHECK(xs_write(h, XBT_NULL, path, "1", 1));
	}
	while (guest_recv(g, buf, 300) == XS_WATCH_EVENT)
		events++;
	/* 1 KiB in the ring plus 3000 bytes queued, 28 bytes an event (16
	 * of header): about 140 of the 300. */
	CHECK(events > 100 && events < 200);
	set_memory_quota(h, 2621440);
	CHECK(guest_call(g, XS_READ, "/ev6/n000", 10, buf) == XS_READ);
	/* Each event's charge went back when it reached the ring. */
	CHECK(domain_memory(h, 6) == base);
}

/* The memory quota over the ring: Xen's charges for the guest's nodes, a
 * write that would reach the quota fails with EIO, and a guest at the quota
 * is not read until it is below again. */
static void test_memory_quota(struct xs_handle *h, struct guest *g)
{
	static const char big[] = "mq/b\0" "012345678901234567890123456789";
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	long long m0 = domain_memory(h, 6), m1;

	CHECK(guest_call(g, XS_WRITE, "mq/a\0hello", 10, buf) == XS_WRITE);
	m1 = domain_memory(h, 6);
	/* TDB record (24-byte header, 8 per permission, value, child names)
	 * plus path: .../mq 24+8+2+18, .../mq/a 24+8+5+20; and the home
	 * directory's child list gains "mq". */
	CHECK(m1 == m0 + 52 + 57 + 3);
	set_memory_quota(h, m1 + 50);
	CHECK(guest_call(g, XS_WRITE, big, sizeof(big) - 1, buf) == XS_ERROR && !strcmp(buf, "EIO"));
	CHECK(domain_memory(h, 6) == m1);
	CHECK(guest_call(g, XS_WRITE, "mq/a\0x", 6, buf) == XS_WRITE);
	CHECK(domain_memory(h, 6) == m1 - 4);
	/* The quota lowered below what the domain holds: its request waits. */
	set_memory_quota(h, m1 - 10);
	CHECK(guest_send(g, XS_READ, "mq", 3) == 0);
	CHECK(guest_recv(g, buf, 300) == -1);
	/* Domain 0 removes one of its nodes: below the quota again, the
	 * request is served with no further notification from the guest. */
	CHECK(xs_rm(h, XBT_NULL, "/local/domain/6/mq/a"));
	CHECK(reply_waiting(g, 2000));
	CHECK(guest_recv(g, buf, 2000) == XS_READ);
	CHECK(domain_memory(h, 6) == m1 - 4 - 53 - 2);
	set_memory_quota(h, 2621440);
}

/* Quotas over the ring: Xen's errors, and the guest carries on. */
static void test_guest_quotas(struct xs_handle *h, struct guest *g)
{
	static char nodes10[] = "set\0nodes\0" "10", nodes1000[] = "set\0nodes\0" "1000";
	char buf[XENSTORE_PAYLOAD_MAX + 1], req[64];
	int i, t = XS_WATCH;
	char *r;

	CHECK(guest_call(g, XS_RESET_WATCHES, "", 0, buf) == XS_RESET_WATCHES);
	CHECK(xs_rm(h, XBT_NULL, "/ev6"));
	/* 128 watches, and one more because Xen compares with '>'. */
	for (i = 0; i < 200 && t == XS_WATCH; i++) {
		int n = snprintf(req, sizeof(req), "q%d", i) + 1;

		n += snprintf(req + n, sizeof(req) - (size_t)n, "tok") + 1;
		t = guest_call(g, XS_WATCH, req, (uint32_t)n, buf);
		if (t == XS_WATCH && guest_recv(g, buf, 2000) != XS_WATCH_EVENT)
			t = -1;
	}
	CHECK(t == XS_ERROR && !strcmp(buf, "E2BIG") && i == 130);
	CHECK(guest_call(g, XS_RESET_WATCHES, "", 0, buf) == XS_RESET_WATCHES);
	r = xs_control_command(h, "quota", nodes10, sizeof(nodes10));
	CHECK(r && !strcmp(r, "OK"));
	free(r);
	for (i = 0, t = XS_WRITE; i < 50 && t == XS_WRITE; i++) {
		int n = snprintf(req, sizeof(req), "n/%d", i) + 1;

		t = guest_call(g, XS_WRITE, req, (uint32_t)n, buf);
	}
	CHECK(t == XS_ERROR && !strcmp(buf, "ENOSPC"));
	CHECK(guest_call(g, XS_READ, "n/0", 4, buf) == XS_READ);
	r = xs_control_command(h, "quota", nodes1000, sizeof(nodes1000));
	CHECK(r && !strcmp(r, "OK"));
	free(r);
}

static void test_hostile(struct xs_handle *h, struct guest *bad_idx, struct guest *bad_len,
			 struct guest *good)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg big = { .type = XS_READ, .len = XENSTORE_PAYLOAD_MAX + 1 };
	unsigned len;
	char *v;

	bad_idx->intf->req_prod = bad_idx->intf->req_cons + 5000;
	guest_kick(bad_idx);
	CHECK(guest_put(bad_len, &big, sizeof(big)) == 0);
	for (int i = 0; i < 100; i++) {
		if (bad_idx->intf->error && bad_len->intf->error)
			break;
		usleep(10000);
	}
	CHECK(bad_idx->intf->error == XENSTORE_ERROR_RINGIDX);
	CHECK(bad_len->intf->error == XENSTORE_ERROR_PROTO);
	/* Nobody else noticed. */
	CHECK(guest_call(good, XS_READ, "data/x", 7, buf) == XS_READ && !strcmp(buf, "hello"));
	v = xs_read(h, XBT_NULL, "/local/domain/5/data/x", &len);
	CHECK(v != NULL);
	free(v);
}

int main(int argc, char **argv)
{
	struct xs_handle *h = xs_open(0);
	struct guest g5, g6, g7, g8;
	const char *gsock = argc > 1 ? argv[1] : getenv("XSD_GUEST_SOCKET");

	if (!h || !gsock) {
		fprintf(stderr, "usage: ringtest <guest socket> (XENSTORED_PATH set)\n");
		return 1;
	}
	CHECK(guest_init(&g5, 5) == 0 && guest_handover(&g5, gsock, 0) == 0);
	give_home(h, 5);
	give_home(h, 6);
	CHECK(guest_init(&g6, 6) == 0 && guest_handover(&g6, gsock, 0) == 0);
	give_home(h, 7);
	give_home(h, 8);
	CHECK(guest_init(&g7, 7) == 0 && guest_handover(&g7, gsock, 0) == 0);
	CHECK(guest_init(&g8, 8) == 0 && guest_handover(&g8, gsock, 0) == 0);
	test_basic(h, &g5);
	test_linux_notification(&g5);
	test_flood_is_contained(&g5, &g6);
	test_unread_events_bounded(h, &g6);
	test_guest_quotas(h, &g6);
	test_memory_quota(h, &g6);
	test_hostile(h, &g7, &g8, &g5);
	xs_close(h);
	printf("rings: %d failures\n", failures);
	return failures ? 1 : 0;
}
