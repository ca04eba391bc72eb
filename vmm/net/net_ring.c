/* One netif back ring on one granted page (net_ring.h). */
#include "net/net_ring.h"

#include <errno.h>
#include <string.h>

#define SLOT_BASE offsetof(struct netif_tx_sring, ring)

/* The header is the same for both rings (net_abi.h asserts it). */
static struct netif_tx_sring *sring(const struct net_ring *r)
{
	return (struct netif_tx_sring *)(void *)r->page;
}

void net_ring_attach(struct net_ring *r, void *page, size_t slot_size, RING_IDX size, RING_IDX req_cons,
		     RING_IDX rsp_prod_pvt)
{
	*r = (struct net_ring){ .page = page, .slot_size = slot_size, .size = size, .req_cons = req_cons,
				.rsp_prod_pvt = rsp_prod_pvt, .rsp_pushed = rsp_prod_pvt };
}

int net_ring_prod(const struct net_ring *r, RING_IDX *prod)
{
	RING_IDX p = __atomic_load_n(&sring(r)->req_prod, __ATOMIC_ACQUIRE);

	/* A frontend never has more than size requests without responses
	 * (netback's xenvif_tx_build_gops: "Impossible number of
	 * requests"). */
	if (p - r->rsp_prod_pvt > r->size)
		return -EPROTO;
	*prod = p;
	return 0;
}

static size_t slot(const struct net_ring *r, RING_IDX i)
{
	return SLOT_BASE + (size_t)(i & (r->size - 1)) * r->slot_size;
}

void net_ring_copy(const struct net_ring *r, RING_IDX i, void *out, size_t len)
{
	memcpy(out, r->page + slot(r, i), len);
	/* The checks that follow must see this copy, never the ring again. */
	__asm__ __volatile__("" ::: "memory");
}

void net_ring_write(struct net_ring *r, RING_IDX i, const void *in, size_t len)
{
	memcpy(r->page + slot(r, i), in, len);
}

bool net_ring_push(struct net_ring *r)
{
	RING_IDX old = r->rsp_pushed, new = r->rsp_prod_pvt, event;

	if (old == new)
		return false;
	__atomic_store_n(&sring(r)->rsp_prod, new, __ATOMIC_RELEASE);
	r->rsp_pushed = new;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	event = __atomic_load_n(&sring(r)->rsp_event, __ATOMIC_RELAXED);
	return (RING_IDX)(new - event) < (RING_IDX)(new - old);
}

static bool unconsumed(const struct net_ring *r)
{
	RING_IDX p = __atomic_load_n(&sring(r)->req_prod, __ATOMIC_ACQUIRE);

	return p != r->req_cons;
}

bool net_ring_arm_after(struct net_ring *r, RING_IDX prod)
{
	__atomic_store_n(&sring(r)->req_event, prod + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&sring(r)->req_prod, __ATOMIC_ACQUIRE) != prod;
}

bool net_ring_final_check(struct net_ring *r)
{
	if (unconsumed(r))
		return true;
	__atomic_store_n(&sring(r)->req_event, r->req_cons + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return unconsumed(r);
}
