/* The guest and monitor sides of a xenstore ring, simulated on shared
 * memory for tests (no VM): the monitor hands xenstored a memfd page and two
 * eventfds (domus/ring_proto.h); the guest writes requests into the page's
 * struct xenstore_domain_interface and reads replies. */
#ifndef XS_GUESTSIM_H
#define XS_GUESTSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

struct guest {
	unsigned domid;
	int mon;		/* hand-over socket */
	int memfd;
	int kick_in, kick_out;	/* as xenstored sees them */
	struct xenstore_domain_interface *intf;
	uint32_t req_id;
	bool linux_kicks; /* kick as Linux does, not after every write */
};

/* Guest memory and event channels; then hand them to xenstored. */
int guest_init(struct guest *g, unsigned domid);
int guest_handover(struct guest *g, const char *gsock, uint32_t flags);
void guest_kick(struct guest *g);
int guest_put(struct guest *g, const void *p, size_t n);
int guest_send(struct guest *g, uint32_t type, const void *body, uint32_t len);
int guest_send_tx(struct guest *g, uint32_t type, uint32_t tx_id, const void *body, uint32_t len);
/* Next message within timeout_ms: its type, body NUL-terminated in buf
 * (XENSTORE_PAYLOAD_MAX + 1 bytes); -1 on timeout. */
/* The next n bytes of the response ring within timeout_ms (-1: timeout). */
int guest_get(struct guest *g, void *p, size_t n, int timeout_ms);
int guest_recv(struct guest *g, char *buf, int timeout_ms);
int guest_call(struct guest *g, uint32_t type, const char *body, uint32_t len, char *buf);

#endif
