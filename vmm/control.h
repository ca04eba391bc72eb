/* The control socket of a domain, /run/domus/<domid>/control: how xl talks
 * to this monitor (the role of Xen's domctl hypercalls; the set of live
 * control sockets is the host's domain table).
 *
 * SOCK_SEQPACKET, one request per message, one reply per request, text:
 *   info     -> "ok name=N domid=D uuid=U mem_kb=K maxmem_kb=M vcpus=V
 *                state=S cpu_ns=T start=EPOCH store_port=P console_port=P
 *                first_entry_ns=N exits=HYPERCALLS/IO/MMIO"
 *                (S: r b p, as xl list)
 *   pause    -> "ok"            unpause -> "ok"
 *   destroy  -> "ok"            (the monitor exits, status 4)
 * Errors are "error TEXT".  Requests are at most CONTROL_MSG_MAX bytes. */
#ifndef DOMUS_VMM_CONTROL_H
#define DOMUS_VMM_CONTROL_H

#include <pthread.h>
#include <time.h>

#include "worker.h"

#define CONTROL_MSG_MAX 512

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
