/* A monitor thread that serves file descriptors until it is told to stop:
 * the console, the xenstore link and the control socket each run one.  The
 * thread polls stop_fd with its other descriptors and returns when it fires. */
#ifndef DOMUS_VMM_WORKER_H
#define DOMUS_VMM_WORKER_H

#include <pthread.h>
#include <stddef.h>

struct worker {
	pthread_t thread;
	int started;
	int stop_fd; /* eventfd, -1 before worker_init */
};

#define WORKER_INIT { .stop_fd = -1 }

int worker_init(struct worker *w);
int worker_start(struct worker *w, void *(*fn)(void *), void *arg);
/* Stops and joins the thread if it runs, then closes stop_fd. */
void worker_stop(struct worker *w);
/* Closes each descriptor that is open and marks it -1. */
void close_fds(int *const *fds, size_t n);

#endif
