/* libFuzzer target for the netif data path (vmm/net): each input is a
 * frontend and a host.  The frontend: the features it negotiated, 48 raw
 * grant entries for data pages (the rings' own two are sane), the tx and
 * rx rings' slots; then up to eight rounds, each a tx req_prod, an rx
 * req_prod, a rsp_event pair and one frame from the host (a raw
 * virtio-net header and bytes), served with netback_tx and netback_rx;
 * optionally a quiesce, save and a new queue from the positions in
 * between.  A socketpair stands in for the TAP queue.  After each input
 * every grant must be released.  Built with clang only
 * (tests/vmm/meson.build); seeds in fuzz-seeds/netif/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_fake.h"

#define NR_GRANTS 48
#define GRANT_BASE 4 /* refs 4.. */

struct hdr {
	uint8_t features, flags, rounds, pad;
};

struct round {
	uint32_t tx_prod, rx_prod;
	uint16_t tx_event, rx_event;
	uint16_t frame_len;
	struct virtio_net_hdr vh;
};

enum { F_SAVE = 1, F_OFFSETS = 2 };

static size_t take(const uint8_t **d, size_t *n, void *out, size_t len)
{
	size_t k = *n < len ? *n : len;

	memset(out, 0, len);
	memcpy(out, *d, k);
	*d += k, *n -= k;
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[NETBACK_MAX_FRAME + 100];
	struct net_fake f;
	struct netback *nb = NULL;
	struct netback_config c;
	struct hdr h;
	uint8_t drain[NETBACK_MAX_FRAME + 64];

	if (nf_init(&f) < 0)
		abort();
	take(&data, &size, &h, sizeof(h));
	/* data pages' grant entries, raw: flags, domid, frame as the guest
	 * wrote them */
	take(&data, &size, (grant_entry_v1_t *)f.frames + GRANT_BASE, NR_GRANTS * sizeof(grant_entry_v1_t));
	/* the rings' slots (their indexes come per round) */
	take(&data, &size, nf_page(&f, NF_TX_PAGE) + offsetof(struct netif_tx_sring, ring),
	     NET_TX_RING_SIZE * sizeof(union netif_tx_sring_entry));
	take(&data, &size, nf_page(&f, NF_RX_PAGE) + offsetof(struct netif_rx_sring, ring),
	     NET_RX_RING_SIZE * sizeof(union netif_rx_sring_entry));
	/* some guest data in the pages the grants may name */
	for (unsigned p = 2; p < NF_RAM_PAGES; p++)
		memset(nf_page(&f, p), (int)p, NET_PAGE);
	c = nf_config(&f, h.features & 15);
	if (netback_create(&c, &nb) < 0)
		abort();
	for (unsigned r = 0; r < (h.rounds & 7u) + 1 && size; r++) {
		struct round rd;
		size_t len;

		take(&data, &size, &rd, sizeof(rd));
		nf_txs(&f)->req_prod = rd.tx_prod;
		nf_rxs(&f)->req_prod = rd.rx_prod;
		nf_txs(&f)->rsp_event = rd.tx_event;
		nf_rxs(&f)->rsp_event = rd.rx_event;
		len = take(&data, &size, frame, rd.frame_len % (sizeof(frame) - 1));
		(void)nf_host_send(&f, &rd.vh, frame, len);
		(void)netback_tx(nb, NETBACK_BUDGET);
		(void)netback_rx(nb, NETBACK_BUDGET);
		while (read(f.tap[1], drain, sizeof(drain)) > 0)
			;
		if ((h.flags & F_SAVE) && r == 1) {
			struct netback_pos pos;

			netback_quiesce(nb);
			if (f.core.holds != 0 || netback_save(nb, &pos) < 0)
				abort();
			netback_destroy(nb);
			c.pos = &pos;
			if (netback_create(&c, &nb) < 0)
				abort();
			c.pos = NULL;
		}
	}
	netback_destroy(nb);
	if (f.core.holds != 0)
		abort();
	nf_fini(&f);
	return 0;
}
