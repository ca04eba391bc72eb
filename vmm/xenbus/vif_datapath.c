/* The vif's data path (the seam of vif.h): the TAP device, and per queue
 * one netif queue served by vmm/net/netback.c (docs/netback.md), its
 * frontend's event channels bound to eventfds, the eventfds and the TAP
 * queue's descriptor on the monitor's event loop.
 *
 * Lifetimes: the TAP device and its queue 0 from vif_new to vif_free
 * (the hotplug script needs it before the frontend connects); queues 1..
 * from connect to disconnect.  The rings are mapped from connect (or
 * resume) to disconnect (or quiesce), by netback.c.  The ports and the
 * TAP queues stay across a quiesce.  Everything runs on the loop thread. */
#include "vif.h"
#include "vif_datapath.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "be_dp.h"
#include "domus/log.h"
#include "evloop.h"
#include "net/netback.h"

struct vif_tap {
	struct vif_host h;
	char ifname[VIF_IFNAMSIZ];
	int fd0; /* queue 0: the device lives while it is open */
};

struct vif_dp;

struct vif_dpq {
	struct vif_dp *dp;
	unsigned q;
	struct be_port tx, rx; /* rx: split channels only */
	bool split;
	int tap_fd;
	struct netback *nb;
	struct evl_src *tx_src, *rx_src, *tap_src;
	struct evl_src *credit_src; /* rate-limited queues: the next window */
	bool rx_waiting; /* a frame waits for rx buffers: the TAP is not polled */
	bool tx_due; /* tx responses pushed, their notification not sent yet */
	struct netback_stats told; /* what the log has said */
};

struct vif_dp {
	struct vif_host h;
	struct vif_tap *tap;
	unsigned nq;
	bool offloads;
	uint64_t rate_bytes, rate_usec; /* 0 usec: unlimited */
	char name[64];
	struct log_ratelimit rl;
	struct vif_dpq q[VIF_MAX_QUEUES];
};

void vif_datapath_limits(struct vif_limits *lim)
{
	/* netback's xenvif_max_queues: min(MAX_QUEUES_DEFAULT, CPUs); the
	 * frontend takes min(its vCPUs, this). */
	*lim = (struct vif_limits){ .max_queues = VIF_MAX_QUEUES };
}

/* ---- the TAP device ---- */

int vif_datapath_open(void *host, const struct vif_cfg *cfg, void **out, char *why, size_t wl)
{
	const struct vif_host *h = host;
	struct vif_tap *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return -ENOMEM;
	t->h = *h;
	snprintf(t->ifname, sizeof(t->ifname), "%s", cfg->ifname);
	rc = h->tap->open(h->tap_ctx, cfg->ifname, 0, &t->fd0, why, wl);
	if (rc < 0) {
		free(t);
		return rc;
	}
	log_info(h->name, "vif%u: TAP device %s", cfg->devid, cfg->ifname);
	*out = t;
	return 0;
}

void vif_datapath_close(void *p)
{
	struct vif_tap *t = p;

	if (!t)
		return;
	close(t->fd0);
	free(t);
}

/* ---- one queue ---- */

static void report(struct vif_dpq *q)
{
	struct netback_stats s = netback_stats(q->nb);
	struct vif_dp *dp = q->dp;

	/* Guest-caused: rate-limited, once per change. */
	if (s.bad_index != q->told.bad_index)
		log_guest(&dp->rl, dp->name, "queue %u: req_prod past the ring %llu times: those batches ignored",
			  q->q, (unsigned long long)s.bad_index);
	if (s.tx_errors != q->told.tx_errors)
		log_guest(&dp->rl, dp->name, "queue %u: %llu malformed tx packets refused so far", q->q,
			  (unsigned long long)s.tx_errors);
	if (s.rx_errors != q->told.rx_errors)
		log_guest(&dp->rl, dp->name, "queue %u: %llu rx packets failed (bad grant or header)", q->q,
			  (unsigned long long)s.rx_errors);
	q->told = s;
}

static void drain(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

static void serve_tx(struct vif_dpq *q)
{
	uint64_t wait;

	/* More than one turn's worth: come back after the others. */
	if (netback_tx(q->nb, NETBACK_BUDGET))
		(void)!eventfd_write(q->tx.kick_fd, 1);
	/* Out of credit: come back with the next window. */
	wait = netback_tx_wait_us(q->nb);
	if (wait && q->credit_src) {
		/* A wait longer than a day (a huge USEC) looks again each day. */
		uint64_t ms = wait > 86400000000u ? 86400000u : (wait + 999) / 1000;

		(void)evl_timer_set(q->dp->h.loop, q->credit_src, (unsigned)ms, false);
	}
	report(q);
}

static void serve_rx(struct vif_dpq *q);
static void flush_tx(struct vif_dpq *q);

static void on_tx(void *ctx, int fd, uint32_t events)
{
	struct vif_dpq *q = ctx;

	(void)events;
	drain(fd);
	serve_tx(q);
	/* What Domain-0 answered while the frames were written is in the TAP
	 * now: served in this turn, its notification carries the tx one.  A
	 * frame waiting for buffers looks again (with one channel this kick
	 * may be the buffers' own).  A TAP that went away stays unread. */
	if (q->tap_src || q->rx_waiting)
		serve_rx(q);
	flush_tx(q);
}

static void on_credit(void *ctx)
{
	serve_tx(ctx);
	flush_tx(ctx);
}

static void on_tap(void *ctx, int fd, uint32_t events);

/* Frames to the guest.  While one waits for rx buffers the TAP is not
 * polled (its queue holds the rest, and drops past its length: a guest
 * that posts no buffers costs nothing here); the guest's push of buffers
 * notifies (netback_rx armed the ring) and brings us back. */
static void serve_rx(struct vif_dpq *q)
{
	struct evl *l = q->dp->h.loop;

	if (netback_rx(q->nb, NETBACK_BUDGET) == NETBACK_RX_NO_BUFFERS) {
		if (!q->rx_waiting) {
			evl_del(l, q->tap_src);
			q->tap_src = NULL;
			q->rx_waiting = true;
		}
	} else if (q->rx_waiting) {
		/* Level-triggered: what is left in the TAP brings the loop back. */
		if (evl_add_fd(l, q->tap_fd, EPOLLIN, on_tap, q, &q->tap_src) < 0)
			log_err(q->dp->name, "queue %u: event loop full: no more frames to the guest", q->q);
		else
			q->rx_waiting = false;
	}
	report(q);
}

/* The guest posted rx buffers (split channels). */
static void on_rx_kick(void *ctx, int fd, uint32_t events)
{
	struct vif_dpq *q = ctx;

	(void)events;
	drain(fd);
	if (q->rx_waiting)
		serve_rx(q);
}

static void on_tap(void *ctx, int fd, uint32_t events)
{
	struct vif_dpq *q = ctx;

	(void)fd;
	/* The device was deleted under us (ip link del): tun polls EPOLLERR
	 * for ever; stop listening rather than spin. */
	if (events & (EPOLLERR | EPOLLHUP)) {
		log_err(q->dp->name, "queue %u: the TAP device %s is gone: no more frames to the guest", q->q,
			q->dp->tap->ifname);
		evl_del(q->dp->h.loop, q->tap_src);
		q->tap_src = NULL;
		return;
	}
	serve_rx(q);
}

/* A turn of the loop sends the guest one notification per queue where it
 * can: the tx responses' is held (tx_due) until the handler ends
 * (flush_tx), and goes with an rx notification made meanwhile: with split
 * channels in the same upcall (evtchn_notify_guest_pair), with one channel
 * as the same send.  Each send to a halted vCPU is a wake-up of it, and
 * the first can preempt the loop before the second (docs/netback.md,
 * "Notifications"); a ping answered by Domain-0 is in the TAP before the
 * write of its request returns, so its tx and rx responses are one turn's. */
static void notify(void *ctx, enum netback_ring_id which)
{
	struct vif_dpq *q = ctx;
	const struct be_evtchn_ops *ev = q->dp->h.evtchn;
	void *ec = q->dp->h.evtchn_ctx;

	if (which == NETBACK_TX) {
		q->tx_due = true;
		return;
	}
	if (q->tx_due && q->split && ev->notify_pair) {
		ev->notify_pair(ec, q->tx.port, q->rx.port);
	} else {
		if (q->tx_due && q->split)
			ev->notify(ec, q->tx.port);
		ev->notify(ec, q->rx.port); /* one channel: the tx port too */
	}
	q->tx_due = false;
}

static void flush_tx(struct vif_dpq *q)
{
	if (q->tx_due)
		q->dp->h.evtchn->notify(q->dp->h.evtchn_ctx, q->tx.port);
	q->tx_due = false;
}

static void unlisten(void *p)
{
	struct vif_dpq *q = p;
	struct evl *l = q->dp->h.loop;

	evl_del(l, q->tx_src);
	evl_del(l, q->rx_src);
	evl_del(l, q->tap_src);
	evl_del(l, q->credit_src);
	q->tx_src = q->rx_src = q->tap_src = q->credit_src = NULL;
	q->rx_waiting = false; /* netback_quiesce drops the waiting frame */
}

static int listen_q(void *p)
{
	struct vif_dpq *q = p;
	struct evl *l = q->dp->h.loop;
	int rc = evl_add_fd(l, q->tx.kick_fd, EPOLLIN, on_tx, q, &q->tx_src);

	if (rc == 0 && q->split)
		rc = evl_add_fd(l, q->rx.kick_fd, EPOLLIN, on_rx_kick, q, &q->rx_src);
	if (rc == 0)
		rc = evl_add_fd(l, q->tap_fd, EPOLLIN, on_tap, q, &q->tap_src);
	if (rc == 0 && q->dp->rate_usec)
		rc = evl_add_timer(l, 0, false, on_credit, q, &q->credit_src);
	if (rc < 0)
		unlisten(q);
	return rc;
}

static bool listening(const void *p)
{
	const struct vif_dpq *q = p;

	return q->tx_src != NULL;
}

static int quiesce_q(void *p)
{
	netback_quiesce(((struct vif_dpq *)p)->nb);
	return 0;
}

static int resume_q(void *p)
{
	return netback_resume(((struct vif_dpq *)p)->nb);
}

static const struct be_queue_ops queue_ops = {
	.rings = "rings", .quiesce = quiesce_q, .resume = resume_q,
	.listening = listening, .listen = listen_q, .unlisten = unlisten,
};

static void close_q(struct vif_dpq *q)
{
	struct vif_dp *dp = q->dp;

	unlisten(q);
	netback_destroy(q->nb);
	q->nb = NULL;
	be_port_close(&q->tx, dp->h.evtchn, dp->h.evtchn_ctx);
	be_port_close(&q->rx, dp->h.evtchn, dp->h.evtchn_ctx);
	/* queue 0 is the device's own */
	if (q->q > 0 && q->tap_fd >= 0)
		close(q->tap_fd);
	q->tap_fd = -1;
}

static unsigned features_of(const struct vif_front *fe)
{
	/* rx checksum offload both ways or neither (TUN_F_CSUM is one bit
	 * for v4 and v6); GSO needs it and more than one slot per frame. */
	bool csum = fe->ip_csum && fe->ipv6_csum;

	return (fe->sg ? NETBACK_F_SG : 0) | (csum ? NETBACK_F_RX_CSUM : 0) |
	       (csum && fe->sg && fe->gso_tcpv4 ? NETBACK_F_GSO_TCPV4 : 0) |
	       (csum && fe->sg && fe->gso_tcpv6 ? NETBACK_F_GSO_TCPV6 : 0);
}

static unsigned tun_flags_of(unsigned f)
{
	return (f & NETBACK_F_RX_CSUM ? TUN_F_CSUM : 0) | (f & NETBACK_F_GSO_TCPV4 ? TUN_F_TSO4 : 0) |
	       (f & NETBACK_F_GSO_TCPV6 ? TUN_F_TSO6 : 0);
}

static int open_q(struct vif_dp *dp, unsigned i, const struct vif_front *fe, const struct vif_pos *pos, char *why,
		  size_t wl)
{
	struct vif_dpq *q = &dp->q[i];
	const struct vif_queue_refs *r = &fe->q[i];
	struct netback_pos npos;
	struct netback_config c = { .tx_ref = r->tx_ref, .rx_ref = r->rx_ref, .gnt = dp->h.gnt,
				    .features = features_of(fe), .notify = notify, .notify_ctx = q,
				    .credit_bytes = dp->rate_bytes, .credit_usec = dp->rate_usec };
	int rc;

	*q = (struct vif_dpq){ .dp = dp, .q = i, .split = r->evtchn_tx != r->evtchn_rx, .tap_fd = -1 };
	be_port_init(&q->tx, r->evtchn_tx);
	be_port_init(&q->rx, r->evtchn_rx);
	/* netback's xenvif_connect_data: the rings, then the channels; here
	 * the channels first, as the vbd, so a refused port maps nothing. */
	rc = be_port_open(&q->tx, dp->h.evtchn, dp->h.evtchn_ctx, pos != NULL, why, wl);
	if (rc == 0 && q->split)
		rc = be_port_open(&q->rx, dp->h.evtchn, dp->h.evtchn_ctx, pos != NULL, why, wl);
	if (rc < 0)
		return rc;
	if (i == 0)
		q->tap_fd = dp->tap->fd0;
	else if ((rc = dp->h.tap->open(dp->h.tap_ctx, dp->tap->ifname, i, &q->tap_fd, why, wl)) < 0)
		return rc;
	c.tap_fd = q->tap_fd;
	if (pos) {
		npos = (struct netback_pos){ pos[i].tx_req_cons, pos[i].tx_rsp_prod_pvt, pos[i].rx_req_cons,
					     pos[i].rx_rsp_prod_pvt };
		c.pos = &npos;
	}
	rc = netback_create(&c, &q->nb);
	if (rc < 0) {
		snprintf(why, wl, "mapping shared-frames %u/%u port tx %u rx %u: %s", r->tx_ref, r->rx_ref,
			 r->evtchn_tx, r->evtchn_rx, strerror(-rc));
		return rc;
	}
	return be_queue_listen(&queue_ops, q, why, wl);
}

static void dp_free(struct vif_dp *dp)
{
	for (unsigned i = 0; i < dp->nq; i++)
		close_q(&dp->q[i]);
	if (dp->offloads)
		(void)dp->h.tap->set_offload(dp->h.tap_ctx, dp->tap->fd0, 0);
	free(dp);
}

static void kick_all(struct vif_dp *dp)
{
	for (unsigned i = 0; i < dp->nq; i++) {
		serve_tx(&dp->q[i]);
		flush_tx(&dp->q[i]);
	}
}

int vif_datapath_connect(void *host, void *tap, const struct vif_cfg *cfg, const struct vif_front *fe,
			 const struct vif_back *back, const struct vif_pos *pos, void **out, char *why, size_t wl)
{
	const struct vif_host *h = host;
	struct vif_dp *dp;
	unsigned tf;
	int rc = 0;

	*out = NULL;
	if (!h || !tap || fe->nr_queues == 0 || fe->nr_queues > VIF_MAX_QUEUES) {
		snprintf(why, wl, "no data path for %u queues", fe->nr_queues);
		return -EINVAL;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->h = *h;
	dp->tap = tap;
	dp->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5, 10);
	snprintf(dp->name, sizeof(dp->name), "%s/vif%u", h->name ? h->name : "vif", cfg->devid);
	if (back && back->rate && back->rate_usec) {
		dp->rate_bytes = back->rate_bytes;
		dp->rate_usec = back->rate_usec;
	}
	/* What the host may hand the guest: only what its frontend takes. */
	tf = tun_flags_of(features_of(fe));
	rc = dp->h.tap->set_offload(dp->h.tap_ctx, dp->tap->fd0, tf);
	if (rc < 0)
		snprintf(why, wl, "%s: TUNSETOFFLOAD: %s", cfg->ifname, strerror(-rc));
	dp->offloads = rc == 0;
	for (unsigned i = 0; rc == 0 && i < fe->nr_queues; i++) {
		dp->nq = i + 1;
		rc = open_q(dp, i, fe, pos, why, wl);
	}
	if (rc < 0) {
		dp_free(dp);
		return rc;
	}
	/* Whatever the guest pushed before (or while no one served, after a
	 * restore) is taken now; later pushes notify. */
	kick_all(dp);
	log_info(dp->name, "connected: %s, %u queue(s)%s%s%s%s%s", cfg->ifname, dp->nq,
		 dp->q[0].split ? ", split event channels" : "", fe->sg ? ", sg" : "",
		 tf & (TUN_F_TSO4 | TUN_F_TSO6) ? ", gso" : "", dp->rate_usec ? ", rate-limited" : "",
		 pos ? ", resumed" : "");
	*out = dp;
	return 0;
}

int vif_datapath_quiesce(void *p)
{
	struct vif_dp *dp = p;

	return be_queues_quiesce(&queue_ops, dp->q, sizeof(dp->q[0]), dp->nq);
}

int vif_datapath_resume(void *p, char *why, size_t wl)
{
	struct vif_dp *dp = p;
	int rc = be_queues_resume(&queue_ops, dp->q, sizeof(dp->q[0]), dp->nq, why, wl);

	if (rc == 0)
		kick_all(dp);
	return rc;
}

int vif_datapath_save(void *p, struct vif_pos pos[VIF_MAX_QUEUES])
{
	struct vif_dp *dp = p;

	for (unsigned i = 0; i < dp->nq; i++) {
		struct netback_pos b;
		int rc = netback_save(dp->q[i].nb, &b);

		if (rc < 0)
			return rc;
		pos[i] = (struct vif_pos){ b.tx_req_cons, b.tx_rsp_prod_pvt, b.rx_req_cons, b.rx_rsp_prod_pvt };
	}
	return 0;
}

void vif_datapath_disconnect(void *p)
{
	struct vif_dp *dp = p;

	if (!dp)
		return;
	for (unsigned i = 0; i < dp->nq; i++) {
		struct netback_stats s = netback_stats(dp->q[i].nb);

		log_info(dp->name, "queue %u: tx %llu packets (%llu refused, %llu dropped by the host), rx %llu "
			 "packets (%llu dropped, %llu failed)", i, (unsigned long long)s.tx_packets,
			 (unsigned long long)s.tx_errors, (unsigned long long)s.tx_dropped,
			 (unsigned long long)s.rx_packets, (unsigned long long)s.rx_dropped,
			 (unsigned long long)s.rx_errors);
	}
	log_info(dp->name, "disconnected");
	dp_free(dp);
}
