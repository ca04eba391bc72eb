/* A fake netif guest for the vif back end's tests and fuzzer: RAM pages, a
 * grant table core over them, the tx and rx shared rings written as
 * netfront would, and a SOCK_SEQPACKET socketpair standing in for the TAP
 * queue (one packet a message, struct virtio_net_hdr first). */
#ifndef DOMUS_TESTS_NET_FAKE_H
#define DOMUS_TESTS_NET_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "net/net_abi.h"
#include "net/netback.h"

#define NF_RAM_GFN 0x100
#define NF_RAM_PAGES 64
#define NF_TX_PAGE 0 /* the rings' pages and refs */
#define NF_RX_PAGE 1
#define NF_TX_REF 2
#define NF_RX_REF 3

struct net_fake {
	uint8_t *ram, *frames;
	struct gnttab_core core;
	struct gnttab_mem mem;
	struct net_gnt_core gcore;
	struct net_gnt gnt;
	RING_IDX tx_prod, tx_rsp_cons, rx_prod, rx_rsp_cons;
	int tap[2];          /* [0] the back end's, [1] the host's */
	unsigned notified[2]; /* per ring */
};

int nf_init(struct net_fake *f);
void nf_fini(struct net_fake *f);
uint8_t *nf_page(struct net_fake *f, unsigned page);
void nf_grant(struct net_fake *f, uint32_t ref, unsigned page, bool ro);
struct netif_tx_sring *nf_txs(struct net_fake *f);
struct netif_rx_sring *nf_rxs(struct net_fake *f);
/* A config on this guest (features NETBACK_F_*). */
struct netback_config nf_config(struct net_fake *f, unsigned features);
/* Write the next tx slot (not pushed). */
void nf_tx_req(struct net_fake *f, uint32_t gref, uint16_t offset, uint16_t flags, uint16_t id, uint16_t size);
void nf_tx_extra(struct net_fake *f, const netif_extra_info_t *e);
void nf_tx_push(struct net_fake *f);
netif_tx_response_t nf_tx_rsp(struct net_fake *f, RING_IDX i);
/* Post one rx buffer (not pushed). */
void nf_rx_post(struct net_fake *f, uint16_t id, uint32_t gref);
void nf_rx_push(struct net_fake *f);
netif_rx_response_t nf_rx_rsp(struct net_fake *f, RING_IDX i);
/* The host's side of the TAP: send one packet, or receive one (its length,
 * -1 when none waits). */
int nf_host_send(struct net_fake *f, const struct virtio_net_hdr *h, const void *frame, size_t len);
long nf_host_recv(struct net_fake *f, struct virtio_net_hdr *h, void *frame, size_t len);

#endif
