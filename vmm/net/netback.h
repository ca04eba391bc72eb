/* One queue of a netif back end (docs/netback.md): the guest's tx ring
 * (guest -> TAP) and rx ring (TAP -> guest), each one granted page mapped
 * from create (or resume) to destroy (or quiesce), and one TAP queue
 * descriptor.  Packets move by grant copy through a local buffer, as Linux
 * 6.1's drivers/net/xen-netback does for rx and for tx headers; never a
 * mapping of a data page.
 *
 * The work is bounded: netback_tx() and netback_rx() do at most `budget`
 * packets and say whether more waits, so that the caller (the event loop)
 * serves other devices in between.  Everything the guest wrote is copied
 * out once, then checked; a bad packet costs that packet (answered with
 * NETIF_RSP_ERROR and counted), a bogus ring index costs that batch
 * (counted; nothing consumed), and the queue goes on.
 *
 * Threading: none of its own; one thread at a time (the loop). */
#ifndef DOMUS_VMM_NET_NETBACK_H
#define DOMUS_VMM_NET_NETBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "net/net_gnt.h"

/* What the frontend negotiated (its keys, docs/netback.md). */
#define NETBACK_F_SG 1u        /* feature-sg: rx packets over several slots */
#define NETBACK_F_GSO_TCPV4 2u /* feature-gso-tcpv4: rx GSO extra info */
#define NETBACK_F_GSO_TCPV6 4u /* feature-gso-tcpv6 */
#define NETBACK_F_RX_CSUM 8u   /* rx csum_blank allowed (no feature-no-csum-offload, and ipv6-csum) */

/* XEN_NETBK_LEGACY_SLOTS_MAX (= XEN_NETIF_NR_SLOTS_MIN, 18): the most
 * slots after the first a tx packet may use (netback's count_requests). */
#define NETBACK_MAX_TX_FRAGS XEN_NETIF_NR_SLOTS_MIN
/* The largest frame either way: a 64 KiB GSO frame and its headers (at
 * most 17 rx slots, within netfront's XEN_NETBK_LEGACY_SLOTS_MAX + 1). */
#define NETBACK_MAX_FRAME (65536u + 256u)
#define NETBACK_BUDGET 64 /* packets per call: netback's RX_BATCH_SIZE */

enum netback_ring_id { NETBACK_TX = 0, NETBACK_RX = 1 };

struct netback_pos {
	uint32_t tx_req_cons, tx_rsp_prod_pvt, rx_req_cons, rx_rsp_prod_pvt;
};

struct netback_config {
	uint32_t tx_ref, rx_ref; /* tx-ring-ref, rx-ring-ref */
	struct net_gnt gnt;
	int tap_fd;              /* a TAP queue with IFF_VNET_HDR (or a stand-in) */
	unsigned features;       /* NETBACK_F_* */
	/* The guest wants to hear of responses on ring `which`. */
	void (*notify)(void *ctx, enum netback_ring_id which);
	void *notify_ctx;
	const struct netback_pos *pos; /* NULL: fresh rings */
	/* The vif's rate (its backend's "rate" key, BYTES,USEC): at most
	 * credit_bytes of tx every credit_usec; credit_usec 0: unlimited.
	 * now_us: a monotonic clock in microseconds (NULL: CLOCK_MONOTONIC). */
	uint64_t credit_bytes, credit_usec;
	uint64_t (*now_us)(void *ctx);
	void *now_ctx;
};

struct netback_stats {
	uint64_t tx_packets, tx_bytes;   /* guest -> TAP, written */
	uint64_t tx_errors;              /* refused packets (malformed, bad grant, bad headers) */
	uint64_t tx_dropped;             /* the TAP refused them */
	uint64_t rx_packets, rx_bytes;   /* TAP -> guest, delivered */
	uint64_t rx_dropped;             /* no rx buffers posted, or more than the frontend takes */
	uint64_t rx_errors;              /* a bad rx grant, a malformed vnet header */
	uint64_t bad_index;              /* batches refused for a req_prod past the ring */
	uint64_t rate_limited;           /* times tx stopped for want of credit */
};

struct netback;

/* Maps both rings (read-write).  0, -EINVAL (bad config), -ENOMEM or the
 * grant table's error. */
int netback_create(const struct netback_config *c, struct netback **out);
/* Quiesce (if not), then free; the TAP descriptor stays the caller's. */
void netback_destroy(struct netback *nb);

/* The guest kicked (its tx requests): up to budget packets to the TAP.
 * true when more requests wait (call again soon). */
bool netback_tx(struct netback *nb, unsigned budget);
/* After netback_tx(): 0, or the microseconds until the rate allows the
 * next packet (call netback_tx again then; a kick before changes
 * nothing). */
uint64_t netback_tx_wait_us(const struct netback *nb);
enum netback_rx_result {
	NETBACK_RX_IDLE,       /* the TAP is empty */
	NETBACK_RX_MORE,       /* the budget ran out: more may wait */
	NETBACK_RX_NO_BUFFERS, /* a frame waits for rx buffers the guest has not posted */
};
/* The TAP is readable, or the guest posted rx buffers: up to budget
 * packets to the guest.  A frame that finds too few buffers is kept (one,
 * as netback's rx_queue keeps skbs) and NO_BUFFERS returned, with the
 * ring armed so the guest's next push of rx requests notifies: stop
 * reading the TAP until then (frames wait in its queue, and the host's
 * queue limit drops what a guest that never posts buffers would be sent;
 * it costs no CPU here).  A kept frame is lost on quiesce. */
enum netback_rx_result netback_rx(struct netback *nb, unsigned budget);

/* Unmap both rings (nothing is ever in flight between calls).  Then save
 * gives the positions; resume maps the rings again. */
void netback_quiesce(struct netback *nb);
int netback_resume(struct netback *nb);
int netback_save(const struct netback *nb, struct netback_pos *pos);
struct netback_stats netback_stats(const struct netback *nb);

#endif
