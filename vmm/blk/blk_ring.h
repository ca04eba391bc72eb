/* The back end's half of one blkif shared ring (xen/io/ring.h, native
 * x86_64 layout) spread over 1 << order granted pages.
 *
 * The pages are granted one by one and need not be contiguous in the
 * monitor (each is wherever the grant table's frame callback finds it), so
 * the ring is read and written through a paged accessor: a slot that
 * straddles two pages is copied in two pieces.  Requests are copied out
 * anyway (guest memory is read once, then checked), so this costs one extra
 * memcpy split at most; it needs no second mapping of the memfd and works
 * on any page the grant table hands out (docs/blkback.md).
 *
 * The rules are those of ring.h's macros, restated for pages: the guest's
 * req_prod is read once per batch and checked against what the ring can
 * hold (RING_REQUEST_PROD_OVERFLOW, as Linux blkback's __do_block_io_op);
 * a request is consumed only while a response slot is free for it
 * (RING_REQUEST_CONS_OVERFLOW); responses are published with
 * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY and the back end re-arms req_event
 * with RING_FINAL_CHECK_FOR_REQUESTS.  Nothing here trusts a value it did
 * not write itself: rsp_prod as last pushed is kept privately. */
#ifndef DOMUS_VMM_BLK_RING_H
#define DOMUS_VMM_BLK_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "blk/blk_abi.h"

/* Linux's XENBUS_MAX_RING_GRANT_ORDER (include/xen/xenbus.h), blkback's
 * default xen_blkif_max_ring_order: 16 pages, 512 requests. */
#define BLK_MAX_RING_ORDER 4
#define BLK_MAX_RING_PAGES (1u << BLK_MAX_RING_ORDER)
#define BLK_PAGE 4096u

struct blk_ring {
	uint8_t *page[BLK_MAX_RING_PAGES];
	unsigned nr_pages;
	RING_IDX size;         /* __CONST_RING_SIZE(blkif, nr_pages * 4096) */
	RING_IDX req_cons;     /* next request to copy out */
	RING_IDX rsp_prod_pvt; /* next response slot to write */
	RING_IDX rsp_pushed;   /* rsp_prod as this side last published it */
};

/* Requests in a ring of 1 << order pages. */
RING_IDX blk_ring_size(unsigned order);

/* Attach to pages[0 .. 1 << order) at positions req_cons / rsp_prod_pvt
 * (0 / 0 for a fresh ring, BACK_RING_INIT). -EINVAL: order too big. */
int blk_ring_attach(struct blk_ring *r, void *const pages[], unsigned order, RING_IDX req_cons,
		    RING_IDX rsp_prod_pvt);

/* The guest's req_prod, read once (with the read barrier that orders the
 * requests' contents after it) into *prod; -EPROTO when it claims more
 * requests than the ring holds: the ring must then be closed. */
int blk_ring_prod(const struct blk_ring *r, RING_IDX *prod);
/* No free response slot for one more request (RING_REQUEST_CONS_OVERFLOW). */
bool blk_ring_cons_full(const struct blk_ring *r);
/* Copy request req_cons out of shared memory and consume it. */
void blk_ring_take(struct blk_ring *r, blkif_request_t *out);
/* Write a response into slot rsp_prod_pvt (the caller made sure a consumed
 * request owns it: rsp_prod_pvt < req_cons). */
void blk_ring_put(struct blk_ring *r, const blkif_response_t *rsp);
/* Publish the responses written since the last push; whether the guest
 * asked to be notified of them (rsp_event). */
bool blk_ring_push(struct blk_ring *r);
/* RING_FINAL_CHECK_FOR_REQUESTS: whether requests wait; when none does,
 * req_event is armed first so that the guest's next push notifies. */
bool blk_ring_final_check(struct blk_ring *r);
/* Requests the guest has pushed that are not consumed (read once, bounded
 * by the ring: RING_HAS_UNCONSUMED_REQUESTS). */
RING_IDX blk_ring_unconsumed(const struct blk_ring *r);

#endif
