/* The guest's XenStore ring, handed to the host's xenstored (docs/xenstored.md):
 * xenstored reads and writes the ring page in our memfd directly; we only pass
 * notifications.  The guest's EVTCHNOP_send on the store port signals
 * kick_in in kernel (KVM EVTCHN attr); xenstored signals kick_out and the
 * event loop raises the port in the guest.
 *
 * When xenstored goes away (stop and start, kill -9, an upgrade in place:
 * the hand-over socket closes on exec) the ring stays in guest memory and
 * the link hands it over again by itself, with XSD_RING_RECONNECT, retrying
 * until the socket answers: the guest waits, its kicks kept in kick_in. */
#ifndef DOMUS_VMM_XS_LINK_H
#define DOMUS_VMM_XS_LINK_H

#include <stdint.h>
#include <sys/un.h>

struct vm;
struct evl;
struct evl_src;

enum xs_link_state {
	XS_LINK_UP,      /* xenstored has the ring */
	XS_LINK_DOWN,    /* no socket: retrying on the timer */
	XS_LINK_WAITING, /* a hand-over sent, its answer awaited */
};

struct xs_link {
	struct vm *vm;
	int sock;     /* SOCK_SEQPACKET to xenstored, open while it has the ring */
	int kick_in;  /* guest -> xenstored */
	int kick_out; /* xenstored -> guest */
	uint32_t port;
	struct evl *loop;
	struct evl_src *kick_src, *sock_src, *retry_src;
	enum xs_link_state state;
	unsigned retry_ms;   /* between connection attempts */
	unsigned answer_ms;  /* for xenstored's answer to a hand-over */
	unsigned tries;      /* attempts since the ring was lost */
	unsigned reattached; /* times the ring was handed over again */
	/* Called on the loop thread each time the ring is xenstored's again:
	 * the monitor's other xenstore clients (its back ends) reconnect. */
	void (*on_reattach)(void *ctx);
	void *reattach_ctx;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

#define XS_LINK_RETRY_MS 200
#define XS_LINK_ANSWER_MS 10000
#define XS_LINK_INIT                                                                          \
	{ .sock = -1, .kick_in = -1, .kick_out = -1, .retry_ms = XS_LINK_RETRY_MS,             \
	  .answer_ms = XS_LINK_ANSWER_MS }

/* Hands the ring to xenstored (waits up to answer_ms for its answer). */
int xs_link_attach(struct xs_link *l, struct vm *vm, struct evl *loop, const char *guest_socket);
/* Serve kick_out, watch the socket and hand the ring over again when it
 * closes / stop that (the ring and its descriptors stay). */
int xs_link_start(struct xs_link *l);
void xs_link_quiesce(struct xs_link *l);
void xs_link_stop(struct xs_link *l);

#endif
