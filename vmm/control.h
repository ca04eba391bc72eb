/* The control socket of a domain, /run/domus/<domid>/control: how xl talks
 * to this monitor (the role of Xen's domctl hypercalls; the set of live
 * control sockets is the host's domain table).
 *
 * SOCK_SEQPACKET, the typed protocol of lib/include/domus/ctl_proto.h
 * (docs/control-protocol.md): one request per message, one reply per
 * request, every message checked against the table of types.  This monitor
 * serves info (struct ctl_info), pause, unpause, destroy (after which it
 * exits with VMM_EXIT_DESTROYED), save, device_add and device_remove
 * (hotplug.h); any other type is answered with a
 * CTL_ERROR reply naming it.  control_srv.c does the receiving, checking and
 * answering; this file binds the requests to the VM and serves the socket
 * on the event loop: each connection is a registration of its own with an
 * idle timer, so a client that connects and says nothing holds nothing. */
#ifndef DOMUS_VMM_CONTROL_H
#define DOMUS_VMM_CONTROL_H

#include <stdbool.h>
#include <time.h>

struct vm;
struct evl;
struct evl_src;
struct control_conn;
struct hotplug;

/* Connections served at once; more wait in the listen backlog. */
#define CONTROL_MAX_CONNS 8
/* A client gets this long between requests: it cannot hold the domain's
 * control. */
#define CONTROL_IDLE_MS 2000

struct control {
	struct vm *vm;
	struct evl *loop;
	int listen_fd;
	struct evl_src *listen_src;
	struct control_conn *conns[CONTROL_MAX_CONNS];
	bool quiesced;
	const char *uuid;
	time_t start;
	/* Serves a save request (on the loop thread), NULL: not supported. */
	int (*save)(void *ctx, int fd, char *why, size_t wl);
	void *save_ctx;
	/* Serves device_add and device_remove (on the loop thread), NULL:
	 * not supported. */
	struct hotplug *hotplug;
};

#define CONTROL_INIT { .listen_fd = -1 }

int control_init(struct control *c, struct vm *vm, struct evl *loop, const char *path, const char *uuid);
int control_start(struct control *c);
/* Takes no new connection and closes the open ones (a reply in flight was
 * sent: requests are answered inside their handler). */
void control_quiesce(struct control *c);
void control_stop(struct control *c);

#endif
