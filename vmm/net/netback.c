/* One netif back-end queue (netback.h, docs/netback.md). */
#include "net/netback.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "net/net_abi.h"
#include "net/net_csum.h"
#include "net/net_ring.h"

#define ETH_HLEN 14

struct netback {
	struct netback_config cfg;
	struct gnttab_mapping tx_map, rx_map;
	bool mapped;
	struct net_ring tx, rx;
	struct netback_stats st;
	/* netback's credit scheduler (netback.c tx_credit_exceeded) */
	uint64_t remaining_credit, credit_window_start, wait_until;
	/* one tx packet's slots after the first: at most a ring's worth */
	netif_tx_request_t frag[NET_TX_RING_SIZE];
	uint8_t txbuf[NETBACK_MAX_FRAME];
	uint8_t rxbuf[NETBACK_MAX_FRAME + 1]; /* one more: a longer frame is seen */
	/* A frame read from the TAP that waits for rx buffers (in rxbuf). */
	bool rx_kept;
	struct virtio_net_hdr rx_hdr;
	size_t rx_len;
};

static uint64_t now_us(const struct netback *nb)
{
	struct timespec ts;

	if (nb->cfg.now_us)
		return nb->cfg.now_us(nb->cfg.now_ctx);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- rings ---- */

static int map_rings(struct netback *nb, RING_IDX tx_cons, RING_IDX tx_rsp, RING_IDX rx_cons, RING_IDX rx_rsp)
{
	const struct net_gnt *g = &nb->cfg.gnt;
	int rc = g->ops->map(g->ctx, nb->cfg.tx_ref, true, &nb->tx_map);

	if (rc < 0)
		return rc;
	rc = g->ops->map(g->ctx, nb->cfg.rx_ref, true, &nb->rx_map);
	if (rc < 0) {
		g->ops->unmap(g->ctx, &nb->tx_map);
		return rc;
	}
	net_ring_attach(&nb->tx, nb->tx_map.addr, sizeof(union netif_tx_sring_entry), NET_TX_RING_SIZE, tx_cons,
			tx_rsp);
	net_ring_attach(&nb->rx, nb->rx_map.addr, sizeof(union netif_rx_sring_entry), NET_RX_RING_SIZE, rx_cons,
			rx_rsp);
	nb->mapped = true;
	return 0;
}

int netback_create(const struct netback_config *c, struct netback **out)
{
	struct netback *nb;
	int rc;

	if (!c->gnt.ops || !c->notify || c->tap_fd < 0)
		return -EINVAL;
	/* A quiesced queue answered all it took, on both rings. */
	if (c->pos && (c->pos->tx_req_cons != c->pos->tx_rsp_prod_pvt || c->pos->rx_req_cons != c->pos->rx_rsp_prod_pvt))
		return -EINVAL;
	nb = calloc(1, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	nb->cfg = *c;
	nb->cfg.pos = NULL;
	nb->remaining_credit = c->credit_bytes;
	nb->credit_window_start = c->credit_usec ? now_us(nb) : 0;
	rc = c->pos ? map_rings(nb, c->pos->tx_req_cons, c->pos->tx_rsp_prod_pvt, c->pos->rx_req_cons,
				c->pos->rx_rsp_prod_pvt)
		    : map_rings(nb, 0, 0, 0, 0);
	if (rc < 0) {
		free(nb);
		return rc;
	}
	*out = nb;
	return 0;
}

void netback_quiesce(struct netback *nb)
{
	const struct net_gnt *g = &nb->cfg.gnt;

	if (!nb->mapped)
		return;
	g->ops->unmap(g->ctx, &nb->tx_map);
	g->ops->unmap(g->ctx, &nb->rx_map);
	nb->tx.page = nb->rx.page = NULL;
	nb->mapped = false;
	nb->rx_kept = false; /* a network may drop a frame; the save has no place for it */
}

int netback_resume(struct netback *nb)
{
	if (nb->mapped)
		return 0;
	return map_rings(nb, nb->tx.req_cons, nb->tx.rsp_prod_pvt, nb->rx.req_cons, nb->rx.rsp_prod_pvt);
}

int netback_save(const struct netback *nb, struct netback_pos *pos)
{
	if (nb->mapped)
		return -EBUSY;
	*pos = (struct netback_pos){ nb->tx.req_cons, nb->tx.rsp_prod_pvt, nb->rx.req_cons, nb->rx.rsp_prod_pvt };
	return 0;
}

void netback_destroy(struct netback *nb)
{
	if (!nb)
		return;
	netback_quiesce(nb);
	free(nb);
}

struct netback_stats netback_stats(const struct netback *nb)
{
	return nb->st;
}

/* ---- tx: guest -> TAP (netback.c xenvif_tx_build_gops, count_requests,
 * get_extras; xenvif_tx_submit) ---- */

static void tx_respond(struct netback *nb, uint16_t id, int16_t status)
{
	netif_tx_response_t r = { .id = id, .status = status };

	net_ring_write(&nb->tx, nb->tx.rsp_prod_pvt++, &r, sizeof(r));
}

static bool is_gso_type(uint8_t t)
{
	return t == XEN_NETIF_GSO_TYPE_TCPV4 || t == XEN_NETIF_GSO_TYPE_TCPV6;
}

/* The virtio-net header of a frame the guest sent: NETTXF_csum_blank is
 * CHECKSUM_PARTIAL, whose start and offset Linux's skb_checksum_setup
 * finds in the headers (netback's checksum_setup); a GSO frame without it
 * gets the pseudo-header sum written (the "buggy peer" fixup); the GSO
 * extra gives type and size, and the TCP header ends the header part. */
static int tx_vnet_hdr(struct netback *nb, const netif_tx_request_t *first, const netif_extra_info_t *gso,
		       size_t len, struct virtio_net_hdr *h)
{
	bool blank = first->flags & NETTXF_csum_blank;
	struct net_l4 l4 = { 0 };

	*h = (struct virtio_net_hdr){ .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	if (blank || gso) {
		if (net_csum_setup(nb->txbuf, len, !blank, &l4) < 0)
			return -EPROTO;
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = l4.start;
		h->csum_offset = l4.offset;
	} else if (first->flags & NETTXF_data_validated) {
		h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	if (gso) {
		bool v6 = gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6;

		if (l4.proto != 6 /* IPPROTO_TCP */ || l4.ipv6 != v6)
			return -EPROTO;
		h->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		h->gso_size = gso->u.gso.size;
		h->hdr_len = l4.hdr_len;
	}
	return 0;
}

/* Copy the packet's slots into txbuf: 0 or the grant table's error. */
static int tx_gather(struct netback *nb, const netif_tx_request_t *first, uint32_t first_len, unsigned nfrag)
{
	const struct net_gnt *g = &nb->cfg.gnt;
	size_t off = first_len;
	int rc = g->ops->copy_from(g->ctx, first->gref, first->offset, nb->txbuf, first_len);

	for (unsigned i = 0; rc == 0 && i < nfrag; i++) {
		const netif_tx_request_t *f = &nb->frag[i];

		if (f->size)
			rc = g->ops->copy_from(g->ctx, f->gref, f->offset, nb->txbuf + off, f->size);
		off += f->size;
	}
	return rc;
}

static void tx_write(struct netback *nb, const struct virtio_net_hdr *h, size_t len)
{
	struct iovec iov[2] = { { (void *)h, sizeof(*h) }, { nb->txbuf, len } };
	ssize_t n;

	do
		n = writev(nb->cfg.tap_fd, iov, 2);
	while (n < 0 && errno == EINTR);
	/* The host dropped it (a full queue, a link down): the guest is told
	 * OKAY, as netback's packets that the host stack drops. */
	if (n != (ssize_t)(sizeof(*h) + len)) {
		nb->st.tx_dropped++;
		return;
	}
	nb->st.tx_packets++;
	nb->st.tx_bytes += len;
}

/* One packet from tx.req_cons: its first slot, extra info slots, and the
 * slots that NETTXF_more_data chains; every slot read is answered. */
static void tx_packet(struct netback *nb, RING_IDX prod, netif_tx_request_t first)
{
	netif_extra_info_t extras[XEN_NETIF_EXTRA_TYPE_MAX - 1];
	const netif_extra_info_t *gso = NULL;
	unsigned nextra = 0, nfrag = 0;
	uint32_t remaining;
	bool bad = false, more;
	struct virtio_net_hdr h;

	memset(extras, 0, sizeof(extras));
	if (first.flags & NETTXF_extra_info) {
		netif_extra_info_t e;

		do {
			if (nb->tx.req_cons == prod) { /* "Missing extra info" */
				bad = true;
				break;
			}
			net_ring_copy(&nb->tx, nb->tx.req_cons++, &e, sizeof(e));
			nextra++;
			if (e.type == XEN_NETIF_EXTRA_TYPE_NONE || e.type >= XEN_NETIF_EXTRA_TYPE_MAX)
				bad = true; /* "Invalid extra type" */
			else
				extras[e.type - 1] = e;
		} while (e.flags & XEN_NETIF_EXTRA_FLAG_MORE);
	}
	/* count_requests: the first slot's size is the packet's; each
	 * following slot takes its part of it. */
	remaining = first.size;
	more = first.flags & NETTXF_more_data;
	while (more) {
		netif_tx_request_t *f = &nb->frag[nfrag];

		if (nb->tx.req_cons == prod) { /* a packet pushed in part */
			bad = true;
			break;
		}
		net_ring_copy(&nb->tx, nb->tx.req_cons++, f, sizeof(*f));
		more = f->flags & NETTXF_more_data;
		if (nfrag >= NETBACK_MAX_TX_FRAGS || f->size > remaining || f->offset + (uint32_t)f->size > NET_PAGE)
			bad = true;
		else
			remaining -= f->size;
		nfrag++;
	}
	/* What is left is the first slot's; it holds the Ethernet header and
	 * does not cross its page. */
	if (remaining < ETH_HLEN || first.offset + remaining > NET_PAGE)
		bad = true;
	if (extras[XEN_NETIF_EXTRA_TYPE_GSO - 1].type) {
		gso = &extras[XEN_NETIF_EXTRA_TYPE_GSO - 1];
		if (gso->u.gso.size == 0 || !is_gso_type(gso->u.gso.type))
			bad = true;
	}
	if (!bad && (extras[XEN_NETIF_EXTRA_TYPE_MCAST_ADD - 1].type || extras[XEN_NETIF_EXTRA_TYPE_MCAST_DEL - 1].type)) {
		/* Multicast control is not offered: the TAP gets every frame
		 * anyway; answered as netback answers a filter change. */
		goto respond;
	}
	if (!bad && tx_gather(nb, &first, remaining, nfrag) < 0)
		bad = true;
	if (!bad && tx_vnet_hdr(nb, &first, gso, first.size, &h) < 0)
		bad = true;
	if (!bad)
		tx_write(nb, &h, first.size);
respond:
	if (bad)
		nb->st.tx_errors++;
	tx_respond(nb, first.id, bad ? NETIF_RSP_ERROR : NETIF_RSP_OKAY);
	for (unsigned i = 0; i < nextra; i++)
		tx_respond(nb, 0, NETIF_RSP_NULL);
	for (unsigned i = 0; i < nfrag; i++)
		tx_respond(nb, nb->frag[i].id, bad ? NETIF_RSP_ERROR : NETIF_RSP_OKAY);
}

/* The credit scheduler: the rate key's BYTES for every USEC window, up
 * to a burst of max(BYTES, 128 KiB) (netback.c tx_add_credit's max_burst,
 * "big enough to transmit a jumbo packet"); a packet whose size is more
 * than the credit left waits in the ring for the end of the window that
 * brings enough.
 *
 * Unlike Linux's netback, credit accrues for every whole window that has
 * passed, not one window's worth per look (tx_credit_exceeded adds one
 * window when it finds the window over): there, every window in which no
 * packet waited for credit (the guest paused, or its ring ran empty
 * between looks) is lost, and a loaded lab's guest sent 1.57 Mb/s
 * through rate=2Mb/s.  Here the rate is an average the guest gets
 * whenever it offers more, and the burst bounds what a quiet spell saves
 * up.  Window ends stay on the grid of the first one (as in netback), so
 * a late timer costs nothing. */
static uint64_t max_burst(const struct netback *nb)
{
	return nb->cfg.credit_bytes > 131072 ? nb->cfg.credit_bytes : 131072;
}

static void accrue(struct netback *nb, uint64_t now)
{
	uint64_t usec = nb->cfg.credit_usec, bytes = nb->cfg.credit_bytes, burst = max_burst(nb), windows;

	if (now <= nb->credit_window_start || now - nb->credit_window_start < usec)
		return;
	windows = (now - nb->credit_window_start) / usec;
	nb->credit_window_start += windows * usec;
	if (bytes && windows > (burst - nb->remaining_credit) / bytes)
		nb->remaining_credit = burst;
	else
		nb->remaining_credit += windows * bytes;
}

/* Whether a packet of size bytes must wait; if so, wait_until is the end
 * of the window that brings its credit (saturating: the rate key is the
 * toolstack's, but a huge USEC must not wrap into "now"). */
static bool credit_exceeded(struct netback *nb, uint32_t size)
{
	uint64_t bytes = nb->cfg.credit_bytes, usec = nb->cfg.credit_usec, n;

	accrue(nb, now_us(nb));
	if (size <= nb->remaining_credit) {
		nb->wait_until = 0;
		return false;
	}
	if (!nb->wait_until)
		nb->st.rate_limited++;
	/* size is at most 65535 and the burst at least 128 KiB, so with any
	 * BYTES the packet fits after n windows; with BYTES 0 it never does
	 * (netback alike: "0,USEC" stops the vif's tx). */
	n = bytes ? (size - nb->remaining_credit + bytes - 1) / bytes : 1;
	if (usec > (UINT64_MAX - nb->credit_window_start) / n)
		nb->wait_until = UINT64_MAX;
	else
		nb->wait_until = nb->credit_window_start + n * usec;
	return true;
}

uint64_t netback_tx_wait_us(const struct netback *nb)
{
	uint64_t now;

	if (!nb->wait_until)
		return 0;
	/* A packet waits.  A wait already over is still one (1 us, "now"):
	 * the packet is in the ring until credit_exceeded runs again, and 0
	 * here would leave nothing to come back for it (the guest does not
	 * kick for requests it pushed already) - a rate-limited vif stalled
	 * for good in the lab that way. */
	now = now_us(nb);
	return nb->wait_until > now ? nb->wait_until - now : 1;
}

bool netback_tx(struct netback *nb, unsigned budget)
{
	unsigned n = 0, looks = 0;
	bool more = false;
	RING_IDX prod;

	if (!nb->mapped)
		return false;
	/* looks bounds a guest that moves req_prod back and forth under the
	 * final check. */
	while (looks++ < budget + 4) {
		if (net_ring_prod(&nb->tx, &prod) < 0) {
			/* A bogus index: nothing taken; armed so that a sane
			 * push later is heard. */
			nb->st.bad_index++;
			(void)net_ring_final_check(&nb->tx);
			break;
		}
		if (prod == nb->tx.req_cons) {
			if (!net_ring_final_check(&nb->tx))
				break;
			continue;
		}
		while (nb->tx.req_cons != prod && n < budget) {
			netif_tx_request_t first;

			net_ring_copy(&nb->tx, nb->tx.req_cons, &first, sizeof(first));
			if (nb->cfg.credit_usec && first.size > nb->remaining_credit && credit_exceeded(nb, first.size))
				goto out; /* left in the ring until the credit comes */
			nb->remaining_credit -= nb->cfg.credit_usec ? first.size : 0;
			nb->tx.req_cons++;
			tx_packet(nb, prod, first);
			n++;
		}
		if (n == budget) {
			more = true;
			break;
		}
	}
out:
	if (net_ring_push(&nb->tx))
		nb->cfg.notify(nb->cfg.notify_ctx, NETBACK_TX);
	return more;
}

/* ---- rx: TAP -> guest (rx.c xenvif_rx_skb) ---- */

/* The response flags of a frame's first slot and its GSO type (NONE if
 * not GSO); -1: the frontend cannot take it (dropped), -2: malformed. */
static int rx_offload(struct netback *nb, const struct virtio_net_hdr *h, size_t len, uint16_t *flags, uint8_t *gso)
{
	unsigned f = nb->cfg.features;
	uint8_t g = h->gso_type;

	*flags = 0;
	*gso = XEN_NETIF_GSO_TYPE_NONE;
	if (g == VIRTIO_NET_HDR_GSO_TCPV4 && (f & NETBACK_F_GSO_TCPV4))
		*gso = XEN_NETIF_GSO_TYPE_TCPV4;
	else if (g == VIRTIO_NET_HDR_GSO_TCPV6 && (f & NETBACK_F_GSO_TCPV6))
		*gso = XEN_NETIF_GSO_TYPE_TCPV6;
	else if (g != VIRTIO_NET_HDR_GSO_NONE)
		return -1;
	if (*gso != XEN_NETIF_GSO_TYPE_NONE && (h->gso_size == 0 || !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)))
		return -2;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* CHECKSUM_PARTIAL: netback's csum_blank | data_validated.  A
		 * frontend that takes no blank checksum gets it done here. */
		if (f & NETBACK_F_RX_CSUM)
			*flags = NETRXF_csum_blank | NETRXF_data_validated;
		else if (*gso != XEN_NETIF_GSO_TYPE_NONE)
			return -1;
		else if (net_csum_complete(nb->rxbuf, len, h->csum_start, h->csum_offset) < 0)
			return -2;
		else
			*flags = NETRXF_data_validated;
	} else if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		*flags = NETRXF_data_validated; /* CHECKSUM_UNNECESSARY */
	}
	return 0;
}

/* One frame in rxbuf to the guest: false when its rx buffers are not
 * posted yet (the frame stays in rxbuf, the ring armed); true when it was
 * delivered, or dropped and counted. */
static bool rx_packet(struct netback *nb, const struct virtio_net_hdr *h, size_t len)
{
	const struct net_gnt *g = &nb->cfg.gnt;
	unsigned slots = (unsigned)((len + NET_PAGE - 1) / NET_PAGE), need;
	uint16_t flags;
	uint8_t gso;
	RING_IDX prod;
	bool err = false;
	size_t off = 0;
	int rc;

	if (len < ETH_HLEN || len > NETBACK_MAX_FRAME) {
		nb->st.rx_errors++;
		return true;
	}
	rc = rx_offload(nb, h, len, &flags, &gso);
	/* More slots than a frontend without feature-sg takes. */
	if (rc == -1 || (slots > 1 && !(nb->cfg.features & NETBACK_F_SG))) {
		nb->st.rx_dropped++;
		return true;
	}
	if (rc < 0) {
		nb->st.rx_errors++;
		return true;
	}
	need = slots + (gso != XEN_NETIF_GSO_TYPE_NONE);
	for (;;) {
		if (net_ring_prod(&nb->rx, &prod) < 0) {
			nb->st.bad_index++;
			nb->st.rx_dropped++;
			return true;
		}
		if (prod - nb->rx.req_cons >= need)
			break;
		/* Too few rx buffers: wait for the guest's next push. */
		if (!net_ring_arm_after(&nb->rx, prod))
			return false;
	}
	for (unsigned s = 0; s < slots; s++) {
		netif_rx_request_t req;
		netif_rx_response_t rsp;
		size_t chunk = len - off < NET_PAGE ? len - off : NET_PAGE;

		net_ring_copy(&nb->rx, nb->rx.req_cons, &req, sizeof(req));
		rc = g->ops->copy_to(g->ctx, req.gref, 0, nb->rxbuf + off, (uint32_t)chunk);
		off += chunk;
		rsp = (netif_rx_response_t){ .id = req.id, .offset = 0,
					     .flags = (uint16_t)((off < len ? NETRXF_more_data : 0) |
								 (s == 0 ? flags : 0) |
								 (s == 0 && gso ? NETRXF_extra_info : 0)),
					     .status = rc < 0 ? NETIF_RSP_ERROR : (int16_t)chunk };
		err |= rc < 0;
		/* The response goes where its request was (rsp_prod_pvt ==
		 * req_cons), after the request was copied out. */
		net_ring_write(&nb->rx, nb->rx.req_cons++, &rsp, sizeof(rsp));
		if (s == 0 && gso) {
			/* "Extras must go after the first data slot". */
			netif_extra_info_t e = { .type = XEN_NETIF_EXTRA_TYPE_GSO, .flags = 0 };

			e.u.gso.size = h->gso_size;
			e.u.gso.type = gso;
			net_ring_write(&nb->rx, nb->rx.req_cons++, &e, sizeof(e));
		}
	}
	nb->rx.rsp_prod_pvt = nb->rx.req_cons;
	if (err) {
		nb->st.rx_errors++;
		return true;
	}
	nb->st.rx_packets++;
	nb->st.rx_bytes += len;
	return true;
}

enum netback_rx_result netback_rx(struct netback *nb, unsigned budget)
{
	enum netback_rx_result res = NETBACK_RX_MORE;
	unsigned n;

	if (!nb->mapped)
		return NETBACK_RX_IDLE;
	for (n = 0; n < budget; n++) {
		struct iovec iov[2] = { { &nb->rx_hdr, sizeof(nb->rx_hdr) }, { nb->rxbuf, sizeof(nb->rxbuf) } };
		ssize_t r;

		if (!nb->rx_kept) {
			r = readv(nb->cfg.tap_fd, iov, 2);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				res = NETBACK_RX_IDLE;
				break;
			}
			if ((size_t)r < sizeof(nb->rx_hdr)) {
				nb->st.rx_errors++;
				continue;
			}
			nb->rx_len = (size_t)r - sizeof(nb->rx_hdr);
		}
		nb->rx_kept = !rx_packet(nb, &nb->rx_hdr, nb->rx_len);
		if (nb->rx_kept) {
			res = NETBACK_RX_NO_BUFFERS;
			break;
		}
	}
	if (net_ring_push(&nb->rx))
		nb->cfg.notify(nb->cfg.notify_ctx, NETBACK_RX);
	return res;
}
