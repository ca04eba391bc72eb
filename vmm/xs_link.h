/* The guest's XenStore ring, handed to the host's xenstored (docs/xenstored.md):
 * xenstored reads and writes the ring page in our memfd directly; we only pass
 * notifications.  The guest's EVTCHNOP_send on the store port signals
 * kick_in in kernel (KVM EVTCHN attr); xenstored signals kick_out and our
 * thread raises the port in the guest. */
#ifndef DOMUS_VMM_XS_LINK_H
#define DOMUS_VMM_XS_LINK_H

#include <pthread.h>
#include <stdint.h>

#include "worker.h"

struct vm;

struct xs_link {
	struct vm *vm;
	int sock;     /* SOCK_SEQPACKET to xenstored, open for the domain's life */
	int kick_in;  /* guest -> xenstored */
	int kick_out; /* xenstored -> guest */
	uint32_t port;
	struct worker w;
};

int xs_link_attach(struct xs_link *l, struct vm *vm, const char *guest_socket);
int xs_link_start(struct xs_link *l);
void xs_link_stop(struct xs_link *l);

#endif
