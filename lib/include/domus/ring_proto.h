/* The ring hand-over between a domain's monitor (domus-vmm) and xenstored:
 * docs/xenstored.md describes it in full.  In short, the monitor connects to
 * the guest socket (SOCK_SEQPACKET), sends one struct xsd_ring_attach with
 * three descriptors in SCM_RIGHTS - the guest-memory memfd (sealed against
 * shrinking), an eventfd the monitor signals when the guest notifies the
 * xenstore event channel, and an eventfd xenstored signals to notify the
 * guest - and gets one struct xsd_ring_reply.  The monitor keeps the socket
 * open for the domain's lifetime; closing it detaches the ring. */
#ifndef DOMUS_RING_PROTO_H
#define DOMUS_RING_PROTO_H

#include <stdint.h>

#define XSD_RING_MAGIC 0x41525358u /* "XSRA" little-endian */
#define XSD_RING_VERSION 1u

/* The guest is already running and using the ring (xenstored restarted or
 * the monitor reconnects): keep the ring's indexes as they are. */
#define XSD_RING_RECONNECT 1u

struct xsd_ring_attach {
	uint32_t magic;
	uint32_t version;
	uint32_t domid;	 /* 1 .. DOMID_FIRST_RESERVED-1 */
	uint32_t flags;	 /* XSD_RING_* */
	uint64_t offset; /* page-aligned offset of the ring page in the memfd */
};

struct xsd_ring_reply {
	int32_t status; /* 0 or -errno */
	uint32_t reserved;
};

enum { XSD_RING_FD_MEM, XSD_RING_FD_KICK_IN, XSD_RING_FD_KICK_OUT, XSD_RING_NFDS };

#endif
