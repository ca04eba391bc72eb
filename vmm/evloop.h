/* The monitor's back-end event loop: one thread, one epoll set, over tagged
 * descriptors (each registration carries its handler and context), timerfd
 * timers, and a queue of calls other threads hand it.
 *
 * Threading (docs/vmm-parts.md):
 * - handlers, timers and queued calls run on the loop thread, one at a time;
 * - evl_call() may be called from any thread, vCPU threads included: it never
 *   blocks and never allocates (a bounded pool; -EAGAIN when it is full);
 * - evl_timer_set() may be called from any thread;
 * - evl_add_fd(), evl_add_timer(), evl_del() and evl_sync() may be called from any thread but a vCPU thread: off the loop thread
 *   while the loop runs they are done on the loop thread and waited for, so
 *   once evl_del() returns its handler is not running and never will.
 *   Before evl_start() and after evl_stop() they act on the caller's thread.
 * A source may be deleted from inside its own handler (or another's): its
 * memory is freed only after the current batch of events.
 * The loop thread is SCHED_BATCH: its wake-ups do not preempt a running
 * vCPU (evloop.c yield_to_vcpus says why). */
#ifndef DOMUS_VMM_EVLOOP_H
#define DOMUS_VMM_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

struct evl;
struct evl_src;

/* events: the EPOLL* bits that fired (EPOLLIN, EPOLLHUP, ...). */
typedef void evl_fd_fn(void *ctx, int fd, uint32_t events);
typedef void evl_timer_fn(void *ctx);
typedef void evl_call_fn(void *arg);
typedef int evl_sync_fn(void *arg);

/* call_slots: how many evl_call()s may wait at once. */
int evl_create(struct evl **out, unsigned call_slots);
/* Frees the loop, its timers and its registrations (not their descriptors).
 * The loop must not be running: evl_stop() first if it was started. */
void evl_destroy(struct evl *l);

int evl_start(struct evl *l);
/* Runs every call accepted so far, then ends the loop thread and joins it;
 * evl_call() refuses from then on (-ESHUTDOWN).  If the loop never started,
 * the accepted calls run here.  Handlers that are due but not yet run are
 * not run.  Idempotent. */
void evl_stop(struct evl *l);
/* The caller is the loop thread (inside a handler, timer or call). */
bool evl_on_loop(const struct evl *l);

/* Registers fd (which stays the caller's: evl_del() before close()). */
int evl_add_fd(struct evl *l, int fd, uint32_t events, evl_fd_fn *fn, void *ctx, struct evl_src **out);
/* A timerfd that fires after ms (then every ms if periodic); ms 0: disarmed. */
int evl_add_timer(struct evl *l, unsigned ms, bool periodic, evl_timer_fn *fn, void *ctx, struct evl_src **out);
/* Re-arms (or with ms 0 disarms) a timer: a one-shot timer stays registered
 * after it fired, until evl_del(). */
int evl_timer_set(struct evl *l, struct evl_src *s, unsigned ms, bool periodic);
/* Unregisters s (NULL: nothing); its handler is not called again. */
void evl_del(struct evl *l, struct evl_src *s);

/* Queues fn(arg) to run on the loop thread, in order with other calls.
 * 0, -EAGAIN (the pool is full: nothing queued), -ESHUTDOWN (stopped). */
int evl_call(struct evl *l, evl_call_fn *fn, void *arg);
/* Runs fn(arg) on the loop thread and returns its result: directly when
 * the caller is the loop thread or the loop is not running. */
int evl_sync(struct evl *l, evl_sync_fn *fn, void *arg);

#endif
