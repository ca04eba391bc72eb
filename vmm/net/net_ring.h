/* The back end's half of one netif shared ring (xen/io/ring.h) on one
 * granted page: the tx ring (12-byte slots) or the rx ring (8-byte slots).
 *
 * The rules are ring.h's macros restated, as vmm/blk/blk_ring.c does for
 * blkif: the guest's req_prod is read once per batch and checked against
 * what the ring can hold (netback's "Impossible number of requests"); a
 * slot is copied out before anything looks at it (RING_COPY_REQUEST);
 * responses are published with RING_PUSH_RESPONSES_AND_CHECK_NOTIFY's rule,
 * the old index being the one this side last pushed, never the shared
 * page's; RING_FINAL_CHECK_FOR_REQUESTS re-arms req_event. */
#ifndef DOMUS_VMM_NET_RING_H
#define DOMUS_VMM_NET_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_abi.h"

struct net_ring {
	uint8_t *page;
	size_t slot_size;
	RING_IDX size;
	RING_IDX req_cons, rsp_prod_pvt, rsp_pushed;
};

void net_ring_attach(struct net_ring *r, void *page, size_t slot_size, RING_IDX size, RING_IDX req_cons,
		     RING_IDX rsp_prod_pvt);
/* The guest's req_prod (acquire); -EPROTO when it claims more requests
 * than the ring holds. */
int net_ring_prod(const struct net_ring *r, RING_IDX *prod);
/* Copy slot i (len <= slot_size) out of shared memory. */
void net_ring_copy(const struct net_ring *r, RING_IDX i, void *out, size_t len);
/* Write len bytes into slot i. */
void net_ring_write(struct net_ring *r, RING_IDX i, const void *in, size_t len);
/* Publish rsp_prod_pvt; whether the guest asked to hear of it. */
bool net_ring_push(struct net_ring *r);
/* No request waits (with req_event armed first): false; else true. */
bool net_ring_final_check(struct net_ring *r);
/* Ask to hear of the guest's next push after prod (req_event = prod + 1,
 * netback's xenvif_rx_ring_slots_available); true when req_prod moved
 * meanwhile (look again rather than wait). */
bool net_ring_arm_after(struct net_ring *r, RING_IDX prod);

#endif
