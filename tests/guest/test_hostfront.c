/* hostfront's pure part (hostfront_ring.c) on this host: the slots each
 * attack writes, the checker's verdicts on made-up answers, and every
 * attack run against domus's own back ends on the unit tests' fake guests
 * (tests/vmm/net_fake.c with vmm/net/netback.c, tests/vmm/blk_fake.c with
 * vmm/blk/blkback.c): each hostile round answered as hostfront expects in
 * the lab, counted, and the control round after it served.  What the lab
 * adds is the real guest kernel's grants, event channels and xenstore. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blk_fake.h"
#include "net_fake.h"

#include "hostfront_ring.h"

static const uint8_t MAC[6] = { 0x00, 0x16, 0x3e, 0x0f, 0x0f, 0x01 };

/* ---- the slots, in a plain page ---- */

struct page_ring {
	_Alignas(4096) uint8_t page[HF_PAGE];
	netif_tx_front_ring_t tx;
};

static const struct hf_refs REFS = { .data = 10, .data2 = 11, .ro = 12, .indirect = 14, .other_dom = 13,
				      .ungranted = HF_REF_NEVER_GRANTED, .out_of_range = HF_REF_OUT_OF_RANGE };

static netif_tx_request_t tx_slot(netif_tx_front_ring_t *r, RING_IDX i)
{
	netif_tx_request_t q;

	memcpy(&q, RING_GET_REQUEST(r, i), sizeof(q));
	return q;
}

static void test_tx_layouts(void **state)
{
	struct page_ring *p = aligned_alloc(4096, sizeof(*p));
	struct hf_round rd;
	netif_tx_request_t q;
	netif_extra_info_t e;

	(void)state;
	assert_non_null(p);
	SHARED_RING_INIT((struct netif_tx_sring *)(void *)p->page);
	FRONT_RING_INIT(&p->tx, (struct netif_tx_sring *)(void *)p->page, HF_PAGE);

	/* 20 slots: the first's size covers the 19 one-byte slots after it. */
	assert_int_equal(hf_tx_build(&p->tx, HF_TX_TOO_MANY_SLOTS, &REFS, 100, &rd), 0);
	assert_int_equal(rd.n, 20);
	assert_true(rd.bad);
	assert_int_equal(p->tx.req_prod_pvt, 20);
	q = tx_slot(&p->tx, 0);
	assert_int_equal(q.gref, 10);
	assert_int_equal(q.size, HF_FRAME_LEN + 19);
	assert_int_equal(q.id, 100);
	assert_true(q.flags & NETTXF_more_data);
	for (unsigned i = 1; i < 20; i++) {
		q = tx_slot(&p->tx, i);
		assert_int_equal(q.id, 100 + i);
		assert_int_equal(q.size, 1);
		assert_int_equal(q.gref, 11);
		assert_int_equal(!!(q.flags & NETTXF_more_data), i < 19);
	}
	/* Nothing pushed: the caller pushes. */
	assert_int_equal(((struct netif_tx_sring *)(void *)p->page)->req_prod, 0);

	/* An extra of type 0 right after the first slot, answered NULL. */
	assert_int_equal(hf_tx_build(&p->tx, HF_TX_EXTRA_NONE, &REFS, 200, &rd), 0);
	assert_int_equal(rd.start, 20);
	assert_int_equal(rd.n, 2);
	assert_true(tx_slot(&p->tx, 20).flags & NETTXF_extra_info);
	assert_false(rd.extra[0]);
	assert_true(rd.extra[1]);
	memcpy(&e, RING_GET_REQUEST(&p->tx, 21), sizeof(e));
	assert_int_equal(e.type, XEN_NETIF_EXTRA_TYPE_NONE);

	/* The chain of extras whose last one still says MORE. */
	assert_int_equal(hf_tx_build(&p->tx, HF_TX_EXTRA_CHAIN, &REFS, 300, &rd), 0);
	assert_int_equal(rd.n, 5);
	for (unsigned i = 1; i < 5; i++) {
		memcpy(&e, RING_GET_REQUEST(&p->tx, rd.start + i), sizeof(e));
		assert_true(e.flags & XEN_NETIF_EXTRA_FLAG_MORE);
	}

	/* The bad refs and sizes where they belong. */
	assert_int_equal(hf_tx_build(&p->tx, HF_TX_REF_RANGE, &REFS, 400, &rd), 0);
	assert_int_equal(tx_slot(&p->tx, rd.start).gref, HF_REF_OUT_OF_RANGE);
	assert_int_equal(hf_tx_build(&p->tx, HF_TX_OFFSET_PAST, &REFS, 401, &rd), 0);
	q = tx_slot(&p->tx, rd.start);
	assert_true(q.offset + q.size > HF_PAGE);
	assert_int_equal(hf_tx_build(&p->tx, HF_TX_SIZE_MAX, &REFS, 402, &rd), 0);
	assert_int_equal(tx_slot(&p->tx, rd.start).size, 65535);
	assert_int_equal(hf_tx_build(&p->tx, HF_TX_GOOD, &REFS, 403, &rd), 0);
	assert_false(rd.bad);

	/* A full ring refuses (no response consumed: 256 slots at most). */
	while (!RING_FULL(&p->tx))
		assert_int_equal(hf_tx_build(&p->tx, HF_TX_GOOD, &REFS, 0, &rd), 0);
	assert_int_equal(hf_tx_build(&p->tx, HF_TX_GOOD, &REFS, 0, &rd), -ENOSPC);
	free(p);
}

static void test_tx_checker(void **state)
{
	struct page_ring *p = aligned_alloc(4096, sizeof(*p));
	struct hf_round rd;
	netif_tx_response_t ok = { .id = 7, .status = NETIF_RSP_OKAY }, err = { .id = 7, .status = NETIF_RSP_ERROR },
			    nul = { .status = NETIF_RSP_NULL };
	char why[128];

	(void)state;
	assert_non_null(p);
	SHARED_RING_INIT((struct netif_tx_sring *)(void *)p->page);
	FRONT_RING_INIT(&p->tx, (struct netif_tx_sring *)(void *)p->page, HF_PAGE);
	assert_int_equal(hf_tx_build(&p->tx, HF_TX_GSO_SIZE0, &REFS, 7, &rd), 0);
	/* ERROR then NULL for the extra: what netback answers. */
	memcpy(RING_GET_RESPONSE(&p->tx, 0), &err, sizeof(err));
	memcpy(RING_GET_RESPONSE(&p->tx, 1), &nul, sizeof(nul));
	assert_int_equal(hf_answered(2, &rd), 2);
	assert_int_equal(hf_answered(1, &rd), 1);
	assert_int_equal(hf_answered(1000, &rd), 2);
	assert_int_equal(hf_tx_check(&p->tx, &rd, why, sizeof(why)), 0);
	/* A hostile packet sent (OKAY) is the back end's failure. */
	memcpy(RING_GET_RESPONSE(&p->tx, 0), &ok, sizeof(ok));
	assert_int_equal(hf_tx_check(&p->tx, &rd, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "not ERROR"));
	/* So is an extra answered as data, and a wrong id. */
	memcpy(RING_GET_RESPONSE(&p->tx, 0), &err, sizeof(err));
	memcpy(RING_GET_RESPONSE(&p->tx, 1), &err, sizeof(err));
	assert_int_equal(hf_tx_check(&p->tx, &rd, why, sizeof(why)), -EPROTO);
	err.id = 8;
	memcpy(RING_GET_RESPONSE(&p->tx, 0), &err, sizeof(err));
	memcpy(RING_GET_RESPONSE(&p->tx, 1), &nul, sizeof(nul));
	assert_int_equal(hf_tx_check(&p->tx, &rd, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "id 8"));
	/* The good packet needs OKAY. */
	assert_int_equal(hf_tx_build(&p->tx, HF_TX_GOOD, &REFS, 9, &rd), 0);
	err.id = 9;
	memcpy(RING_GET_RESPONSE(&p->tx, 2), &err, sizeof(err));
	assert_int_equal(hf_tx_check(&p->tx, &rd, why, sizeof(why)), -EPROTO);
	ok.id = 9;
	memcpy(RING_GET_RESPONSE(&p->tx, 2), &ok, sizeof(ok));
	assert_int_equal(hf_tx_check(&p->tx, &rd, why, sizeof(why)), 0);
	assert_int_equal(hf_overflow_prod(5, 256), 517);
	free(p);
}

static void test_blk_layouts(void **state)
{
	uint8_t *page = aligned_alloc(4096, HF_PAGE), *ind = aligned_alloc(4096, HF_PAGE);
	blkif_front_ring_t r;
	struct hf_disk d = { .sectors = 2048, .readonly = true, .max_indirect = 32 };
	struct hf_round rd;
	blkif_request_t q;
	blkif_request_indirect_t qi;
	struct blkif_request_segment s;

	(void)state;
	assert_non_null(page);
	assert_non_null(ind);
	SHARED_RING_INIT((struct blkif_sring *)(void *)page);
	FRONT_RING_INIT(&r, (struct blkif_sring *)(void *)page, HF_PAGE);
	assert_int_equal(hf_blk_build(&r, HF_BLK_PAST_END, &REFS, &d, 11, ind, &rd), 0);
	memcpy(&q, RING_GET_REQUEST(&r, 0), sizeof(q));
	assert_int_equal(q.operation, BLKIF_OP_READ);
	assert_int_equal(q.sector_number, 2048);
	assert_int_equal(q.id, 11);
	assert_int_equal(q.nr_segments, 1);
	assert_int_equal(hf_blk_build(&r, HF_BLK_NSEG255, &REFS, &d, 12, ind, &rd), 0);
	memcpy(&q, RING_GET_REQUEST(&r, 1), sizeof(q));
	assert_int_equal(q.nr_segments, 255);
	assert_int_equal(hf_blk_build(&r, HF_BLK_IND_BAD_SEG, &REFS, &d, 13, ind, &rd), 0);
	memcpy(&qi, RING_GET_REQUEST(&r, 2), sizeof(qi));
	assert_int_equal(qi.operation, BLKIF_OP_INDIRECT);
	assert_int_equal(qi.indirect_op, BLKIF_OP_READ);
	assert_int_equal(qi.nr_segments, 1);
	assert_int_equal(qi.indirect_grefs[0], 14);
	assert_int_equal(qi.id, 13);
	memcpy(&s, ind, sizeof(s));
	assert_int_equal(s.gref, HF_REF_OUT_OF_RANGE);
	assert_int_equal(hf_blk_build(&r, HF_BLK_IND_BAD_PAGE, &REFS, &d, 14, ind, &rd), 0);
	memcpy(&qi, RING_GET_REQUEST(&r, 3), sizeof(qi));
	assert_int_equal(qi.indirect_grefs[0], HF_REF_OUT_OF_RANGE);
	/* A write is hostile on a read-only disk only. */
	assert_true(hf_blk_bad(HF_BLK_WRITE_RO_DISK, &d));
	d.readonly = false;
	assert_false(hf_blk_bad(HF_BLK_WRITE_RO_DISK, &d));
	assert_false(hf_blk_bad(HF_BLK_GOOD, &d));
	for (unsigned a = HF_BLK_BAD_OP; a < HF_BLK__COUNT; a++)
		if (a != HF_BLK_WRITE_RO_DISK)
			assert_true(hf_blk_bad(a, &d));
	free(page);
	free(ind);
}

/* ---- against vmm/net/netback.c ---- */

#define NDATA_PAGE 10

struct nt {
	struct net_fake f;
	struct netback *nb;
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	struct hf_refs refs;
	uint8_t buf[NETBACK_MAX_FRAME];
};

static struct nt *net_setup(void)
{
	struct nt *t = calloc(1, sizeof(*t));
	struct netback_config c;
	grant_entry_v1_t *e;

	assert_non_null(t);
	assert_int_equal(nf_init(&t->f), 0);
	t->refs = REFS;
	nf_grant(&t->f, REFS.data, NDATA_PAGE, false);
	nf_grant(&t->f, REFS.data2, NDATA_PAGE + 1, false);
	nf_grant(&t->f, REFS.ro, NDATA_PAGE + 2, true);
	/* Granted, but to domain 5. */
	nf_grant(&t->f, REFS.other_dom, NDATA_PAGE + 3, false);
	e = (grant_entry_v1_t *)t->f.frames + REFS.other_dom;
	e->domid = 5;
	hf_frame(nf_page(&t->f, NDATA_PAGE), MAC);
	/* As hostfront starts its rings: the frontend's view over the page
	 * nf_init gave the back end. */
	FRONT_RING_INIT(&t->tx, nf_txs(&t->f), HF_PAGE);
	FRONT_RING_INIT(&t->rx, nf_rxs(&t->f), HF_PAGE);
	c = nf_config(&t->f, 0);
	assert_int_equal(netback_create(&c, &t->nb), 0);
	return t;
}

static void net_teardown(struct nt *t)
{
	netback_destroy(t->nb);
	assert_int_equal(t->f.core.holds, 0);
	nf_fini(&t->f);
	free(t);
}

static void tx_push(struct nt *t)
{
	__atomic_store_n(&t->tx.sring->req_prod, t->tx.req_prod_pvt, __ATOMIC_RELEASE);
	netback_tx(t->nb, NETBACK_BUDGET);
}

/* One round as hostfront runs it: build, push, kick, check, consume. */
static void tx_round(struct nt *t, enum hf_tx_attack a, uint16_t id)
{
	struct hf_round rd;
	char why[160] = "";
	RING_IDX prod;

	assert_int_equal(hf_tx_build(&t->tx, a, &t->refs, id, &rd), 0);
	tx_push(t);
	prod = __atomic_load_n(&t->tx.sring->rsp_prod, __ATOMIC_ACQUIRE);
	if (hf_answered(prod, &rd) != rd.n)
		fail_msg("%s: %u of %u slots answered", hf_tx_name(a), hf_answered(prod, &rd), rd.n);
	if (hf_tx_check(&t->tx, &rd, why, sizeof(why)) < 0)
		fail_msg("%s: %s", hf_tx_name(a), why);
	t->tx.rsp_cons = rd.start + rd.n;
}

static void test_netback_tx(void **state)
{
	struct nt *t = net_setup();
	struct virtio_net_hdr h;
	unsigned bad = 0;
	RING_IDX before;

	(void)state;
	for (unsigned a = 0; a < HF_TX__COUNT; a++) {
		tx_round(t, a, (uint16_t)(a * 32));
		bad += a != HF_TX_GOOD;
		/* The control after each: sent to the TAP, intact. */
		tx_round(t, HF_TX_GOOD, (uint16_t)(a * 32 + 30));
		assert_int_equal(nf_host_recv(&t->f, &h, t->buf, sizeof(t->buf)), HF_FRAME_LEN);
		assert_memory_equal(t->buf, nf_page(&t->f, NDATA_PAGE), HF_FRAME_LEN);
		if (a == HF_TX_GOOD)
			assert_int_equal(nf_host_recv(&t->f, &h, t->buf, sizeof(t->buf)), HF_FRAME_LEN);
	}
	/* Nothing hostile reached the TAP. */
	assert_int_equal(nf_host_recv(&t->f, &h, t->buf, sizeof(t->buf)), -1);
	assert_int_equal(netback_stats(t->nb).tx_errors, bad);
	assert_int_equal(netback_stats(t->nb).tx_packets, HF_TX__COUNT + 1);

	/* req_prod two laps ahead: nothing answered, counted; put back, the
	 * control goes through. */
	before = t->tx.sring->rsp_prod;
	__atomic_store_n(&t->tx.sring->req_prod, hf_overflow_prod(before, RING_SIZE(&t->tx)), __ATOMIC_RELEASE);
	netback_tx(t->nb, NETBACK_BUDGET);
	assert_int_equal(t->tx.sring->rsp_prod, before);
	assert_int_equal(netback_stats(t->nb).bad_index, 1);
	tx_round(t, HF_TX_GOOD, 999);
	assert_int_equal(nf_host_recv(&t->f, &h, t->buf, sizeof(t->buf)), HF_FRAME_LEN);
	net_teardown(t);
}

static void test_netback_rx(void **state)
{
	struct nt *t = net_setup();
	struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	struct hf_round rd;
	char why[160] = "";
	uint8_t frame[HF_FRAME_LEN];
	unsigned got;

	(void)state;
	hf_frame(frame, MAC);
	/* No buffers: a frame from the host waits (or goes); nothing written. */
	assert_int_equal(nf_host_send(&t->f, &h, frame, sizeof(frame)), 0);
	assert_int_equal(netback_rx(t->nb, NETBACK_BUDGET), NETBACK_RX_NO_BUFFERS);
	assert_int_equal(t->rx.sring->rsp_prod, 0);

	/* Buffers with bad grefs (hostfront's four rx rounds): each frame
	 * answered ERROR; the first takes the frame kept above. */
	{
		const uint32_t bad[] = { HF_REF_OUT_OF_RANGE, HF_REF_NEVER_GRANTED, REFS.other_dom, REFS.ro };

		for (unsigned b = 0; b < 4; b++) {
			assert_int_equal(hf_rx_build(&t->rx, bad[b], 2, (uint16_t)(b * 2), true, &rd), 0);
			__atomic_store_n(&t->rx.sring->req_prod, t->rx.req_prod_pvt, __ATOMIC_RELEASE);
			for (int i = 0; i < (b == 0 ? 1 : 2); i++)
				assert_int_equal(nf_host_send(&t->f, &h, frame, sizeof(frame)), 0);
			netback_rx(t->nb, NETBACK_BUDGET);
			got = hf_answered(t->rx.sring->rsp_prod, &rd);
			assert_int_equal(got, 2);
			if (hf_rx_check(&t->rx, &rd, got, why, sizeof(why)) < 0)
				fail_msg("rx bad gref %u: %s", bad[b], why);
			t->rx.rsp_cons = rd.start + got;
		}
	}
	assert_int_equal(netback_stats(t->nb).rx_errors, 8);

	/* The checker refuses data in a bad round. */
	rd.bad = true;
	{
		netif_rx_response_t p = { .id = rd.id[0], .status = 60 };

		memcpy(RING_GET_RESPONSE(&t->rx, rd.start), &p, sizeof(p));
		assert_int_equal(hf_rx_check(&t->rx, &rd, 1, why, sizeof(why)), -EPROTO);
	}

	/* Good buffers: the next frame lands. */
	assert_int_equal(hf_rx_build(&t->rx, REFS.data2, 2, 10, false, &rd), 0);
	__atomic_store_n(&t->rx.sring->req_prod, t->rx.req_prod_pvt, __ATOMIC_RELEASE);
	assert_int_equal(nf_host_send(&t->f, &h, frame, sizeof(frame)), 0);
	netback_rx(t->nb, NETBACK_BUDGET);
	got = hf_answered(t->rx.sring->rsp_prod, &rd);
	assert_true(got >= 1);
	assert_int_equal(hf_rx_check(&t->rx, &rd, got, why, sizeof(why)), 0);
	{
		netif_rx_response_t p;

		memcpy(&p, RING_GET_RESPONSE(&t->rx, rd.start), sizeof(p));
		assert_int_equal(p.status, HF_FRAME_LEN);
		assert_memory_equal(nf_page(&t->f, NDATA_PAGE + 1) + p.offset, frame, HF_FRAME_LEN);
	}

	/* rx req_prod two laps ahead: counted, nothing written. */
	{
		RING_IDX before = t->rx.sring->rsp_prod;

		__atomic_store_n(&t->rx.sring->req_prod, hf_overflow_prod(before, RING_SIZE(&t->rx)),
				 __ATOMIC_RELEASE);
		assert_int_equal(nf_host_send(&t->f, &h, frame, sizeof(frame)), 0);
		netback_rx(t->nb, NETBACK_BUDGET);
		assert_int_equal(t->rx.sring->rsp_prod, before);
		assert_true(netback_stats(t->nb).bad_index >= 1);
	}
	net_teardown(t);
}

/* ---- against vmm/blk/blkback.c ---- */

#define BDATA_PAGE 10

struct bt {
	struct fake_guest f;
	struct blkback *b;
	blkif_front_ring_t r;
	struct hf_disk d;
};

static struct bt *blk_setup(bool readonly, unsigned max_indirect)
{
	struct bt *t = calloc(1, sizeof(*t));
	struct blkback_config c;
	grant_entry_v1_t *e;

	assert_non_null(t);
	assert_int_equal(fake_init(&t->f, 0, false, true), 0);
	fake_grant(&t->f, REFS.data, BDATA_PAGE, false);
	fake_grant(&t->f, REFS.data2, BDATA_PAGE + 1, false);
	fake_grant(&t->f, REFS.ro, BDATA_PAGE + 2, true);
	fake_grant(&t->f, REFS.other_dom, BDATA_PAGE + 3, false);
	e = (grant_entry_v1_t *)t->f.frames + REFS.other_dom;
	e->domid = 5;
	fake_grant(&t->f, REFS.indirect, BDATA_PAGE + 4, false);
	FRONT_RING_INIT(&t->r, fake_sring(&t->f), HF_PAGE);
	c = fake_config(&t->f);
	c.backend.readonly = readonly;
	c.max_indirect_segs = max_indirect;
	t->d = (struct hf_disk){ .sectors = c.backend.sectors, .readonly = readonly, .max_indirect = max_indirect };
	assert_int_equal(blkback_create(&c, &t->b), 0);
	return t;
}

static void blk_teardown(struct bt *t)
{
	blkback_destroy(t->b);
	assert_int_equal(t->f.core.holds, 0);
	fake_fini(&t->f);
	free(t);
}

static void blk_round(struct bt *t, enum hf_blk_attack a, uint64_t id)
{
	struct hf_round rd;
	char why[160] = "";

	assert_int_equal(hf_blk_build(&t->r, a, &REFS, &t->d, id, fake_page(&t->f, BDATA_PAGE + 4), &rd), 0);
	fake_push(&t->f, t->r.req_prod_pvt);
	blkback_kick(t->b);
	for (int spins = 0; hf_answered(fake_rsp_prod(&t->f), &rd) < rd.n; spins++) {
		struct pollfd p = { .fd = blkback_io_fd(t->b), .events = POLLIN };

		assert_true(spins < 100);
		assert_int_equal(poll(&p, 1, 5000), 1);
		blkback_on_io(t->b);
	}
	if (hf_blk_check(&t->r, &rd, why, sizeof(why)) < 0)
		fail_msg("%s: %s", hf_blk_name(a), why);
	t->r.rsp_cons = rd.start + rd.n;
}

static void blk_all(bool readonly, unsigned max_indirect)
{
	struct bt *t = blk_setup(readonly, max_indirect);
	unsigned bad = 0;
	RING_IDX before;

	for (unsigned a = 0; a < HF_BLK__COUNT; a++) {
		blk_round(t, a, 1000 + a);
		bad += hf_blk_bad(a, &t->d);
		blk_round(t, HF_BLK_GOOD, 2000 + a);
	}
	assert_int_equal(blkback_stats(t->b).errors + blkback_stats(t->b).unsupported, bad);
	assert_false(blkback_stats(t->b).closed);
	/* The last attack: req_prod two laps ahead closes the ring; nothing
	 * answered after it. */
	before = fake_rsp_prod(&t->f);
	fake_push(&t->f, hf_overflow_prod(before, RING_SIZE(&t->r)));
	blkback_kick(t->b);
	assert_true(blkback_stats(t->b).closed);
	assert_int_equal(fake_rsp_prod(&t->f), before);
	blk_teardown(t);
}

static void test_blkback_rw_indirect(void **state)
{
	(void)state;
	blk_all(false, BLKBACK_MAX_INDIRECT_SEGS);
}

static void test_blkback_ro(void **state)
{
	(void)state;
	blk_all(true, 32);
}

static void test_blkback_no_indirect(void **state)
{
	(void)state;
	blk_all(false, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_layouts),
		cmocka_unit_test(test_tx_checker),
		cmocka_unit_test(test_blk_layouts),
		cmocka_unit_test(test_netback_tx),
		cmocka_unit_test(test_netback_rx),
		cmocka_unit_test(test_blkback_rw_indirect),
		cmocka_unit_test(test_blkback_ro),
		cmocka_unit_test(test_blkback_no_indirect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
