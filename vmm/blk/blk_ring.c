/* One blkif back ring over granted pages (blk_ring.h). */
#include "blk/blk_ring.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define SLOT_BASE offsetof(struct blkif_sring, ring)
#define SLOT_SIZE sizeof(union blkif_sring_entry)

RING_IDX blk_ring_size(unsigned order)
{
	return order > BLK_MAX_RING_ORDER ? 0 : __CONST_RING_SIZE(blkif, BLK_PAGE << order);
}

int blk_ring_attach(struct blk_ring *r, void *const pages[], unsigned order, RING_IDX req_cons,
		    RING_IDX rsp_prod_pvt)
{
	if (order > BLK_MAX_RING_ORDER)
		return -EINVAL;
	*r = (struct blk_ring){ .nr_pages = 1u << order, .size = blk_ring_size(order),
				.req_cons = req_cons, .rsp_prod_pvt = rsp_prod_pvt,
				.rsp_pushed = rsp_prod_pvt };
	for (unsigned i = 0; i < r->nr_pages; i++)
		r->page[i] = pages[i];
	return 0;
}

static struct blkif_sring *sring(const struct blk_ring *r)
{
	return (struct blkif_sring *)(void *)r->page[0];
}

/* Copy [off, off + len) of the ring's byte space, in pieces per page.
 * off + len never passes the last slot: slots are masked by size. */
static void ring_read(const struct blk_ring *r, size_t off, void *buf, size_t len)
{
	uint8_t *b = buf;

	while (len) {
		size_t in = off % BLK_PAGE, n = BLK_PAGE - in < len ? BLK_PAGE - in : len;

		memcpy(b, r->page[off / BLK_PAGE] + in, n);
		b += n, off += n, len -= n;
	}
}

static void ring_write(struct blk_ring *r, size_t off, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	while (len) {
		size_t in = off % BLK_PAGE, n = BLK_PAGE - in < len ? BLK_PAGE - in : len;

		memcpy(r->page[off / BLK_PAGE] + in, b, n);
		b += n, off += n, len -= n;
	}
}

static size_t slot(const struct blk_ring *r, RING_IDX i)
{
	return SLOT_BASE + (size_t)(i & (r->size - 1)) * SLOT_SIZE;
}

int blk_ring_prod(const struct blk_ring *r, RING_IDX *prod)
{
	/* Acquire: the requests' contents are read after the index (ring.h's
	 * rmb() after reading req_prod). */
	RING_IDX p = __atomic_load_n(&sring(r)->req_prod, __ATOMIC_ACQUIRE);

	/* RING_REQUEST_PROD_OVERFLOW: a frontend never has more than size
	 * requests without responses; more is a bogus index (blkback halts
	 * the ring: "Frontend provided bogus ring requests"). */
	if (p - r->rsp_prod_pvt > r->size)
		return -EPROTO;
	*prod = p;
	return 0;
}

bool blk_ring_cons_full(const struct blk_ring *r)
{
	return r->req_cons - r->rsp_prod_pvt >= r->size;
}

void blk_ring_take(struct blk_ring *r, blkif_request_t *out)
{
	ring_read(r, slot(r, r->req_cons), out, sizeof(*out));
	/* The checks that follow must see this copy, never the ring again
	 * (blkback: "Apply all sanity checks to /private copy/ of request"). */
	__asm__ __volatile__("" ::: "memory");
	r->req_cons++;
}

void blk_ring_put(struct blk_ring *r, const blkif_response_t *rsp)
{
	ring_write(r, slot(r, r->rsp_prod_pvt), rsp, sizeof(*rsp));
	r->rsp_prod_pvt++;
}

bool blk_ring_push(struct blk_ring *r)
{
	RING_IDX old = r->rsp_pushed, new = r->rsp_prod_pvt, event;

	if (old == new)
		return false;
	/* Release: the responses are visible before the index (wmb()). */
	__atomic_store_n(&sring(r)->rsp_prod, new, __ATOMIC_RELEASE);
	r->rsp_pushed = new;
	/* mb(): the index is visible before rsp_event is read, or a guest
	 * that re-arms rsp_event meanwhile would miss its notification. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	event = __atomic_load_n(&sring(r)->rsp_event, __ATOMIC_RELAXED);
	return (RING_IDX)(new - event) < (RING_IDX)(new - old);
}

RING_IDX blk_ring_unconsumed(const struct blk_ring *r)
{
	RING_IDX p = __atomic_load_n(&sring(r)->req_prod, __ATOMIC_ACQUIRE);
	RING_IDX req = p - r->req_cons, rsp = r->size - (r->req_cons - r->rsp_prod_pvt);

	return req < rsp ? req : rsp;
}

bool blk_ring_final_check(struct blk_ring *r)
{
	if (blk_ring_unconsumed(r))
		return true;
	__atomic_store_n(&sring(r)->req_event, r->req_cons + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return blk_ring_unconsumed(r) != 0;
}
