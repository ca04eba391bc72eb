/* The fake netif guest of net_fake.h. */
#include "net_fake.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/net_ring.h"

static void *frame(void *ctx, uint64_t gfn)
{
	struct net_fake *f = ctx;

	if (gfn < NF_RAM_GFN || gfn >= NF_RAM_GFN + NF_RAM_PAGES)
		return NULL;
	return f->ram + (gfn - NF_RAM_GFN) * NET_PAGE;
}

uint8_t *nf_page(struct net_fake *f, unsigned page)
{
	return f->ram + (size_t)page * NET_PAGE;
}

void nf_grant(struct net_fake *f, uint32_t ref, unsigned page, bool ro)
{
	grant_entry_v1_t *e = (grant_entry_v1_t *)f->frames + ref;

	*e = (grant_entry_v1_t){ .flags = GTF_permit_access | (ro ? GTF_readonly : 0), .domid = 0,
				 .frame = NF_RAM_GFN + page };
}

struct netif_tx_sring *nf_txs(struct net_fake *f)
{
	return (struct netif_tx_sring *)(void *)nf_page(f, NF_TX_PAGE);
}

struct netif_rx_sring *nf_rxs(struct net_fake *f)
{
	return (struct netif_rx_sring *)(void *)nf_page(f, NF_RX_PAGE);
}

int nf_init(struct net_fake *f)
{
	int sz = 1 << 20;

	*f = (struct net_fake){ .tap = { -1, -1 } };
	f->ram = aligned_alloc(NET_PAGE, (size_t)NF_RAM_PAGES * NET_PAGE);
	f->frames = aligned_alloc(NET_PAGE, (size_t)GNTTAB_MAX_FRAMES * NET_PAGE);
	if (!f->ram || !f->frames)
		return -ENOMEM;
	memset(f->ram, 0, (size_t)NF_RAM_PAGES * NET_PAGE);
	memset(f->frames, 0, (size_t)GNTTAB_MAX_FRAMES * NET_PAGE);
	gnttab_core_init(&f->core, f->frames);
	f->mem = (struct gnttab_mem){ frame, f };
	f->gcore = (struct net_gnt_core){ &f->core, &f->mem, 0 };
	net_gnt_from_core(&f->gcore, &f->gnt);
	nf_grant(f, NF_TX_REF, NF_TX_PAGE, false);
	nf_grant(f, NF_RX_REF, NF_RX_PAGE, false);
	/* SHARED_RING_INIT */
	nf_txs(f)->req_event = nf_txs(f)->rsp_event = 1;
	nf_rxs(f)->req_event = nf_rxs(f)->rsp_event = 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, f->tap) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		setsockopt(f->tap[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(f->tap[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	return 0;
}

void nf_fini(struct net_fake *f)
{
	for (int i = 0; i < 2; i++)
		if (f->tap[i] >= 0)
			close(f->tap[i]);
	gnttab_core_fini(&f->core);
	free(f->ram);
	free(f->frames);
}

static void notify(void *ctx, enum netback_ring_id which)
{
	((struct net_fake *)ctx)->notified[which]++;
}

struct netback_config nf_config(struct net_fake *f, unsigned features)
{
	return (struct netback_config){ .tx_ref = NF_TX_REF, .rx_ref = NF_RX_REF, .gnt = f->gnt,
					.tap_fd = f->tap[0], .features = features, .notify = notify,
					.notify_ctx = f };
}

#define SLOT_BASE offsetof(struct netif_tx_sring, ring)

void nf_tx_req(struct net_fake *f, uint32_t gref, uint16_t offset, uint16_t flags, uint16_t id, uint16_t size)
{
	netif_tx_request_t r = { .gref = gref, .offset = offset, .flags = flags, .id = id, .size = size };

	memcpy(nf_page(f, NF_TX_PAGE) + SLOT_BASE + (f->tx_prod++ % NET_TX_RING_SIZE) * 12, &r, sizeof(r));
}

void nf_tx_extra(struct net_fake *f, const netif_extra_info_t *e)
{
	memcpy(nf_page(f, NF_TX_PAGE) + SLOT_BASE + (f->tx_prod++ % NET_TX_RING_SIZE) * 12, e, sizeof(*e));
}

void nf_tx_push(struct net_fake *f)
{
	__atomic_store_n(&nf_txs(f)->req_prod, f->tx_prod, __ATOMIC_RELEASE);
}

netif_tx_response_t nf_tx_rsp(struct net_fake *f, RING_IDX i)
{
	netif_tx_response_t r;

	memcpy(&r, nf_page(f, NF_TX_PAGE) + SLOT_BASE + (i % NET_TX_RING_SIZE) * 12, sizeof(r));
	return r;
}

void nf_rx_post(struct net_fake *f, uint16_t id, uint32_t gref)
{
	netif_rx_request_t r = { .id = id, .gref = gref };

	memcpy(nf_page(f, NF_RX_PAGE) + SLOT_BASE + (f->rx_prod++ % NET_RX_RING_SIZE) * 8, &r, sizeof(r));
}

void nf_rx_push(struct net_fake *f)
{
	__atomic_store_n(&nf_rxs(f)->req_prod, f->rx_prod, __ATOMIC_RELEASE);
}

netif_rx_response_t nf_rx_rsp(struct net_fake *f, RING_IDX i)
{
	netif_rx_response_t r;

	memcpy(&r, nf_page(f, NF_RX_PAGE) + SLOT_BASE + (i % NET_RX_RING_SIZE) * 8, sizeof(r));
	return r;
}

int nf_host_send(struct net_fake *f, const struct virtio_net_hdr *h, const void *frame, size_t len)
{
	struct iovec iov[2] = { { (void *)h, sizeof(*h) }, { (void *)frame, len } };

	return writev(f->tap[1], iov, 2) == (ssize_t)(sizeof(*h) + len) ? 0 : -1;
}

long nf_host_recv(struct net_fake *f, struct virtio_net_hdr *h, void *frame, size_t len)
{
	struct iovec iov[2] = { { h, sizeof(*h) }, { frame, len } };
	ssize_t n = readv(f->tap[1], iov, 2);

	return n < (ssize_t)sizeof(*h) ? -1 : (long)(n - (ssize_t)sizeof(*h));
}
