/* Checksum setup from a frame's headers (net_csum.h). */
#include "net/net_csum.h"

#include <errno.h>
#include <netinet/in.h>

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (; len > 1; p += 2, len -= 2)
		sum += be16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* skb_checksum_setup_ip: TCP needs its 20-byte header, UDP its 8. */
static int l4(uint8_t *f, size_t len, uint8_t proto, size_t off, struct net_l4 *o)
{
	if (proto == IPPROTO_TCP) {
		size_t doff;

		if (off + 20 > len)
			return -EPROTO;
		doff = (size_t)(f[off + 12] >> 4) * 4;
		*o = (struct net_l4){ .start = (uint16_t)off, .offset = 16, .proto = proto,
				      .hdr_len = (uint16_t)(off + (doff >= 20 && off + doff <= len ? doff : 20)) };
		return 0;
	}
	if (proto == IPPROTO_UDP) {
		if (off + 8 > len)
			return -EPROTO;
		*o = (struct net_l4){ .start = (uint16_t)off, .offset = 6, .proto = proto,
				      .hdr_len = (uint16_t)(off + 8) };
		return 0;
	}
	return -EPROTO;
}

static void put_pseudo(uint8_t *f, const struct net_l4 *o, uint32_t sum)
{
	uint16_t v = fold(sum);

	f[o->start + o->offset] = (uint8_t)(v >> 8);
	f[o->start + o->offset + 1] = (uint8_t)v;
}

static int ipv4(uint8_t *f, size_t len, bool recalc, struct net_l4 *o)
{
	const size_t ip = ETH_HLEN;
	size_t ihl;
	int rc;

	if (ip + 20 > len || (f[ip] >> 4) != 4)
		return -EPROTO;
	ihl = (size_t)(f[ip] & 15) * 4;
	if (ihl < 20 || ip + ihl > len)
		return -EPROTO;
	/* ip_is_fragment: MF or a fragment offset */
	if (be16(f + ip + 6) & 0x3fff)
		return -EPROTO;
	rc = l4(f, len, f[ip + 9], ip + ihl, o);
	if (rc == 0 && recalc) {
		/* ~csum_tcpudp_magic(saddr, daddr, skb->len - off, proto, 0):
		 * skb->len counts from the IP header. */
		uint32_t s = sum16(f + ip + 12, 8, 0) + f[ip + 9] + (uint32_t)(len - ip - ihl);

		put_pseudo(f, o, s);
	}
	return rc;
}

static int ipv6(uint8_t *f, size_t len, bool recalc, struct net_l4 *o)
{
	const size_t ip = ETH_HLEN;
	size_t off = 40, plen;
	uint8_t next;
	bool done = false;
	int rc;

	if (ip + 40 > len || (f[ip] >> 4) != 6)
		return -EPROTO;
	next = f[ip + 6];
	plen = 40 + be16(f + ip + 4);
	while (off <= plen && !done) {
		const uint8_t *h = f + ip + off;

		switch (next) {
		case IPPROTO_DSTOPTS:
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
			if (ip + off + 2 > len)
				return -EPROTO;
			next = h[0];
			off += ((size_t)h[1] + 1) << 3; /* ipv6_optlen */
			break;
		case IPPROTO_AH:
			if (ip + off + 12 > len) /* sizeof(struct ip_auth_hdr) */
				return -EPROTO;
			next = h[0];
			off += ((size_t)h[1] + 2) << 2; /* ipv6_authlen */
			break;
		case IPPROTO_FRAGMENT:
			if (ip + off + 8 > len)
				return -EPROTO;
			/* IP6_OFFSET | IP6_MF */
			if (be16(h + 2) & 0xfff9)
				return -EPROTO;
			next = h[0];
			off += 8;
			break;
		default:
			done = true;
		}
	}
	if (!done)
		return -EPROTO;
	rc = l4(f, len, next, ip + off, o);
	if (rc == 0) {
		o->ipv6 = true;
		if (recalc) {
			/* ~csum_ipv6_magic(saddr, daddr, skb->len - off, nexthdr, 0) */
			uint32_t l = (uint32_t)(len - ip - off);
			uint32_t s = sum16(f + ip + 8, 32, 0) + (l >> 16) + (l & 0xffff) + next;

			put_pseudo(f, o, s);
		}
	}
	return rc;
}

int net_csum_setup(uint8_t *frame, size_t len, bool recalculate, struct net_l4 *out)
{
	if (len < ETH_HLEN)
		return -EPROTO;
	switch (be16(frame + 12)) {
	case ETH_P_IP:
		return ipv4(frame, len, recalculate, out);
	case ETH_P_IPV6:
		return ipv6(frame, len, recalculate, out);
	default:
		return -EPROTO;
	}
}

int net_csum_complete(uint8_t *frame, size_t len, size_t start, size_t offset)
{
	uint16_t c;

	if (start > len || offset > len - start || len - start - offset < 2)
		return -EINVAL;
	/* The field holds the pseudo-header sum: sum it with the rest. */
	c = (uint16_t)~fold(sum16(frame + start, len - start, 0));
	/* skb_checksum_help: a sum of 0 goes out as CSUM_MANGLED_0 (UDP's 0
	 * means none; for TCP both are the same in ones' complement). */
	if (c == 0)
		c = 0xffff;
	frame[start + offset] = (uint8_t)(c >> 8);
	frame[start + offset + 1] = (uint8_t)c;
	return 0;
}
