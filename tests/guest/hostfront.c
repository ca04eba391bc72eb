/* hostfront: a hostile netif or blkif frontend in user space, run in a
 * lab guest (tests/lab/domain-hostfront.sh).  It takes one xenbus device
 * from the kernel (unbinding xen-netfront or xen-blkfront through sysfs if
 * bound), connects to the back end as the frontend itself - pages granted
 * to domain 0 with /dev/xen/gntalloc, an event channel from
 * /dev/xen/evtchn, the frontend's keys through /dev/xen/xenbus - and runs
 * the attack rounds of hostfront_ring.c, one line each:
 *
 *   HOSTFRONT vif1 tx-size-0 ok answered ERROR
 *   HOSTFRONT vbd51728 blk-nseg-12 FAIL a hostile request answered 0, ...
 *   HOSTFRONT vif1 done rounds=N failed=M
 *
 * Usage: hostfront vif DEVID [RX_IDLE_SECONDS] | hostfront vbd DEVID
 * (HOSTFRONT_XENBUS: another xenbus device or a xenstored socket.)
 * Exit status: 0 when every round got what a sane back end answers.
 *
 * The attacks and their checks are pure (hostfront_ring.c, unit-tested on
 * this host against domus's back ends); this file is the device I/O. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hostfront_ring.h"

#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>
#include <xen/io/xs_wire.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntalloc.h>

/* A domain id no domain has (below DOMID_FIRST_RESERVED). */
#define OTHER_DOMID 0x7fe0
#define ANSWER_MS 5000
/* Longer than the back end's log window (LOG_RATELIMIT_INIT(5, 10)). */
#define LOG_PAUSE_MS 6000

/* ---- xenstore over /dev/xen/xenbus (xs_wire.h) ---- */

static int xs_fd = -1;

static int full_read(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n, len -= (size_t)n;
	}
	return 0;
}

/* One request, its answer in out (NUL-terminated, at most len - 1
 * bytes).  0 or -errno (XS_ERROR's name mapped to its errno). */
static int xs_req(uint32_t type, const void *a, size_t alen, const void *b, size_t blen, char *out, size_t len)
{
	static uint32_t req_id;
	struct xsd_sockmsg m = { .type = type, .req_id = ++req_id, .tx_id = 0, .len = (uint32_t)(alen + blen) };
	uint8_t msg[sizeof(m) + XENSTORE_PAYLOAD_MAX];
	char body[XENSTORE_PAYLOAD_MAX + 1];
	int rc;

	if (alen + blen > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	memcpy(msg, &m, sizeof(m));
	memcpy(msg + sizeof(m), a, alen);
	if (blen)
		memcpy(msg + sizeof(m) + alen, b, blen);
	if (write(xs_fd, msg, sizeof(m) + m.len) != (ssize_t)(sizeof(m) + m.len))
		return -EIO;
	rc = full_read(xs_fd, &m, sizeof(m));
	if (rc == 0 && m.len > XENSTORE_PAYLOAD_MAX)
		rc = -EPROTO;
	if (rc == 0)
		rc = full_read(xs_fd, body, m.len);
	if (rc < 0)
		return rc;
	body[m.len] = '\0';
	if (m.type == XS_ERROR) {
		for (unsigned i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
			if (!strcmp(body, xsd_errors[i].errstring))
				return -xsd_errors[i].errnum;
		return -EIO;
	}
	if (out && len) {
		size_t n = m.len < len - 1 ? m.len : len - 1;

		memcpy(out, body, n);
		out[n] = '\0';
	}
	return 0;
}

/* The guest kernel's xenbus device, or (the host's test of this file,
 * tests/vmm/hostfront-xs.sh) a xenstored's UNIX socket: the same wire
 * protocol.  A descriptor or -errno. */
static int xs_open(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (!path)
		path = "/dev/xen/xenbus";
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode)) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

static int xs_read(const char *path, char *out, size_t len)
{
	return xs_req(XS_READ, path, strlen(path) + 1, NULL, 0, out, len);
}

static int xs_write(const char *path, const char *val)
{
	return xs_req(XS_WRITE, path, strlen(path) + 1, val, strlen(val), NULL, 0);
}

static int xs_writef(const char *dir, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int xs_writef(const char *dir, const char *key, const char *fmt, ...)
{
	char path[256], val[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_write(path, val);
}

static long xs_num(const char *dir, const char *key, long dflt)
{
	char path[256], v[64], *end;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (xs_read(path, v, sizeof(v)) < 0)
		return dflt;
	n = strtol(v, &end, 10);
	return end == v ? dflt : n;
}

static void xs_rm(const char *dir, const char *key)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	(void)xs_req(XS_RM, path, strlen(path) + 1, NULL, 0, NULL, 0);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- the device ---- */

struct page {
	uint8_t *p;
	uint32_t ref;
	uint64_t index;
};

struct fe {
	const char *kind; /* "vif" or "vbd" */
	char name[32];    /* vif1, vbd51728: the result lines' */
	char dir[64];     /* device/vif/1 */
	char be[128];     /* the backend's directory */
	int gfd, efd;
	unsigned port;
	struct page ring[2], data, data2, ro, ind, other;
	struct hf_refs refs;
	unsigned rounds, failed;
};

static void result(struct fe *f, const char *what, bool ok, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void result(struct fe *f, const char *what, bool ok, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f->rounds++;
	f->failed += !ok;
	printf("HOSTFRONT %s %s %s %s\n", f->name, what, ok ? "ok" : "FAIL", msg);
	fflush(stdout);
}

static int grant(struct fe *f, struct page *pg, uint16_t domid, bool writable)
{
	struct ioctl_gntalloc_alloc_gref a = { .domid = domid, .flags = writable ? GNTALLOC_FLAG_WRITABLE : 0,
					       .count = 1 };
	void *p;

	if (ioctl(f->gfd, IOCTL_GNTALLOC_ALLOC_GREF, &a) < 0)
		return -errno;
	p = mmap(NULL, HF_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, f->gfd, (off_t)a.index);
	if (p == MAP_FAILED)
		return -errno;
	memset(p, 0, HF_PAGE);
	*pg = (struct page){ p, a.gref_ids[0], a.index };
	return 0;
}

static void ungrant(struct fe *f, struct page *pg)
{
	struct ioctl_gntalloc_dealloc_gref d = { .index = pg->index, .count = 1 };

	if (!pg->p)
		return;
	munmap(pg->p, HF_PAGE);
	(void)ioctl(f->gfd, IOCTL_GNTALLOC_DEALLOC_GREF, &d);
	pg->p = NULL;
}

static void notify(struct fe *f)
{
	struct ioctl_evtchn_notify n = { .port = f->port };

	(void)ioctl(f->efd, IOCTL_EVTCHN_NOTIFY, &n);
}

static int state_of(const char *dir)
{
	return (int)xs_num(dir, "state", 0);
}

/* Wait until the backend's state is one of a or b; its last state. */
static int be_wait(struct fe *f, int a, int b, long ms)
{
	long end = now_ms() + ms;
	int s;

	while ((s = state_of(f->be)) != a && s != b && now_ms() < end)
		sleep_ms(50);
	return s;
}

/* The kernel's driver lets go of the device (its remove closes it). */
static int unbind(struct fe *f, const char *drv)
{
	char path[128], dev[32];
	int fd, rc = 0;

	snprintf(dev, sizeof(dev), "%s-%s", f->kind, strrchr(f->dir, '/') + 1);
	snprintf(path, sizeof(path), "/sys/bus/xen/devices/%s/driver", dev);
	if (access(path, F_OK) < 0)
		return 0; /* not bound (drivers_autoprobe 0): nothing to take */
	snprintf(path, sizeof(path), "/sys/bus/xen/drivers/%s/unbind", drv);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, dev, strlen(dev)) < 0)
		rc = -errno;
	close(fd);
	printf("HOSTFRONT %s unbound %s from %s: %s\n", f->name, dev, drv, rc ? strerror(-rc) : "ok");
	return rc;
}

static const char *const stale[] = {
	"tx-ring-ref", "rx-ring-ref", "event-channel", "event-channel-tx", "event-channel-rx", "request-rx-copy",
	"feature-rx-notify", "feature-sg", "feature-gso-tcpv4", "feature-gso-tcpv6", "feature-ipv6-csum-offload",
	"feature-no-csum-offload", "multi-queue-num-queues", "queue-0", "queue-1", "ring-ref", "ring-page-order",
	"num-ring-pages", "ring-ref0", "protocol", "feature-persistent", "feature-ctrl-ring", "ctrl-ring-ref",
	"event-channel-ctrl", "feature-split-event-channels", "xdp-headroom", "feature-xdp",
};

/* Closed or fresh -> Initialising -> the back end's InitWait. */
static int reset(struct fe *f)
{
	int s;

	for (unsigned i = 0; i < sizeof(stale) / sizeof(stale[0]); i++)
		xs_rm(f->dir, stale[i]);
	xs_writef(f->dir, "state", "%d", XenbusStateInitialising);
	s = be_wait(f, XenbusStateInitWait, XenbusStateConnected, 30000);
	if (s != XenbusStateInitWait) {
		printf("HOSTFRONT %s the back end did not reach InitWait: state %d\n", f->name, s);
		return -ETIMEDOUT;
	}
	return 0;
}

static int setup_pages(struct fe *f)
{
	struct ioctl_evtchn_bind_unbound_port b = { .remote_domain = 0 };
	int rc, port;

	rc = grant(f, &f->ring[0], 0, true);
	if (!rc)
		rc = grant(f, &f->ring[1], 0, true);
	if (!rc)
		rc = grant(f, &f->data, 0, true);
	if (!rc)
		rc = grant(f, &f->data2, 0, true);
	if (!rc)
		rc = grant(f, &f->ro, 0, false);
	if (!rc)
		rc = grant(f, &f->ind, 0, true);
	if (!rc)
		rc = grant(f, &f->other, OTHER_DOMID, true);
	if (rc < 0) {
		printf("HOSTFRONT %s gntalloc: %s\n", f->name, strerror(-rc));
		return rc;
	}
	port = ioctl(f->efd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &b);
	if (port < 0) {
		printf("HOSTFRONT %s evtchn: %s\n", f->name, strerror(errno));
		return -errno;
	}
	f->port = (unsigned)port;
	f->refs = (struct hf_refs){ .data = f->data.ref, .data2 = f->data2.ref, .ro = f->ro.ref,
				    .indirect = f->ind.ref, .other_dom = f->other.ref,
				    .ungranted = HF_REF_NEVER_GRANTED, .out_of_range = HF_REF_OUT_OF_RANGE };
	return 0;
}

static void teardown_pages(struct fe *f)
{
	struct ioctl_evtchn_unbind u = { .port = f->port };

	if (f->port)
		(void)ioctl(f->efd, IOCTL_EVTCHN_UNBIND, &u);
	f->port = 0;
	ungrant(f, &f->ring[0]);
	ungrant(f, &f->ring[1]);
	ungrant(f, &f->data);
	ungrant(f, &f->data2);
	ungrant(f, &f->ro);
	ungrant(f, &f->ind);
	ungrant(f, &f->other);
}

/* Write our keys and state; wait for the back end's Connected. */
static int connect_be(struct fe *f, int state)
{
	char err[256] = "";
	int s;

	xs_writef(f->dir, "state", "%d", state);
	s = be_wait(f, XenbusStateConnected, XenbusStateClosing, 60000);
	if (s != XenbusStateConnected) {
		char path[256];

		snprintf(path, sizeof(path), "/local/domain/0/error/%s/error", f->be + strlen("/local/domain/0/"));
		(void)xs_read(path, err, sizeof(err));
		printf("HOSTFRONT %s the back end did not connect: state %d %s\n", f->name, s, err);
		return -ECONNREFUSED;
	}
	printf("HOSTFRONT %s connected to %s (port %u)\n", f->name, f->be, f->port);
	return 0;
}

/* Closing, Closed; the back end Closed. */
static void close_be(struct fe *f)
{
	xs_writef(f->dir, "state", "%d", XenbusStateClosing);
	(void)be_wait(f, XenbusStateClosing, XenbusStateClosed, 10000);
	xs_writef(f->dir, "state", "%d", XenbusStateClosed);
	(void)be_wait(f, XenbusStateClosed, XenbusStateUnknown, 10000);
}

/* Wait until the round is answered (or ms pass): how much of it is. */
static unsigned wait_answers(RING_IDX *rsp_prod, const struct hf_round *rd, unsigned want, long ms)
{
	long end = now_ms() + ms;
	unsigned got;

	while ((got = hf_answered(__atomic_load_n(rsp_prod, __ATOMIC_ACQUIRE), rd)) < want && now_ms() < end)
		sleep_ms(5);
	return got;
}

/* ---- netif ---- */

struct net {
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	uint16_t id;
};

static void tx_push(struct fe *f, struct net *n)
{
	__atomic_store_n(&n->tx.sring->req_prod, n->tx.req_prod_pvt, __ATOMIC_RELEASE);
	notify(f);
}

static void tx_round(struct fe *f, struct net *n, enum hf_tx_attack a)
{
	struct hf_round rd;
	char why[200] = "";
	unsigned got;

	if (hf_tx_build(&n->tx, a, &f->refs, n->id, &rd) < 0) {
		result(f, hf_tx_name(a), false, "no room in the ring");
		return;
	}
	n->id = (uint16_t)(n->id + rd.n);
	tx_push(f, n);
	got = wait_answers(&n->tx.sring->rsp_prod, &rd, rd.n, ANSWER_MS);
	if (got < rd.n)
		result(f, hf_tx_name(a), false, "%u of %u slots answered in %d ms", got, rd.n, ANSWER_MS);
	else if (hf_tx_check(&n->tx, &rd, why, sizeof(why)) < 0)
		result(f, hf_tx_name(a), false, "%s", why);
	else
		result(f, hf_tx_name(a), true, "%u slot(s) answered %s", rd.n, rd.bad ? "ERROR" : "OKAY");
	n->tx.rsp_cons = rd.start + got;
}

static void rx_round(struct fe *f, struct net *n, const char *what, uint32_t gref, bool bad, unsigned nbuf, long ms)
{
	struct hf_round rd;
	char why[200] = "";
	unsigned got;

	if (hf_rx_build(&n->rx, gref, nbuf, n->id, bad, &rd) < 0) {
		result(f, what, false, "no room in the rx ring");
		return;
	}
	n->id = (uint16_t)(n->id + nbuf);
	__atomic_store_n(&n->rx.sring->req_prod, n->rx.req_prod_pvt, __ATOMIC_RELEASE);
	notify(f);
	got = wait_answers(&n->rx.sring->rsp_prod, &rd, nbuf, ms);
	if (!got)
		result(f, what, false, "no frame came in %ld s (is the host sending?)", ms / 1000);
	else if (hf_rx_check(&n->rx, &rd, got, why, sizeof(why)) < 0)
		result(f, what, false, "%s", why);
	else
		result(f, what, true, "%u of %u buffers answered %s", got, nbuf, bad ? "ERROR" : "with data");
	n->rx.rsp_cons = rd.start + got;
}

static void net_overflow(struct fe *f, struct net *n, bool tx)
{
	RING_IDX *req = tx ? &n->tx.sring->req_prod : &n->rx.sring->req_prod;
	RING_IDX *rsp = tx ? &n->tx.sring->rsp_prod : &n->rx.sring->rsp_prod;
	RING_IDX before = __atomic_load_n(rsp, __ATOMIC_ACQUIRE);

	__atomic_store_n(req, hf_overflow_prod(before, tx ? RING_SIZE(&n->tx) : RING_SIZE(&n->rx)), __ATOMIC_RELEASE);
	notify(f);
	sleep_ms(2000);
	result(f, tx ? "tx-req-prod-overflow" : "rx-req-prod-overflow", __atomic_load_n(rsp, __ATOMIC_ACQUIRE) == before,
	       "rsp_prod %u after a req_prod two laps ahead (was %u)", __atomic_load_n(rsp, __ATOMIC_ACQUIRE), before);
	/* Put back what was pushed: nothing of it was taken. */
	__atomic_store_n(req, tx ? n->tx.req_prod_pvt : n->rx.req_prod_pvt, __ATOMIC_RELEASE);
	notify(f);
}

static int run_vif(struct fe *f, long rx_idle_s)
{
	struct net n = { .id = 1 };
	uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x7f, 0x00, 0x01 };
	int rc;

	{
		char path[256], v[32];

		snprintf(path, sizeof(path), "%s/mac", f->dir);
		if (xs_read(path, v, sizeof(v)) == 0)
			sscanf(v, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]);
	}
	rc = setup_pages(f);
	if (rc < 0)
		return rc;
	SHARED_RING_INIT((struct netif_tx_sring *)(void *)f->ring[0].p);
	SHARED_RING_INIT((struct netif_rx_sring *)(void *)f->ring[1].p);
	FRONT_RING_INIT(&n.tx, (struct netif_tx_sring *)(void *)f->ring[0].p, HF_PAGE);
	FRONT_RING_INIT(&n.rx, (struct netif_rx_sring *)(void *)f->ring[1].p, HF_PAGE);
	hf_frame(f->data.p, mac);
	/* netfront's keys (talk_to_netback), one queue, one event channel,
	 * no sg: rx frames in one slot each. */
	xs_writef(f->dir, "tx-ring-ref", "%u", f->ring[0].ref);
	xs_writef(f->dir, "rx-ring-ref", "%u", f->ring[1].ref);
	xs_writef(f->dir, "event-channel", "%u", f->port);
	xs_writef(f->dir, "request-rx-copy", "1");
	xs_writef(f->dir, "feature-rx-notify", "1");
	xs_writef(f->dir, "feature-sg", "0");
	xs_writef(f->dir, "feature-gso-tcpv4", "0");
	xs_writef(f->dir, "feature-gso-tcpv6", "0");
	xs_writef(f->dir, "multi-queue-num-queues", "1");
	rc = connect_be(f, XenbusStateConnected);
	if (rc < 0)
		return rc;

	tx_round(f, &n, HF_TX_GOOD);
	if (f->failed)
		return -EPROTO; /* no point: even a good packet fails */
	for (unsigned a = HF_TX_GOOD + 1; a < HF_TX__COUNT; a++) {
		tx_round(f, &n, a);
		tx_round(f, &n, HF_TX_GOOD);
	}
	/* The back end's log is rate-limited (10 lines in 5 s, lib/log.c):
	 * a pause lets the overflow's line through for the lab test to see. */
	sleep_ms(LOG_PAUSE_MS);
	net_overflow(f, &n, true);
	tx_round(f, &n, HF_TX_GOOD);

	/* rx: first nothing posted while the host sends (the lab test makes
	 * it send); then buffers the back end cannot fill; then good ones. */
	{
		RING_IDX before = n.rx.sring->rsp_prod;

		sleep_ms(rx_idle_s * 1000);
		result(f, "rx-no-buffers", n.rx.sring->rsp_prod == before, "%ld s without rx buffers, rsp_prod %u",
		       rx_idle_s, n.rx.sring->rsp_prod);
	}
	rx_round(f, &n, "rx-gref-out-of-range", HF_REF_OUT_OF_RANGE, true, 2, 60000);
	rx_round(f, &n, "rx-gref-never-granted", HF_REF_NEVER_GRANTED, true, 2, 60000);
	rx_round(f, &n, "rx-gref-other-domain", f->other.ref, true, 2, 60000);
	rx_round(f, &n, "rx-gref-read-only", f->ro.ref, true, 2, 60000);
	rx_round(f, &n, "rx-good", f->data2.ref, false, 2, 60000);
	sleep_ms(LOG_PAUSE_MS);
	net_overflow(f, &n, false);
	tx_round(f, &n, HF_TX_GOOD);
	return 0;
}

/* ---- blkif ---- */

static void blk_round(struct fe *f, blkif_front_ring_t *r, enum hf_blk_attack a, const struct hf_disk *d, uint64_t id)
{
	struct hf_round rd;
	char why[200] = "";
	unsigned got;
	const char *name = hf_blk_name(a);
	char wname[48];

	if (a == HF_BLK_WRITE_RO_DISK) {
		snprintf(wname, sizeof(wname), "%s-%s-disk", name, d->readonly ? "ro" : "rw");
		name = wname;
	}
	if (hf_blk_build(r, a, &f->refs, d, id, f->ind.p, &rd) < 0) {
		result(f, name, false, "no room in the ring");
		return;
	}
	__atomic_store_n(&r->sring->req_prod, r->req_prod_pvt, __ATOMIC_RELEASE);
	notify(f);
	got = wait_answers(&r->sring->rsp_prod, &rd, 1, ANSWER_MS);
	if (!got) {
		result(f, name, false, "no answer in %d ms", ANSWER_MS);
		return;
	}
	if (hf_blk_check(r, &rd, why, sizeof(why)) < 0) {
		result(f, name, false, "%s", why);
	} else {
		blkif_response_t p;

		memcpy(&p, RING_GET_RESPONSE(r, rd.start), sizeof(p));
		result(f, name, true, "answered %d", p.status);
	}
	r->rsp_cons = rd.start + 1;
}

static int blk_connect(struct fe *f, blkif_front_ring_t *r)
{
	int rc = setup_pages(f);

	if (rc < 0)
		return rc;
	SHARED_RING_INIT((struct blkif_sring *)(void *)f->ring[0].p);
	FRONT_RING_INIT(r, (struct blkif_sring *)(void *)f->ring[0].p, HF_PAGE);
	/* blkfront's keys (talk_to_blkback): one page, one queue. */
	xs_writef(f->dir, "ring-ref", "%u", f->ring[0].ref);
	xs_writef(f->dir, "event-channel", "%u", f->port);
	xs_writef(f->dir, "protocol", "%s", XEN_IO_PROTO_ABI_X86_64);
	xs_writef(f->dir, "feature-persistent", "0");
	return connect_be(f, XenbusStateInitialised);
}

static int run_vbd(struct fe *f)
{
	blkif_front_ring_t r;
	struct hf_disk d;
	char mode[8] = "";
	char path[256];
	uint64_t id = 1;
	int rc = blk_connect(f, &r);

	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/mode", f->be);
	(void)xs_read(path, mode, sizeof(mode));
	/* libxl's "mode", and blkback's "info" (VDISK_READONLY) as blkfront reads it */
	d = (struct hf_disk){ .sectors = (uint64_t)xs_num(f->be, "sectors", 0),
			      .readonly = mode[0] == 'r' || (xs_num(f->be, "info", 0) & VDISK_READONLY),
			      .max_indirect = (unsigned)xs_num(f->be, "feature-max-indirect-segments", 0) };
	printf("HOSTFRONT %s disk sectors=%llu mode=%s max-indirect=%u\n", f->name, (unsigned long long)d.sectors,
	       mode, d.max_indirect);
	blk_round(f, &r, HF_BLK_GOOD, &d, id++);
	if (f->failed)
		return -EPROTO;
	for (unsigned a = HF_BLK_GOOD + 1; a < HF_BLK__COUNT; a++) {
		blk_round(f, &r, a, &d, id++);
		blk_round(f, &r, HF_BLK_GOOD, &d, id++);
	}
	/* Last: req_prod two laps ahead.  The ring is closed (docs/blkback.md):
	 * not even a good request after it is answered, until a reconnect. */
	sleep_ms(LOG_PAUSE_MS);
	{
		RING_IDX before = r.sring->rsp_prod;
		struct hf_round rd;

		r.sring->req_prod = hf_overflow_prod(before, RING_SIZE(&r));
		notify(f);
		sleep_ms(2000);
		(void)hf_blk_build(&r, HF_BLK_GOOD, &f->refs, &d, id++, f->ind.p, &rd);
		__atomic_store_n(&r.sring->req_prod, r.req_prod_pvt, __ATOMIC_RELEASE);
		notify(f);
		sleep_ms(2000);
		result(f, "blk-req-prod-overflow", r.sring->rsp_prod == before,
		       "rsp_prod %u (was %u): the ring %s", r.sring->rsp_prod, before,
		       r.sring->rsp_prod == before ? "closed" : "still answers");
	}
	/* A reconnect serves again. */
	close_be(f);
	teardown_pages(f);
	rc = reset(f);
	if (!rc)
		rc = blk_connect(f, &r);
	if (rc < 0) {
		result(f, "blk-reconnect", false, "the back end did not connect again");
		return rc;
	}
	blk_round(f, &r, HF_BLK_GOOD, &d, id++);
	return 0;
}

int main(int argc, char **argv)
{
	struct fe f = { .gfd = -1, .efd = -1 };
	char path[192];
	int rc;

	if (argc < 3 || (strcmp(argv[1], "vif") && strcmp(argv[1], "vbd"))) {
		fprintf(stderr, "usage: hostfront vif DEVID [RX_IDLE_SECONDS] | hostfront vbd DEVID\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	f.kind = argv[1];
	snprintf(f.name, sizeof(f.name), "%s%s", f.kind, argv[2]);
	snprintf(f.dir, sizeof(f.dir), "device/%s/%s", f.kind, argv[2]);
	xs_fd = xs_open(getenv("HOSTFRONT_XENBUS"));
	if (xs_fd < 0) {
		printf("HOSTFRONT %s cannot open xenstore: %s\n", f.name, strerror(-xs_fd));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/backend", f.dir);
	rc = xs_read(path, f.be, sizeof(f.be));
	if (rc < 0) {
		printf("HOSTFRONT %s no %s: %s\n", f.name, path, strerror(-rc));
		return 1;
	}
	rc = unbind(&f, f.kind[1] == 'i' ? "vif" : "vbd");
	if (!rc)
		(void)be_wait(&f, XenbusStateClosed, XenbusStateInitWait, 30000);
	if (!rc)
		rc = reset(&f);
	if (!rc) {
		f.gfd = open("/dev/xen/gntalloc", O_RDWR | O_CLOEXEC);
		f.efd = open("/dev/xen/evtchn", O_RDWR | O_CLOEXEC);
		if (f.gfd < 0 || f.efd < 0) {
			rc = -errno;
			printf("HOSTFRONT %s cannot open /dev/xen/%s: %s\n", f.name, f.gfd < 0 ? "gntalloc" : "evtchn",
			       strerror(-rc));
		}
	}
	if (!rc)
		rc = f.kind[1] == 'i' ? run_vif(&f, argc > 3 ? atol(argv[3]) : 10) : run_vbd(&f);
	close_be(&f);
	teardown_pages(&f);
	printf("HOSTFRONT %s done rounds=%u failed=%u%s\n", f.name, f.rounds, f.failed, rc < 0 ? " (aborted)" : "");
	return rc < 0 || f.failed ? 1 : 0;
}
