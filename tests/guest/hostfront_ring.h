/* hostfront's pure part: the hostile frontend's requests, built into a
 * netif or blkif front ring (any memory: the granted page in the guest, a
 * fake guest's page in the host's unit tests), and the check of what the
 * back end answered.  No I/O here: hostfront.c grants the pages, binds the
 * event channel and talks to xenstore.
 *
 * Each attack is one "round": the slots it writes (hf_round records their
 * ids and kinds) and what a sane back end answers: for a hostile round no
 * slot OKAY (the first NETIF_RSP_ERROR or _DROPPED, extras
 * NETIF_RSP_NULL; a blkif request BLKIF_RSP_ERROR or _EOPNOTSUPP), for
 * the control round OKAY.  Linux 6.1's xen-netback makes several of these
 * fatal for the whole vif instead (xenvif_fatal_tx_err); domus answers
 * them per packet (docs/netback.md "tx"). */
#ifndef DOMUS_TESTS_GUEST_HOSTFRONT_RING_H
#define DOMUS_TESTS_GUEST_HOSTFRONT_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ring.h wants the barriers from its includer. */
#ifndef mb
#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>

#define HF_PAGE 4096u
/* A ref beyond any grant table (Xen's and domus's are far smaller). */
#define HF_REF_OUT_OF_RANGE 0xfffffff0u
/* A reserved ref (0..7: GNTTAB_NR_RESERVED_ENTRIES) that no one grants:
 * the toolstack uses 0 (console) and 1 (xenstore) only. */
#define HF_REF_NEVER_GRANTED 6u
/* The payload's EtherType: IEEE 802 local experimental, so that the
 * control frames the bridge sees harm no one. */
#define HF_ETHERTYPE 0x88b5u
#define HF_FRAME_LEN 60u

/* The pages the attacks use, granted by the caller. */
struct hf_refs {
	uint32_t data;      /* read-write to domain 0: frames, read buffers */
	uint32_t data2;     /* another read-write page */
	uint32_t ro;        /* read-only to domain 0 */
	uint32_t indirect;  /* the indirect segment page (read-write) */
	uint32_t other_dom; /* granted to a domain that is not 0 */
	uint32_t ungranted; /* in range, never granted */
	uint32_t out_of_range;
};

/* What one round wrote and what it must get back. */
#define HF_ROUND_MAX 64
struct hf_round {
	RING_IDX start;          /* the first slot's index */
	unsigned n;              /* slots written */
	bool bad;                /* a hostile round */
	bool expect_none;        /* no response at all (a bogus req_prod) */
	uint64_t id[HF_ROUND_MAX];
	bool extra[HF_ROUND_MAX]; /* an extra-info slot (answered NULL) */
};

/* ---- netif tx ---- */

enum hf_tx_attack {
	HF_TX_GOOD,            /* a 60-byte frame in one slot: the control */
	HF_TX_REF_RANGE,       /* a gref beyond the grant table */
	HF_TX_REF_UNGRANTED,   /* a gref never granted */
	HF_TX_REF_OTHER_DOM,   /* a gref granted to another domain */
	HF_TX_OFFSET_PAST,     /* offset + size past the page */
	HF_TX_SIZE_ZERO,       /* size 0 */
	HF_TX_SIZE_MAX,        /* size 65535 in one slot */
	HF_TX_TOO_MANY_SLOTS,  /* 1 + 19 slots (XEN_NETBK_LEGACY_SLOTS_MAX 18, MAX_SKB_FRAGS 17) */
	HF_TX_FIRST_SMALLER,   /* a following slot larger than the first's size */
	HF_TX_SHORT_HEAD,      /* the first slot keeps less than an Ethernet header */
	HF_TX_PARTIAL,         /* more_data on the last slot pushed */
	HF_TX_EXTRA_NONE,      /* an extra of type 0 */
	HF_TX_EXTRA_UNKNOWN,   /* an extra of type XEN_NETIF_EXTRA_TYPE_MAX */
	HF_TX_GSO_SIZE0,       /* a GSO extra with size 0 */
	HF_TX_GSO_BADTYPE,     /* a GSO extra of an unknown GSO type */
	HF_TX_GSO_NOT_TCP,     /* a valid TCPv4 GSO extra on a non-IP frame */
	HF_TX_EXTRA_CHAIN,     /* extras whose MORE flag runs past req_prod */
	HF_TX_EXTRA_DUP,       /* two GSO extras, the second bad */
	HF_TX__COUNT
};

const char *hf_tx_name(enum hf_tx_attack a);
/* The control frame (HF_FRAME_LEN bytes) hostfront writes at offset 0 of
 * the data page: broadcast destination, src_mac, HF_ETHERTYPE. */
void hf_frame(uint8_t *buf, const uint8_t src_mac[6]);
/* Write attack a at r->req_prod_pvt (advanced; not pushed), with request
 * ids from id0 on; *round says what was written.  0 or -ENOSPC (the ring
 * has no room: the caller's bug). */
int hf_tx_build(netif_tx_front_ring_t *r, enum hf_tx_attack a, const struct hf_refs *refs, uint16_t id0,
		struct hf_round *round);

/* ---- netif rx ---- */

/* Post n rx requests (ids from id0) with gref at r->req_prod_pvt (not
 * pushed).  A hostile round if gref is bad: a frame that comes answers each
 * used slot NETIF_RSP_ERROR (or drops the frame). */
int hf_rx_build(netif_rx_front_ring_t *r, uint32_t gref, unsigned n, uint16_t id0, bool bad,
		struct hf_round *round);

/* ---- blkif ---- */

enum hf_blk_attack {
	HF_BLK_GOOD,           /* a one-page read of sector 0: the control */
	HF_BLK_BAD_OP,         /* operation 0x7f */
	HF_BLK_RESERVED_OP,    /* BLKIF_OP_RESERVED_1 */
	HF_BLK_NSEG0,          /* a read with 0 segments */
	HF_BLK_NSEG12,         /* a read with 12 segments */
	HF_BLK_NSEG255,        /* a read with 255 segments */
	HF_BLK_FIRST_GT_LAST,  /* first_sect 5 > last_sect 2 */
	HF_BLK_LAST8,          /* last_sect 8 */
	HF_BLK_PAST_END,       /* sector_number = the disk's size */
	HF_BLK_WRAP,           /* sector_number near 2^64 */
	HF_BLK_REF_RANGE,      /* a segment gref beyond the grant table */
	HF_BLK_REF_UNGRANTED,  /* a segment gref never granted */
	HF_BLK_REF_OTHER_DOM,  /* a segment gref granted to another domain */
	HF_BLK_READ_INTO_RO,   /* a read into a page granted read-only */
	HF_BLK_WRITE_RO_DISK,  /* a write (of a good page): an error on a read-only disk only */
	HF_BLK_IND_NSEG0,      /* indirect, 0 segments */
	HF_BLK_IND_NSEG_BIG,   /* indirect, 4096 segments */
	HF_BLK_IND_BAD_PAGE,   /* indirect, its page's gref beyond the table */
	HF_BLK_IND_BAD_SEG,    /* indirect, a segment in the page naming a bad gref */
	HF_BLK_IND_BAD_SECT,   /* indirect, a segment with last_sect 9 */
	HF_BLK_IND_BAD_OP,     /* indirect around a flush */
	HF_BLK__COUNT
};

/* What the back end offered (its keys). */
struct hf_disk {
	uint64_t sectors;      /* "sectors", 512-byte units */
	bool readonly;         /* "mode" r */
	unsigned max_indirect; /* "feature-max-indirect-segments", 0: none */
};

const char *hf_blk_name(enum hf_blk_attack a);
/* Whether attack a is hostile on this disk (a write is one on a read-only
 * disk only). */
bool hf_blk_bad(enum hf_blk_attack a, const struct hf_disk *d);
/* Write attack a at r->req_prod_pvt (not pushed), request id id.  The
 * indirect attacks write their segment table into indirect_page (the page
 * refs->indirect grants).  0 or -ENOSPC. */
int hf_blk_build(blkif_front_ring_t *r, enum hf_blk_attack a, const struct hf_refs *refs, const struct hf_disk *d,
		 uint64_t id, uint8_t *indirect_page, struct hf_round *round);

/* ---- responses ---- */

/* How many of the round's responses the ring has (rsp_prod read once). */
unsigned hf_answered(RING_IDX rsp_prod, const struct hf_round *round);
/* 0 when responses [round->start, +n) are what the round expects, else
 * -EPROTO and a reason in why (at most len bytes).  Each checker copies
 * the response slots it reads, as anything shared with the back end. */
int hf_tx_check(const netif_tx_front_ring_t *r, const struct hf_round *round, char *why, size_t len);
/* rx: a bad round's answered slots must not be OKAY with data; a good
 * round's answered slots carry data (status > 0) or an error. */
int hf_rx_check(const netif_rx_front_ring_t *r, const struct hf_round *round, unsigned answered, char *why,
		size_t len);
int hf_blk_check(const blkif_front_ring_t *r, const struct hf_round *round, char *why, size_t len);

/* A req_prod that claims more requests than the ring holds (two laps past
 * the responses): ring.h's RING_REQUEST_PROD_OVERFLOW for any back end. */
RING_IDX hf_overflow_prod(RING_IDX rsp_prod, RING_IDX ring_size);

#endif
