/* The control socket of a domain, /run/domus/<domid>/control: how xl talks
 * to this monitor (the role of Xen's domctl hypercalls; the set of live
 * control sockets is the host's domain table).
 *
 * SOCK_SEQPACKET, the typed protocol of lib/include/domus/ctl_proto.h
 * (docs/control-protocol.md): one request per message, one reply per
 * request, every message checked against the table of types.  This monitor
 * serves info (struct ctl_info), pause, unpause and destroy (after which it
 * exits with VMM_EXIT_DESTROYED); any other type is answered with a
 * CTL_ERROR reply naming it.  control_srv.c does the receiving, checking and
 * answering; this file binds the requests to the VM. */
#ifndef DOMUS_VMM_CONTROL_H
#define DOMUS_VMM_CONTROL_H

#include <pthread.h>
#include <time.h>

#include "worker.h"

struct vm;

struct control {
	struct vm *vm;
	int listen_fd;
	const char *uuid;
	time_t start;
	struct worker w;
};

int control_init(struct control *c, struct vm *vm, const char *path, const char *uuid);
int control_start(struct control *c);
void control_stop(struct control *c);

#endif
