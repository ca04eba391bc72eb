/* Guest rings without a VM: this program plays the monitor (hands over a
 * memfd page and two eventfds, ring_proto.h) and the guest (writes requests
 * into struct xenstore_domain_interface, reads replies), while domain 0
 * talks over the socket with libxenstore.  Checks: guest requests and
 * permissions, relative paths, watch events over the ring, a flooding guest
 * not starving another, and hostile indexes or lengths costing only that
 * guest its connection. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#include "ring_proto.h"

static int failures;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #cond);        \
			failures++;                                                    \
		}                                                                      \
	} while (0)

struct guest {
	unsigned domid;
	int mon;		/* hand-over socket */
	int kick_in, kick_out;	/* as xenstored sees them */
	struct xenstore_domain_interface *intf;
	uint32_t req_id;
};

static int guest_attach(struct guest *g, unsigned domid, const char *gsock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xsd_ring_attach a = { XSD_RING_MAGIC, XSD_RING_VERSION, domid, 0, 4096 };
	struct xsd_ring_reply rep;
	int fds[3], mfd = memfd_create("guestram", MFD_ALLOW_SEALING);
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { &a, sizeof(a) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	char *mem;

	g->domid = domid;
	if (mfd < 0 || ftruncate(mfd, 3 * 4096) < 0 || fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		return -1;
	mem = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (mem == MAP_FAILED)
		return -1;
	g->intf = (void *)(mem + 4096);
	g->kick_in = eventfd(0, EFD_NONBLOCK);
	g->kick_out = eventfd(0, EFD_NONBLOCK);
	g->mon = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", gsock);
	if (connect(g->mon, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	fds[XSD_RING_FD_MEM] = mfd;
	fds[XSD_RING_FD_KICK_IN] = g->kick_in;
	fds[XSD_RING_FD_KICK_OUT] = g->kick_out;
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	if (sendmsg(g->mon, &mh, 0) != sizeof(a) || recv(g->mon, &rep, sizeof(rep), 0) != sizeof(rep))
		return -1;
	close(mfd);
	return rep.status;
}

static void kick(struct guest *g)
{
	uint64_t one = 1;

	if (write(g->kick_in, &one, sizeof(one)) != sizeof(one))
		perror("kick");
}

/* Write bytes into the request ring (guest side), waiting for room. */
static int ring_put(struct guest *g, const void *p, size_t n)
{
	const char *s = p;

	for (int spins = 0; n && spins < 2000; spins++) {
		uint32_t cons = __atomic_load_n(&g->intf->req_cons, __ATOMIC_ACQUIRE);
		uint32_t prod = g->intf->req_prod;
		size_t room = XENSTORE_RING_SIZE - (prod - cons), k = 0;

		while (k < n && k < room) {
			g->intf->req[MASK_XENSTORE_IDX(prod + k)] = s[k];
			k++;
		}
		__atomic_store_n(&g->intf->req_prod, prod + (uint32_t)k, __ATOMIC_RELEASE);
		s += k;
		n -= k;
		kick(g);
		if (n)
			usleep(1000);
	}
	return n ? -1 : 0;
}

static int send_req(struct guest *g, uint32_t type, const void *body, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = ++g->req_id, .len = len };

	if (ring_put(g, &h, sizeof(h)) < 0)
		return -1;
	return ring_put(g, body, len);
}

/* Read n bytes from the response ring within timeout_ms. */
static int ring_get(struct guest *g, void *p, size_t n, int timeout_ms)
{
	char *d = p;
	struct pollfd pf = { .fd = g->kick_out, .events = POLLIN };
	uint64_t v;

	while (n) {
		uint32_t prod = __atomic_load_n(&g->intf->rsp_prod, __ATOMIC_ACQUIRE);
		uint32_t cons = g->intf->rsp_cons;

		while (cons != prod && n) {
			*d++ = g->intf->rsp[MASK_XENSTORE_IDX(cons)];
			cons++;
			n--;
		}
		__atomic_store_n(&g->intf->rsp_cons, cons, __ATOMIC_RELEASE);
		kick(g);
		if (!n)
			break;
		if (poll(&pf, 1, timeout_ms) != 1)
			return -1;
		if (read(g->kick_out, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -1;
	}
	return 0;
}

/* Next message: type returned, body NUL-terminated in buf. */
static int recv_msg(struct guest *g, char *buf, int timeout_ms)
{
	struct xsd_sockmsg h;

	if (ring_get(g, &h, sizeof(h), timeout_ms) < 0 || h.len > XENSTORE_PAYLOAD_MAX ||
	    ring_get(g, buf, h.len, timeout_ms) < 0)
		return -1;
	buf[h.len] = '\0';
	return (int)h.type;
}

static int call(struct guest *g, uint32_t type, const char *body, uint32_t len, char *buf)
{
	if (send_req(g, type, body, len) < 0)
		return -1;
	return recv_msg(g, buf, 2000);
}

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

	CHECK(call(g, XS_WRITE, "data/x\0hello", 12, buf) == XS_WRITE && !strcmp(buf, "OK"));
	v = xs_read(h, XBT_NULL, "/local/domain/5/data/x", &len);
	CHECK(v && len == 5 && !memcmp(v, "hello", 5));
	free(v);
	CHECK(call(g, XS_READ, "/tool/xenstored", 16, buf) == XS_ERROR && !strcmp(buf, "EACCES"));
	CHECK(call(g, XS_INTRODUCE, "9\0" "0\0" "1", 6, buf) == XS_ERROR && !strcmp(buf, "EACCES"));
	CHECK(call(g, XS_GET_DOMAIN_PATH, "5", 2, buf) == XS_GET_DOMAIN_PATH &&
	      !strcmp(buf, "/local/domain/5"));
	/* A watch: ack, the initial event, then dom0's change, relative. */
	CHECK(call(g, XS_WATCH, "data\0tk", 8, buf) == XS_WATCH && !strcmp(buf, "OK"));
	CHECK(recv_msg(g, buf, 2000) == XS_WATCH_EVENT && !strcmp(buf, "data"));
	CHECK(xs_write(h, XBT_NULL, "/local/domain/5/data/y", "1", 1));
	CHECK(recv_msg(g, buf, 2000) == XS_WATCH_EVENT && !strcmp(buf, "data/y") &&
	      !strcmp(buf + 7, "tk"));
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
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
		if (send_req(g5, XS_READ, req, sizeof(req)) < 0)
			break;
	CHECK(i == 40);
	t0 = now();
	CHECK(call(g6, XS_WRITE, "k\0v", 3, buf) == XS_WRITE);
	CHECK(now() - t0 < 1.0);
	for (i = 0; i < 40; i++)
		if (recv_msg(g5, buf, 2000) == XS_READ && !strcmp(buf, "hello"))
			got++;
	CHECK(got == 40);
}

static void test_hostile(struct xs_handle *h, struct guest *bad_idx, struct guest *bad_len,
			 struct guest *good)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg big = { .type = XS_READ, .len = XENSTORE_PAYLOAD_MAX + 1 };
	unsigned len;
	char *v;

	bad_idx->intf->req_prod = bad_idx->intf->req_cons + 5000;
	kick(bad_idx);
	CHECK(ring_put(bad_len, &big, sizeof(big)) == 0);
	for (int i = 0; i < 100; i++) {
		if (bad_idx->intf->error && bad_len->intf->error)
			break;
		usleep(10000);
	}
	CHECK(bad_idx->intf->error == XENSTORE_ERROR_RINGIDX);
	CHECK(bad_len->intf->error == XENSTORE_ERROR_PROTO);
	/* Nobody else noticed. */
	CHECK(call(good, XS_READ, "data/x", 7, buf) == XS_READ && !strcmp(buf, "hello"));
	v = xs_read(h, XBT_NULL, "/local/domain/5/data/x", &len);
	CHECK(v != NULL);
	free(v);
}

int main(int argc, char **argv)
{
	struct xs_handle *h = xs_open(0);
	struct guest g5 = { 0 }, g6 = { 0 }, g7 = { 0 }, g8 = { 0 };
	const char *gsock = argc > 1 ? argv[1] : getenv("XSD_GUEST_SOCKET");

	if (!h || !gsock) {
		fprintf(stderr, "usage: ringtest <guest socket> (XENSTORED_PATH set)\n");
		return 1;
	}
	CHECK(guest_attach(&g5, 5, gsock) == 0);
	give_home(h, 5);
	give_home(h, 6);
	CHECK(guest_attach(&g6, 6, gsock) == 0);
	give_home(h, 7);
	give_home(h, 8);
	CHECK(guest_attach(&g7, 7, gsock) == 0);
	CHECK(guest_attach(&g8, 8, gsock) == 0);
	test_basic(h, &g5);
	test_flood_is_contained(&g5, &g6);
	test_hostile(h, &g7, &g8, &g5);
	xs_close(h);
	printf("rings: %d failures\n", failures);
	return failures ? 1 : 0;
}
