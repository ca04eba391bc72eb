/* Where a frame's TCP or UDP checksum lies, from its headers, as Linux's
 * skb_checksum_setup() (net/core/skbuff.c) finds it for netback's
 * checksum_setup(): Ethernet (no VLAN tag: skb->protocol is then 802.1Q
 * and Linux refuses), IPv4 that is not a fragment, or IPv6 through its
 * hop-by-hop, routing, destination and AH headers and an unfragmented
 * fragment header; TCP or UDP.  Plain functions over a local copy of the
 * frame. */
#ifndef DOMUS_VMM_NET_CSUM_H
#define DOMUS_VMM_NET_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_l4 {
	uint16_t start;  /* the L4 header's offset in the frame (csum_start) */
	uint16_t offset; /* the checksum's offset in it (csum_offset) */
	uint8_t proto;   /* IPPROTO_TCP or IPPROTO_UDP */
	bool ipv6;
	uint16_t hdr_len; /* start + the TCP header's length (doff); start + 8 for UDP */
};

/* 0, or -EPROTO for a frame whose checksum Linux would not set up.
 * recalculate: write the pseudo-header sum into the checksum field (what
 * a CHECKSUM_PARTIAL frame carries there; netback asks for it when a GSO
 * frame came without NETTXF_csum_blank). */
int net_csum_setup(uint8_t *frame, size_t len, bool recalculate, struct net_l4 *out);
/* Compute the Internet checksum of frame[start, len) (whose field at
 * start + offset holds the pseudo-header sum, as VIRTIO_NET_HDR_F_NEEDS_CSUM
 * says) and store it there.  -EINVAL when the field is not inside. */
int net_csum_complete(uint8_t *frame, size_t len, size_t start, size_t offset);

#endif
