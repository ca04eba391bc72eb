/* The guest's XenStore ring, handed to the host's xenstored (docs/xenstored.md):
 * xenstored reads and writes the ring page in our memfd directly; we only pass
 * notifications.  The guest's EVTCHNOP_send on the store port signals
 * kick_in in kernel (KVM EVTCHN attr); xenstored signals kick_out and the
 * event loop raises the port in the guest. */
#ifndef DOMUS_VMM_XS_LINK_H
#define DOMUS_VMM_XS_LINK_H

#include <stdint.h>

struct vm;
struct evl;
struct evl_src;

struct xs_link {
	struct vm *vm;
	int sock;     /* SOCK_SEQPACKET to xenstored, open for the domain's life */
	int kick_in;  /* guest -> xenstored */
	int kick_out; /* xenstored -> guest */
	uint32_t port;
	struct evl *loop;
	struct evl_src *kick_src, *sock_src;
};

#define XS_LINK_INIT { .sock = -1, .kick_in = -1, .kick_out = -1 }

/* Hands the ring to xenstored (waits up to 10 s for its answer). */
int xs_link_attach(struct xs_link *l, struct vm *vm, struct evl *loop, const char *guest_socket);
/* Serve kick_out and watch the socket on the loop / stop that. */
int xs_link_start(struct xs_link *l);
void xs_link_quiesce(struct xs_link *l);
void xs_link_stop(struct xs_link *l);

#endif
