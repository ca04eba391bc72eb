/* hostfront's requests and the check of the answers (hostfront_ring.h). */
#include "hostfront_ring.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(netif_tx_request_t) == 12 && sizeof(netif_extra_info_t) == 8, "netif tx slots");
_Static_assert(sizeof(blkif_request_t) == 112 && sizeof(blkif_request_indirect_t) <= 112, "blkif slots");

static const char *const tx_names[HF_TX__COUNT] = {
	[HF_TX_GOOD] = "tx-good",
	[HF_TX_REF_RANGE] = "tx-gref-out-of-range",
	[HF_TX_REF_UNGRANTED] = "tx-gref-never-granted",
	[HF_TX_REF_OTHER_DOM] = "tx-gref-other-domain",
	[HF_TX_OFFSET_PAST] = "tx-offset-past-page",
	[HF_TX_SIZE_ZERO] = "tx-size-0",
	[HF_TX_SIZE_MAX] = "tx-size-65535-one-slot",
	[HF_TX_TOO_MANY_SLOTS] = "tx-20-slots",
	[HF_TX_FIRST_SMALLER] = "tx-first-size-smaller",
	[HF_TX_SHORT_HEAD] = "tx-head-under-14",
	[HF_TX_PARTIAL] = "tx-chain-past-req-prod",
	[HF_TX_EXTRA_NONE] = "tx-extra-type-0",
	[HF_TX_EXTRA_UNKNOWN] = "tx-extra-type-max",
	[HF_TX_GSO_SIZE0] = "tx-gso-size-0",
	[HF_TX_GSO_BADTYPE] = "tx-gso-type-7",
	[HF_TX_GSO_NOT_TCP] = "tx-gso-on-non-ip",
	[HF_TX_EXTRA_CHAIN] = "tx-extra-more-past-req-prod",
	[HF_TX_EXTRA_DUP] = "tx-extra-gso-twice",
};

static const char *const blk_names[HF_BLK__COUNT] = {
	[HF_BLK_GOOD] = "blk-good-read",
	[HF_BLK_BAD_OP] = "blk-op-0x7f",
	[HF_BLK_RESERVED_OP] = "blk-op-reserved-1",
	[HF_BLK_NSEG0] = "blk-nseg-0",
	[HF_BLK_NSEG12] = "blk-nseg-12",
	[HF_BLK_NSEG255] = "blk-nseg-255",
	[HF_BLK_FIRST_GT_LAST] = "blk-first-sect-gt-last",
	[HF_BLK_LAST8] = "blk-last-sect-8",
	[HF_BLK_PAST_END] = "blk-sector-past-end",
	[HF_BLK_WRAP] = "blk-sector-wraps",
	[HF_BLK_REF_RANGE] = "blk-gref-out-of-range",
	[HF_BLK_REF_UNGRANTED] = "blk-gref-never-granted",
	[HF_BLK_REF_OTHER_DOM] = "blk-gref-other-domain",
	[HF_BLK_READ_INTO_RO] = "blk-read-into-ro-grant",
	[HF_BLK_WRITE_RO_DISK] = "blk-write",
	[HF_BLK_IND_NSEG0] = "blk-indirect-nseg-0",
	[HF_BLK_IND_NSEG_BIG] = "blk-indirect-nseg-4096",
	[HF_BLK_IND_BAD_PAGE] = "blk-indirect-page-bad-gref",
	[HF_BLK_IND_BAD_SEG] = "blk-indirect-seg-bad-gref",
	[HF_BLK_IND_BAD_SECT] = "blk-indirect-last-sect-9",
	[HF_BLK_IND_BAD_OP] = "blk-indirect-flush",
};

const char *hf_tx_name(enum hf_tx_attack a)
{
	return (unsigned)a < HF_TX__COUNT ? tx_names[a] : "tx-?";
}

const char *hf_blk_name(enum hf_blk_attack a)
{
	return (unsigned)a < HF_BLK__COUNT ? blk_names[a] : "blk-?";
}

static void why_set(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void why_set(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

void hf_frame(uint8_t *buf, const uint8_t src_mac[6])
{
	memset(buf, 0, HF_FRAME_LEN);
	memset(buf, 0xff, 6);
	memcpy(buf + 6, src_mac, 6);
	buf[12] = (uint8_t)(HF_ETHERTYPE >> 8);
	buf[13] = (uint8_t)HF_ETHERTYPE;
	memcpy(buf + 14, "domus hostfront control frame", 29);
}

RING_IDX hf_overflow_prod(RING_IDX rsp_prod, RING_IDX ring_size)
{
	return rsp_prod + 2 * ring_size;
}

unsigned hf_answered(RING_IDX rsp_prod, const struct hf_round *round)
{
	RING_IDX got = rsp_prod - round->start;

	/* A response index behind the round, or far past it, is the back
	 * end's; take it as "all there" only up to the round. */
	return got > round->n ? round->n : (unsigned)got;
}

/* ---- netif tx ---- */

static int tx_req(netif_tx_front_ring_t *r, struct hf_round *rd, uint32_t gref, uint16_t off, uint16_t flags,
		  uint16_t size)
{
	netif_tx_request_t q = { .gref = gref, .offset = off, .flags = flags, .size = size };

	if (rd->n >= HF_ROUND_MAX || RING_FULL(r))
		return -ENOSPC;
	q.id = (uint16_t)(rd->id[0] + rd->n);
	rd->id[rd->n] = q.id;
	rd->extra[rd->n++] = false;
	memcpy(RING_GET_REQUEST(r, r->req_prod_pvt), &q, sizeof(q));
	r->req_prod_pvt++;
	return 0;
}

static int tx_extra(netif_tx_front_ring_t *r, struct hf_round *rd, netif_extra_info_t e)
{
	if (rd->n >= HF_ROUND_MAX || RING_FULL(r))
		return -ENOSPC;
	rd->id[rd->n] = 0;
	rd->extra[rd->n++] = true;
	memcpy(RING_GET_REQUEST(r, r->req_prod_pvt), &e, sizeof(e));
	r->req_prod_pvt++;
	return 0;
}

static netif_extra_info_t gso(uint16_t size, uint8_t type, bool more)
{
	netif_extra_info_t e = { .type = XEN_NETIF_EXTRA_TYPE_GSO, .flags = more ? XEN_NETIF_EXTRA_FLAG_MORE : 0 };

	e.u.gso.size = size;
	e.u.gso.type = type;
	return e;
}

int hf_tx_build(netif_tx_front_ring_t *r, enum hf_tx_attack a, const struct hf_refs *refs, uint16_t id0,
		struct hf_round *rd)
{
	const uint16_t L = HF_FRAME_LEN, MORE = NETTXF_more_data, EXTRA = NETTXF_extra_info;
	netif_extra_info_t e = { 0 };
	int rc = 0;

	*rd = (struct hf_round){ .start = r->req_prod_pvt, .bad = a != HF_TX_GOOD };
	rd->id[0] = id0;
	switch (a) {
	case HF_TX_GOOD:
		rc = tx_req(r, rd, refs->data, 0, 0, L);
		break;
	case HF_TX_REF_RANGE:
		rc = tx_req(r, rd, refs->out_of_range, 0, 0, L);
		break;
	case HF_TX_REF_UNGRANTED:
		rc = tx_req(r, rd, refs->ungranted, 0, 0, L);
		break;
	case HF_TX_REF_OTHER_DOM:
		rc = tx_req(r, rd, refs->other_dom, 0, 0, L);
		break;
	case HF_TX_OFFSET_PAST:
		rc = tx_req(r, rd, refs->data, HF_PAGE - 6, 0, L);
		break;
	case HF_TX_SIZE_ZERO:
		rc = tx_req(r, rd, refs->data, 0, 0, 0);
		break;
	case HF_TX_SIZE_MAX:
		rc = tx_req(r, rd, refs->data, 0, 0, 65535);
		break;
	case HF_TX_TOO_MANY_SLOTS:
		/* 19 one-byte slots after the first, whose size counts them. */
		rc = tx_req(r, rd, refs->data, 0, MORE, L + 19);
		for (uint16_t i = 0; rc == 0 && i < 19; i++)
			rc = tx_req(r, rd, refs->data2, i, i < 18 ? MORE : 0, 1);
		break;
	case HF_TX_FIRST_SMALLER:
		rc = tx_req(r, rd, refs->data, 0, MORE, L);
		if (rc == 0)
			rc = tx_req(r, rd, refs->data2, 0, 0, 200);
		break;
	case HF_TX_SHORT_HEAD:
		rc = tx_req(r, rd, refs->data, 0, MORE, L);
		if (rc == 0)
			rc = tx_req(r, rd, refs->data2, 0, 0, L - 10);
		break;
	case HF_TX_PARTIAL:
		rc = tx_req(r, rd, refs->data, 0, MORE, 2 * L);
		if (rc == 0)
			rc = tx_req(r, rd, refs->data2, 0, MORE, L / 2);
		break;
	case HF_TX_EXTRA_NONE:
	case HF_TX_EXTRA_UNKNOWN:
		e.type = a == HF_TX_EXTRA_NONE ? XEN_NETIF_EXTRA_TYPE_NONE : XEN_NETIF_EXTRA_TYPE_MAX;
		rc = tx_req(r, rd, refs->data, 0, EXTRA, L);
		if (rc == 0)
			rc = tx_extra(r, rd, e);
		break;
	case HF_TX_GSO_SIZE0:
	case HF_TX_GSO_BADTYPE:
	case HF_TX_GSO_NOT_TCP:
		rc = tx_req(r, rd, refs->data, 0, EXTRA, L);
		if (rc == 0)
			rc = tx_extra(r, rd,
				      a == HF_TX_GSO_SIZE0     ? gso(0, XEN_NETIF_GSO_TYPE_TCPV4, false)
				      : a == HF_TX_GSO_BADTYPE ? gso(1400, 7, false)
							       : gso(1400, XEN_NETIF_GSO_TYPE_TCPV4, false));
		break;
	case HF_TX_EXTRA_CHAIN:
		/* Every extra says another follows; the last one pushed too. */
		rc = tx_req(r, rd, refs->data, 0, EXTRA, L);
		if (rc == 0)
			rc = tx_extra(r, rd, gso(1400, XEN_NETIF_GSO_TYPE_TCPV4, true));
		e = (netif_extra_info_t){ .type = XEN_NETIF_EXTRA_TYPE_HASH, .flags = XEN_NETIF_EXTRA_FLAG_MORE };
		for (int i = 0; rc == 0 && i < 3; i++)
			rc = tx_extra(r, rd, e);
		break;
	case HF_TX_EXTRA_DUP:
		rc = tx_req(r, rd, refs->data, 0, EXTRA, L);
		if (rc == 0)
			rc = tx_extra(r, rd, gso(1400, XEN_NETIF_GSO_TYPE_TCPV4, true));
		if (rc == 0)
			rc = tx_extra(r, rd, gso(0, XEN_NETIF_GSO_TYPE_TCPV4, false));
		break;
	default:
		rc = -EINVAL;
	}
	return rc;
}

int hf_tx_check(const netif_tx_front_ring_t *r, const struct hf_round *rd, char *why, size_t len)
{
	for (unsigned i = 0; i < rd->n; i++) {
		netif_tx_response_t p;

		memcpy(&p, RING_GET_RESPONSE(r, rd->start + i), sizeof(p));
		if (rd->extra[i]) {
			if (p.status != NETIF_RSP_NULL) {
				why_set(why, len, "slot %u (extra info) answered %d, not NULL", i, p.status);
				return -EPROTO;
			}
			continue;
		}
		if (p.id != rd->id[i]) {
			why_set(why, len, "slot %u answered for id %u, not %u", i, p.id, (unsigned)rd->id[i]);
			return -EPROTO;
		}
		if (!rd->bad && p.status != NETIF_RSP_OKAY) {
			why_set(why, len, "slot %u of a good packet answered %d", i, p.status);
			return -EPROTO;
		}
		if (rd->bad && p.status != NETIF_RSP_ERROR && p.status != NETIF_RSP_DROPPED) {
			why_set(why, len, "slot %u of a hostile packet answered %d, not ERROR or DROPPED", i, p.status);
			return -EPROTO;
		}
	}
	return 0;
}

/* ---- netif rx ---- */

int hf_rx_build(netif_rx_front_ring_t *r, uint32_t gref, unsigned n, uint16_t id0, bool bad, struct hf_round *rd)
{
	*rd = (struct hf_round){ .start = r->req_prod_pvt, .bad = bad };
	if (n > HF_ROUND_MAX)
		return -ENOSPC;
	for (unsigned i = 0; i < n; i++) {
		netif_rx_request_t q = { .id = (uint16_t)(id0 + i), .gref = gref };

		if (RING_FULL(r))
			return -ENOSPC;
		memcpy(RING_GET_REQUEST(r, r->req_prod_pvt), &q, sizeof(q));
		r->req_prod_pvt++;
		rd->id[rd->n++] = q.id;
	}
	return 0;
}

int hf_rx_check(const netif_rx_front_ring_t *r, const struct hf_round *rd, unsigned answered, char *why,
		size_t len)
{
	for (unsigned i = 0; i < answered && i < rd->n; i++) {
		netif_rx_response_t p;

		memcpy(&p, RING_GET_RESPONSE(r, rd->start + i), sizeof(p));
		if (p.id != rd->id[i]) {
			why_set(why, len, "rx slot %u answered for id %u, not %u", i, p.id, (unsigned)rd->id[i]);
			return -EPROTO;
		}
		if (rd->bad && p.status >= 0) {
			why_set(why, len, "rx slot %u with a bad gref answered %d bytes", i, p.status);
			return -EPROTO;
		}
		if (p.status >= 0 && (p.offset >= HF_PAGE || (unsigned)p.offset + (unsigned)p.status > HF_PAGE)) {
			why_set(why, len, "rx slot %u: %d bytes at offset %u leave the page", i, p.status, p.offset);
			return -EPROTO;
		}
	}
	return 0;
}

/* ---- blkif ---- */

bool hf_blk_bad(enum hf_blk_attack a, const struct hf_disk *d)
{
	if (a == HF_BLK_GOOD)
		return false;
	if (a == HF_BLK_WRITE_RO_DISK)
		return d->readonly;
	return true;
}

static struct blkif_request_segment seg(uint32_t gref, uint8_t first, uint8_t last)
{
	return (struct blkif_request_segment){ .gref = gref, .first_sect = first, .last_sect = last };
}

static void indirect(blkif_request_t *slot, uint8_t inner, uint16_t nseg, uint32_t page_ref, uint64_t id)
{
	blkif_request_indirect_t q = { .operation = BLKIF_OP_INDIRECT, .indirect_op = inner, .nr_segments = nseg,
				       .id = id, .sector_number = 0 };

	q.indirect_grefs[0] = page_ref;
	memset(slot, 0, sizeof(*slot));
	memcpy(slot, &q, sizeof(q));
}

int hf_blk_build(blkif_front_ring_t *r, enum hf_blk_attack a, const struct hf_refs *refs, const struct hf_disk *d,
		 uint64_t id, uint8_t *indirect_page, struct hf_round *rd)
{
	blkif_request_t q = { .operation = BLKIF_OP_READ, .nr_segments = 1, .id = id, .sector_number = 0 };
	struct blkif_request_segment s0 = seg(refs->data, 0, 7);
	bool ind = false;

	if (RING_FULL(r))
		return -ENOSPC;
	*rd = (struct hf_round){ .start = r->req_prod_pvt, .n = 1, .bad = hf_blk_bad(a, d) };
	rd->id[0] = id;
	q.seg[0] = s0;
	switch (a) {
	case HF_BLK_GOOD:
		break;
	case HF_BLK_BAD_OP:
		q.operation = 0x7f;
		break;
	case HF_BLK_RESERVED_OP:
		q.operation = BLKIF_OP_RESERVED_1;
		break;
	case HF_BLK_NSEG0:
		q.nr_segments = 0;
		break;
	case HF_BLK_NSEG12:
	case HF_BLK_NSEG255:
		/* The slot holds 11; the count says more. */
		q.nr_segments = a == HF_BLK_NSEG12 ? 12 : 255;
		for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
			q.seg[i] = s0;
		break;
	case HF_BLK_FIRST_GT_LAST:
		q.seg[0] = seg(refs->data, 5, 2);
		break;
	case HF_BLK_LAST8:
		q.seg[0] = seg(refs->data, 0, 8);
		break;
	case HF_BLK_PAST_END:
		q.sector_number = d->sectors;
		break;
	case HF_BLK_WRAP:
		q.sector_number = UINT64_MAX - 3;
		break;
	case HF_BLK_REF_RANGE:
		q.seg[0].gref = refs->out_of_range;
		break;
	case HF_BLK_REF_UNGRANTED:
		q.seg[0].gref = refs->ungranted;
		break;
	case HF_BLK_REF_OTHER_DOM:
		q.seg[0].gref = refs->other_dom;
		break;
	case HF_BLK_READ_INTO_RO:
		q.seg[0].gref = refs->ro;
		break;
	case HF_BLK_WRITE_RO_DISK:
		q.operation = BLKIF_OP_WRITE;
		break;
	case HF_BLK_IND_NSEG0:
	case HF_BLK_IND_NSEG_BIG:
	case HF_BLK_IND_BAD_PAGE:
	case HF_BLK_IND_BAD_SEG:
	case HF_BLK_IND_BAD_SECT:
	case HF_BLK_IND_BAD_OP:
		ind = true;
		break;
	default:
		return -EINVAL;
	}
	if (!ind) {
		memcpy(RING_GET_REQUEST(r, r->req_prod_pvt), &q, sizeof(q));
	} else {
		struct blkif_request_segment t = seg(a == HF_BLK_IND_BAD_SEG ? refs->out_of_range : refs->data, 0,
						     a == HF_BLK_IND_BAD_SECT ? 9 : 7);
		uint16_t n = a == HF_BLK_IND_NSEG0 ? 0 : a == HF_BLK_IND_NSEG_BIG ? 4096 : 1;

		memset(indirect_page, 0, HF_PAGE);
		memcpy(indirect_page, &t, sizeof(t));
		indirect(RING_GET_REQUEST(r, r->req_prod_pvt),
			 a == HF_BLK_IND_BAD_OP ? BLKIF_OP_FLUSH_DISKCACHE : BLKIF_OP_READ, n,
			 a == HF_BLK_IND_BAD_PAGE ? refs->out_of_range : refs->indirect, id);
	}
	r->req_prod_pvt++;
	return 0;
}

int hf_blk_check(const blkif_front_ring_t *r, const struct hf_round *rd, char *why, size_t len)
{
	blkif_response_t p;

	if (rd->n != 1)
		return -EINVAL;
	memcpy(&p, RING_GET_RESPONSE(r, rd->start), sizeof(p));
	if (p.id != rd->id[0]) {
		why_set(why, len, "answered for id %llu, not %llu", (unsigned long long)p.id,
			(unsigned long long)rd->id[0]);
		return -EPROTO;
	}
	if (!rd->bad && p.status != BLKIF_RSP_OKAY) {
		why_set(why, len, "a good request answered %d", p.status);
		return -EPROTO;
	}
	if (rd->bad && p.status != BLKIF_RSP_ERROR && p.status != BLKIF_RSP_EOPNOTSUPP) {
		why_set(why, len, "a hostile request answered %d, not ERROR or EOPNOTSUPP", p.status);
		return -EPROTO;
	}
	return 0;
}
