/* The primary Xen console (hvc0): the xencons_interface ring in the console
 * special page, served from its own thread.  Guest output goes to the console
 * log and to the attached client; client input goes into the ring. */
#ifndef DOMUS_VMM_CONSOLE_H
#define DOMUS_VMM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker.h"

struct vm;

struct console {
	struct vm *vm;
	uint32_t port;  /* event channel, Domain-0 end */
	int kick_fd;    /* eventfd KVM signals on the guest's EVTCHNOP_send */
	int log_fd;     /* -1: no log */
	int out_fd;     /* mirror to this fd (stdout), -1: none */
	int in_fd;      /* read input from this fd, -1: none */
	int listen_fd;  /* Unix socket for "xl console", -1: none */
	int client_fd;  /* the attached client, -1: none */
	bool client_lagged; /* output to it was dropped (said once) */
	pthread_mutex_t out_lock; /* output fds */
	struct worker w;
};

int console_init(struct console *c, struct vm *vm, const char *log_path, const char *socket_path, int stdio);
int console_start(struct console *c);
void console_stop(struct console *c);
void console_guest_output(struct vm *vm, const char *buf, size_t len);

#endif
