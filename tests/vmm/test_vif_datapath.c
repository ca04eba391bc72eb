/* The vif's data path (vmm/xenbus/vif_datapath.c) on a real event loop,
 * the fake guest of net_fake.c and socketpairs standing in for the TAP
 * queues: the TAP made at open, connect binds the frontend's ports (split
 * or not) and maps both rings, sets the offloads the frontend takes; a
 * kick on the bound eventfd gets tx served on the loop (more than one
 * turn's budget too), a frame from the host reaches the guest's rx ring;
 * quiesce lets go of every grant and keeps the ports, resume and a
 * restored connect go on; two queues; refusals leave nothing held. */
#include <errno.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "evloop.h"
#include "net_fake.h"
#include "xenbus/vif.h"
#include "xenbus/vif_datapath.h"

#define DATA_REF 10

struct fake_ev {
	int binds, unbinds, notifies[64];
	int pairs; /* notify_pair calls, the last one's ports */
	uint32_t pair_quiet, pair_port;
	bool restored;
	int fd[64]; /* per port: the bound eventfd, -1 */
	int refuse; /* bind answers this */
};

static int ev_bind(void *ctx, uint32_t port, int kick_fd, bool restored)
{
	struct fake_ev *e = ctx;

	if (e->refuse)
		return e->refuse;
	if (port >= 64 || e->fd[port] >= 0)
		return -EINVAL;
	e->binds++;
	e->fd[port] = kick_fd;
	e->restored = restored;
	return 0;
}

static void ev_unbind(void *ctx, uint32_t port, int kick_fd)
{
	struct fake_ev *e = ctx;

	assert_int_equal(kick_fd, e->fd[port]);
	e->unbinds++;
	e->fd[port] = -1;
}

static void ev_notify(void *ctx, uint32_t port)
{
	struct fake_ev *e = ctx;

	__atomic_fetch_add(&e->notifies[port], 1, __ATOMIC_SEQ_CST);
}

static void ev_notify_pair(void *ctx, uint32_t quiet, uint32_t port)
{
	struct fake_ev *e = ctx;

	e->pair_quiet = quiet;
	e->pair_port = port;
	__atomic_fetch_add(&e->pairs, 1, __ATOMIC_SEQ_CST);
}

static const struct be_evtchn_ops ev_ops = { ev_bind, ev_unbind, ev_notify, ev_notify_pair };

/* The TAP: queue 0 is the fake guest's socketpair; more queues get new
 * pairs, whose host ends are kept. */
struct fake_tap {
	struct net_fake *f;
	int host[8];
	unsigned opens, queues_open;
	unsigned offload;
	int refuse;
};

static int tap_open(void *ctx, const char *ifname, unsigned queue, int *fd, char *why, size_t wl)
{
	struct fake_tap *t = ctx;
	int sv[2];

	if (t->refuse) {
		snprintf(why, wl, "%s: cannot create the TAP device: %s", ifname, strerror(-t->refuse));
		return t->refuse;
	}
	t->opens++;
	if (queue == 0) {
		*fd = dup(t->f->tap[0]);
		return 0;
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	t->host[queue] = sv[1];
	*fd = sv[0];
	return 0;
}

static int tap_offload(void *ctx, int fd, unsigned flags)
{
	(void)fd;
	((struct fake_tap *)ctx)->offload = flags;
	return 0;
}

static const struct vif_tap_ops tap_ops = { tap_open, tap_offload };

struct t {
	struct net_fake f;
	struct fake_ev ev;
	struct fake_tap tap;
	struct evl *loop;
	struct vif_host host;
	struct vif_cfg cfg;
	struct vif_front fe;
	void *tapdev, *dp;
	const struct vif_pos *pos;
	const struct vif_back *back;
	char why[256];
	int rc;
	uint8_t buf[70000];
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(nf_init(&t->f), 0);
	for (unsigned i = 0; i < 30; i++)
		nf_grant(&t->f, DATA_REF + i, 10 + i, false);
	for (int i = 0; i < 64; i++)
		t->ev.fd[i] = -1;
	t->tap.f = &t->f;
	assert_int_equal(evl_create(&t->loop, 16), 0);
	assert_int_equal(evl_start(t->loop), 0);
	t->host = (struct vif_host){ .loop = t->loop, .gnt = t->f.gnt, .evtchn = &ev_ops, .evtchn_ctx = &t->ev,
				     .tap = &tap_ops, .tap_ctx = &t->tap, .name = "test" };
	t->cfg = (struct vif_cfg){ .devid = 0, .ifname = "vif1.0" };
	t->fe = (struct vif_front){ .nr_queues = 1, .sg = true, .gso_tcpv4 = true, .gso_tcpv6 = true,
				    .ip_csum = true, .ipv6_csum = true, .rx_notify = true,
				    .q = { { NF_TX_REF, NF_RX_REF, 5, 6 } } };
	assert_int_equal(vif_datapath_open(&t->host, &t->cfg, &t->tapdev, t->why, sizeof(t->why)), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	vif_datapath_close(t->tapdev);
	evl_stop(t->loop);
	evl_destroy(t->loop);
	for (int i = 0; i < 8; i++)
		if (t->tap.host[i] > 0)
			close(t->tap.host[i]);
	nf_fini(&t->f);
	free(t);
	return 0;
}

/* The seam runs on the loop thread, as the xenbus binding calls it. */
static int connect_here(void *arg)
{
	struct t *t = arg;

	return vif_datapath_connect(&t->host, t->tapdev, &t->cfg, &t->fe, t->back, t->pos, &t->dp, t->why,
				    sizeof(t->why));
}

static int disconnect_here(void *arg)
{
	struct t *t = arg;

	vif_datapath_disconnect(t->dp);
	t->dp = NULL;
	return 0;
}

static int quiesce_here(void *arg)
{
	return vif_datapath_quiesce(((struct t *)arg)->dp);
}

static int resume_here(void *arg)
{
	struct t *t = arg;

	return vif_datapath_resume(t->dp, t->why, sizeof(t->why));
}

static int holds_here(void *arg)
{
	return (int)((struct t *)arg)->f.core.holds;
}

static void kick(int fd)
{
	assert_int_equal(eventfd_write(fd, 1), 0);
}

/* Waits for one packet on a host end. */
static long host_recv(int fd, uint8_t *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 5000) != 1)
		return -1;
	return read(fd, buf, len);
}

static void wait_rsp_prod(volatile RING_IDX *p, RING_IDX want)
{
	for (int i = 0; i < 5000 && __atomic_load_n(p, __ATOMIC_ACQUIRE) != want; i++)
		usleep(1000);
	assert_int_equal(*p, want);
}

static size_t frame(uint8_t *p, size_t len)
{
	memset(p, 0, 14);
	p[12] = 0x08, p[13] = 0x06; /* ARP: no checksum to set up */
	for (size_t i = 14; i < len; i++)
		p[i] = (uint8_t)i;
	return len;
}

static void test_connect_tx_rx(void **state)
{
	struct t *t = *state;
	size_t len = frame(t->buf + 10, 200);
	struct virtio_net_hdr h = { 0 };

	assert_int_equal(evl_sync(t->loop, connect_here, t), 0);
	/* split channels: two ports, each its eventfd */
	assert_int_equal(t->ev.binds, 2);
	assert_true(t->ev.fd[5] >= 0 && t->ev.fd[6] >= 0 && t->ev.fd[5] != t->ev.fd[6]);
	assert_false(t->ev.restored);
	assert_int_equal(t->tap.offload, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	assert_int_equal(evl_sync(t->loop, holds_here, t), 2);
	/* tx: a frame pushed, the port kicked */
	memcpy(nf_page(&t->f, 10), t->buf + 10, len);
	nf_tx_req(&t->f, DATA_REF, 0, 0, 4, (uint16_t)len);
	nf_tx_push(&t->f);
	kick(t->ev.fd[5]);
	assert_int_equal(host_recv(t->f.tap[1], t->buf, sizeof(t->buf)), (long)(10 + len));
	wait_rsp_prod(&nf_txs(&t->f)->rsp_prod, 1);
	assert_int_equal(nf_tx_rsp(&t->f, 0).status, NETIF_RSP_OKAY);
	assert_int_equal(__atomic_load_n(&t->ev.notifies[5], __ATOMIC_SEQ_CST), 1);
	/* rx: buffers posted, a frame from the host */
	nf_rx_post(&t->f, 77, DATA_REF + 5);
	nf_rx_push(&t->f);
	kick(t->ev.fd[6]);
	assert_int_equal(nf_host_send(&t->f, &h, t->buf + 10, len), 0);
	wait_rsp_prod(&nf_rxs(&t->f)->rsp_prod, 1);
	assert_int_equal(nf_rx_rsp(&t->f, 0).id, 77);
	assert_int_equal(nf_rx_rsp(&t->f, 0).status, (int)len);
	assert_memory_equal(nf_page(&t->f, 15), t->buf + 10, len);
	assert_int_equal(__atomic_load_n(&t->ev.notifies[6], __ATOMIC_SEQ_CST), 1);
	evl_sync(t->loop, disconnect_here, t);
	assert_int_equal(t->ev.unbinds, 2);
	assert_int_equal(t->tap.offload, 0);
	assert_int_equal(evl_sync(t->loop, holds_here, t), 0);
}

/* Frames from the host before the guest posted rx buffers wait (none is
 * dropped) and reach the guest in order once it posts them and kicks its
 * rx channel; with one channel for both rings, its one kick. */
static void rx_waits(struct t *t, int rx_port)
{
	size_t len = frame(t->buf + 10, 120);
	struct virtio_net_hdr h = { 0 };

	assert_int_equal(evl_sync(t->loop, connect_here, t), 0);
	for (int i = 0; i < 3; i++) {
		t->buf[10 + 20] = (uint8_t)i;
		assert_int_equal(nf_host_send(&t->f, &h, t->buf + 10, len), 0);
	}
	usleep(100 * 1000); /* the loop sees the TAP, finds no buffers */
	assert_int_equal(nf_rxs(&t->f)->rsp_prod, 0);
	assert_int_equal(nf_rxs(&t->f)->req_event, 1); /* asks for a notify */
	for (int i = 0; i < 3; i++)
		nf_rx_post(&t->f, (uint16_t)(40 + i), DATA_REF + 5 + i);
	nf_rx_push(&t->f);
	kick(t->ev.fd[rx_port]);
	wait_rsp_prod(&nf_rxs(&t->f)->rsp_prod, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(nf_rx_rsp(&t->f, (RING_IDX)i).id, 40 + i);
		assert_int_equal(nf_page(&t->f, 15 + i)[20], i);
	}
	/* polling the TAP again: a later frame comes without a kick */
	nf_rx_post(&t->f, 50, DATA_REF + 9);
	nf_rx_push(&t->f);
	assert_int_equal(nf_host_send(&t->f, &h, t->buf + 10, len), 0);
	wait_rsp_prod(&nf_rxs(&t->f)->rsp_prod, 4);
	evl_sync(t->loop, disconnect_here, t);
}

static void test_rx_waits_for_buffers(void **state)
{
	rx_waits(*state, 6);
}

static void test_rx_waits_one_channel(void **state)
{
	struct t *t = *state;

	t->fe.q[0].evtchn_rx = 5;
	rx_waits(t, 5);
}

/* One turn, one notification: a tx kick whose turn also finds a frame for
 * the guest (here one that waited for buffers the guest posted without a
 * kick) sends the tx and rx notifications as one pair, rx the port that
 * raises the upcall; with one channel, one send.  A tx turn with nothing
 * for rx sends the tx notification alone. */
static void one_notification(struct t *t, bool split)
{
	size_t len = frame(t->buf + 10, 100);
	struct virtio_net_hdr h = { 0 };
	int rxp = split ? 6 : 5;

	if (!split)
		t->fe.q[0].evtchn_rx = 5;
	assert_int_equal(evl_sync(t->loop, connect_here, t), 0);
	assert_int_equal(nf_host_send(&t->f, &h, t->buf + 10, len), 0);
	usleep(100 * 1000); /* no buffers: the frame waits, the TAP unpolled */
	assert_int_equal(nf_rxs(&t->f)->rsp_prod, 0);
	nf_rx_post(&t->f, 60, DATA_REF + 5);
	nf_rx_push(&t->f);
	memcpy(nf_page(&t->f, 10), t->buf + 10, len);
	nf_tx_req(&t->f, DATA_REF, 0, 0, 4, (uint16_t)len);
	nf_tx_push(&t->f);
	kick(t->ev.fd[5]);
	wait_rsp_prod(&nf_rxs(&t->f)->rsp_prod, 1);
	wait_rsp_prod(&nf_txs(&t->f)->rsp_prod, 1);
	assert_int_equal(evl_sync(t->loop, holds_here, t), 2); /* the turn is over */
	if (split) {
		assert_int_equal(t->ev.pairs, 1);
		assert_int_equal(t->ev.pair_quiet, 5);
		assert_int_equal(t->ev.pair_port, 6);
		assert_int_equal(t->ev.notifies[5] + t->ev.notifies[6], 0);
	} else {
		assert_int_equal(t->ev.pairs, 0);
		assert_int_equal(t->ev.notifies[5], 1);
	}
	/* tx alone: its notification at the turn's end */
	assert_true(host_recv(t->f.tap[1], t->buf, sizeof(t->buf)) > 0);
	nf_txs(&t->f)->rsp_event = 2; /* the frontend asks for the next one */
	nf_tx_req(&t->f, DATA_REF, 0, 0, 5, (uint16_t)len);
	nf_tx_push(&t->f);
	kick(t->ev.fd[5]);
	wait_rsp_prod(&nf_txs(&t->f)->rsp_prod, 2);
	assert_int_equal(evl_sync(t->loop, holds_here, t), 2);
	assert_int_equal(t->ev.notifies[5], split ? 1 : 2);
	assert_int_equal(t->ev.notifies[rxp] - (split ? 0 : t->ev.notifies[5]), 0);
	evl_sync(t->loop, disconnect_here, t);
}

static void test_one_notification_split(void **state)
{
	one_notification(*state, true);
}

static void test_one_notification_one_channel(void **state)
{
	one_notification(*state, false);
}

/* More than one turn's budget from one kick: the queue kicks itself. */
static void test_budget_self_kick(void **state)
{
	struct t *t = *state;
	size_t len = frame(t->buf, 60);
	int n = 0;

	t->fe.q[0].evtchn_rx = 5; /* one event channel */
	t->fe.ip_csum = false;     /* no offloads then */
	assert_int_equal(evl_sync(t->loop, connect_here, t), 0);
	assert_int_equal(t->ev.binds, 1);
	assert_int_equal(t->tap.offload, 0);
	memcpy(nf_page(&t->f, 10), t->buf, len);
	for (unsigned i = 0; i < 200; i++)
		nf_tx_req(&t->f, DATA_REF, 0, 0, (uint16_t)i, (uint16_t)len);
	nf_tx_push(&t->f);
	kick(t->ev.fd[5]);
	while (n < 200 && host_recv(t->f.tap[1], t->buf, sizeof(t->buf)) == (long)(10 + len))
		n++;
	assert_int_equal(n, 200);
	wait_rsp_prod(&nf_txs(&t->f)->rsp_prod, 200);
	evl_sync(t->loop, disconnect_here, t);
}

/* quiesce keeps the ports and lets go of the rings; resume and a restored
 * connect serve from the saved positions, taking what the guest pushed
 * meanwhile at once. */
static void test_quiesce_resume_restore(void **state)
{
	struct t *t = *state;
	size_t len = frame(t->buf, 80);
	struct vif_pos pos[VIF_MAX_QUEUES];

	assert_int_equal(evl_sync(t->loop, connect_here, t), 0);
	memcpy(nf_page(&t->f, 10), t->buf, len);
	nf_tx_req(&t->f, DATA_REF, 0, 0, 1, (uint16_t)len);
	nf_tx_push(&t->f);
	kick(t->ev.fd[5]);
	wait_rsp_prod(&nf_txs(&t->f)->rsp_prod, 1);
	assert_int_equal(evl_sync(t->loop, quiesce_here, t), 0);
	assert_int_equal(evl_sync(t->loop, holds_here, t), 0);
	assert_int_equal(t->ev.unbinds, 0);
	assert_int_equal(vif_datapath_save(t->dp, pos), 0);
	assert_int_equal(pos[0].tx_req_cons, 1);
	/* pushed while quiesced, served on resume */
	nf_tx_req(&t->f, DATA_REF, 0, 0, 2, (uint16_t)len);
	nf_tx_push(&t->f);
	assert_int_equal(evl_sync(t->loop, resume_here, t), 0);
	wait_rsp_prod(&nf_txs(&t->f)->rsp_prod, 2);
	assert_int_equal(evl_sync(t->loop, quiesce_here, t), 0);
	assert_int_equal(vif_datapath_save(t->dp, pos), 0);
	/* a new monitor: the ports as the loaded table has them */
	evl_sync(t->loop, disconnect_here, t);
	nf_tx_req(&t->f, DATA_REF, 0, 0, 3, (uint16_t)len);
	nf_tx_push(&t->f);
	t->pos = pos;
	assert_int_equal(evl_sync(t->loop, connect_here, t), 0);
	assert_true(t->ev.restored);
	wait_rsp_prod(&nf_txs(&t->f)->rsp_prod, 3);
	assert_int_equal(nf_tx_rsp(&t->f, 2).id, 3);
	evl_sync(t->loop, disconnect_here, t);
	assert_int_equal(evl_sync(t->loop, holds_here, t), 0);
}

/* Two queues: queue 1 gets its own TAP queue, and its frames go there. */
static void test_two_queues(void **state)
{
	struct t *t = *state;
	size_t len = frame(t->buf, 70);
	uint8_t *q1 = nf_page(&t->f, 30), *q1rx = nf_page(&t->f, 31);

	/* queue 1's rings: pages 30 and 31 */
	nf_grant(&t->f, 40, 30, false);
	nf_grant(&t->f, 41, 31, false);
	((struct netif_tx_sring *)(void *)q1)->req_event = 1;
	((struct netif_rx_sring *)(void *)q1rx)->req_event = 1;
	t->fe.nr_queues = 2;
	t->fe.q[1] = (struct vif_queue_refs){ 40, 41, 7, 7 };
	assert_int_equal(evl_sync(t->loop, connect_here, t), 0);
	assert_int_equal(t->tap.opens, 2); /* the device, then queue 1 */
	assert_int_equal(evl_sync(t->loop, holds_here, t), 4);
	{
		netif_tx_request_t r = { .gref = DATA_REF, .offset = 0, .flags = 0, .id = 9, .size = (uint16_t)len };

		memcpy(nf_page(&t->f, 10), t->buf, len);
		memcpy(q1 + offsetof(struct netif_tx_sring, ring), &r, sizeof(r));
		__atomic_store_n(&((struct netif_tx_sring *)(void *)q1)->req_prod, 1, __ATOMIC_RELEASE);
	}
	kick(t->ev.fd[7]);
	assert_int_equal(host_recv(t->tap.host[1], t->buf, sizeof(t->buf)), (long)(10 + len));
	evl_sync(t->loop, disconnect_here, t);
	assert_int_equal(t->ev.unbinds, 3);
	assert_int_equal(evl_sync(t->loop, holds_here, t), 0);
}

/* rate 1000 bytes per 100 ms: three 600-byte frames at once (the first
 * window's credit, then a refill of the passed one), the rest when the
 * timer brings the next window. */
static void test_rate(void **state)
{
	struct t *t = *state;
	struct vif_back back = { .rate = true, .rate_bytes = 1000, .rate_usec = 100000 };
	size_t len = frame(t->buf, 600);
	int n = 0;

	t->back = &back;
	assert_int_equal(evl_sync(t->loop, connect_here, t), 0);
	memcpy(nf_page(&t->f, 10), t->buf, len);
	for (unsigned i = 0; i < 5; i++)
		nf_tx_req(&t->f, DATA_REF, 0, 0, (uint16_t)i, (uint16_t)len);
	nf_tx_push(&t->f);
	kick(t->ev.fd[5]);
	wait_rsp_prod(&nf_txs(&t->f)->rsp_prod, 3);
	usleep(20000);
	assert_int_equal(nf_txs(&t->f)->rsp_prod, 3);
	/* the credit timer, with no kick */
	wait_rsp_prod(&nf_txs(&t->f)->rsp_prod, 5);
	while (n < 5 && host_recv(t->f.tap[1], t->buf, sizeof(t->buf)) == (long)(10 + len))
		n++;
	assert_int_equal(n, 5);
	evl_sync(t->loop, disconnect_here, t);
}

static uint64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* The TAP goes away under the data path (its host end closed): the loop
 * stops listening to it instead of spinning, and tx still works. */
static void test_tap_gone(void **state)
{
	struct t *t = *state;
	uint64_t before;

	assert_int_equal(evl_sync(t->loop, connect_here, t), 0);
	close(t->f.tap[1]);
	t->f.tap[1] = -1;
	usleep(50000);
	before = cpu_us();
	usleep(300000);
	assert_true(cpu_us() - before < 100000);
	nf_tx_req(&t->f, DATA_REF, 0, 0, 1, 60);
	nf_tx_push(&t->f);
	kick(t->ev.fd[5]);
	wait_rsp_prod(&nf_txs(&t->f)->rsp_prod, 1);
	evl_sync(t->loop, disconnect_here, t);
}

/* Refusals say why and leave nothing bound or held. */
static void test_refusals(void **state)
{
	struct t *t = *state;
	void *tap2;

	t->ev.refuse = -EINVAL;
	assert_int_equal(evl_sync(t->loop, connect_here, t), -EINVAL);
	assert_string_equal(t->why, "binding event-channel 5");
	t->ev.refuse = 0;
	t->fe.q[0].rx_ref = 500; /* never granted */
	assert_true(evl_sync(t->loop, connect_here, t) < 0);
	assert_non_null(strstr(t->why, "mapping shared-frames 2/500 port tx 5 rx 6"));
	assert_int_equal(t->ev.binds, t->ev.unbinds);
	assert_int_equal(evl_sync(t->loop, holds_here, t), 0);
	assert_null(t->dp);
	t->tap.refuse = -EPERM;
	assert_int_equal(vif_datapath_open(&t->host, &t->cfg, &tap2, t->why, sizeof(t->why)), -EPERM);
	assert_string_equal(t->why, "vif1.0: cannot create the TAP device: Operation not permitted");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_tx_rx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_waits_for_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_waits_one_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_notification_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_notification_one_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_self_kick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiesce_resume_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tap_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
