/* What the data paths of the vbd (vbd_datapath.c) and of the vif
 * (vif_datapath.c) share: the frontend's event channels bound to eventfds
 * of ours, and the walk over their queues across a save (quiesce, then
 * resume: the rings mapped again and the queue back on the event loop).
 *
 * Threading: every call on the event loop thread, as the data paths. */
#ifndef DOMUS_VMM_XENBUS_BE_DP_H
#define DOMUS_VMM_XENBUS_BE_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a data path reaches the guest's event channels: the monitor's
 * back-end ports (vmm/be_host.c) or a test's fake. */
struct be_evtchn_ops {
	/* Bind the frontend's port with kick_fd as the back end's end: a
	 * port the guest allocated unbound for Domain 0; restored: the
	 * interdomain port a loaded table has for it (it has no eventfd yet).
	 * 0 or -errno. */
	int (*bind)(void *ctx, uint32_t port, int kick_fd, bool restored);
	/* Let go of a port bound to kick_fd (idempotent, and nothing when the
	 * guest closed or reused it meanwhile). */
	void (*unbind)(void *ctx, uint32_t port, int kick_fd);
	/* Raise the port in the guest. */
	void (*notify)(void *ctx, uint32_t port);
	/* Raise both, in one upcall where it can (evtchn_notify_guest_pair);
	 * NULL: notify each. */
	void (*notify_pair)(void *ctx, uint32_t quiet, uint32_t port);
};

/* One frontend port and the eventfd the guest's kicks land on. */
struct be_port {
	uint32_t port;
	int kick_fd; /* -1: none */
	bool bound;
};

/* A port not opened yet: be_port_close() on it does nothing. */
void be_port_init(struct be_port *p, uint32_t port);
/* The eventfd, then the binding: 0, or -errno with why (what it did stays
 * for be_port_close()). */
int be_port_open(struct be_port *p, const struct be_evtchn_ops *ops, void *ctx, bool restored, char *why,
		 size_t wl);
/* Unbinds and closes what be_port_open() did; the port stays named. */
void be_port_close(struct be_port *p, const struct be_evtchn_ops *ops, void *ctx);

/* A data path's queues as the walks below see them (an array of nq, each
 * size bytes, from q0).  quiesce lets go of the queue's ring pages (0, or -errno when its
 * in-flight work did not finish: it says so itself); resume maps them
 * again; listening, listen and unlisten put its descriptors on the event
 * loop and take them off. */
struct be_queue_ops {
	const char *rings; /* "ring", "rings": for why */
	int (*quiesce)(void *q);
	int (*resume)(void *q);
	bool (*listening)(const void *q);
	int (*listen)(void *q);
	void (*unlisten)(void *q);
};

/* Every queue off the loop and quiesced, even after one failed: 0 or the
 * last queue's error. */
int be_queues_quiesce(const struct be_queue_ops *ops, void *q0, size_t size, unsigned nq);
/* Queue by queue, each mapped again and back on the loop, until one fails:
 * 0, or -errno with why. */
int be_queues_resume(const struct be_queue_ops *ops, void *q0, size_t size, unsigned nq, char *why,
		     size_t wl);
/* One queue on the loop: 0, or -errno with why ("event loop: ..."). */
int be_queue_listen(const struct be_queue_ops *ops, void *q, char *why, size_t wl);

#endif
