/* A bounded byte queue from many producers to one consumer that never makes
 * a producer wait: what does not fit is dropped and counted.  vCPU threads
 * put guest console output (console_io, port 0xE9) here; the event loop
 * writes it out. */
#ifndef DOMUS_VMM_OUTQ_H
#define DOMUS_VMM_OUTQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outq {
	pthread_mutex_t lock; /* held for a copy only */
	uint8_t *buf;
	size_t cap, head, len;
	uint64_t dropped; /* bytes refused since init */
	bool waking;      /* the consumer has been asked to pop */
};

int outq_init(struct outq *q, size_t cap);
void outq_fini(struct outq *q);
/* Appends what fits of p and counts the rest as dropped.  true when the
 * consumer must be woken: the first push since it last found the queue
 * empty. */
bool outq_push(struct outq *q, const void *p, size_t len);
/* A wake-up that could not be delivered: the next push asks again. */
void outq_rearm(struct outq *q);
/* Takes up to len bytes; 0 when empty, which re-arms the wake-up.
 * *dropped: the drop count so far. */
size_t outq_pop(struct outq *q, void *p, size_t len, uint64_t *dropped);

#endif
