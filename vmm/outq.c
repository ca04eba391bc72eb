/* The bounded output queue (outq.h). */
#include "outq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int outq_init(struct outq *q, size_t cap)
{
	*q = (struct outq){ .cap = cap };
	pthread_mutex_init(&q->lock, NULL);
	/* Pages are touched only as far as output ever backs up. */
	q->buf = malloc(cap ? cap : 1);
	return q->buf ? 0 : -ENOMEM;
}

void outq_fini(struct outq *q)
{
	free(q->buf);
	q->buf = NULL;
	pthread_mutex_destroy(&q->lock);
}

bool outq_push(struct outq *q, const void *p, size_t len)
{
	const uint8_t *s = p;
	size_t room, n, tail, first;
	bool wake;

	pthread_mutex_lock(&q->lock);
	room = q->cap - q->len;
	n = len < room ? len : room;
	q->dropped += len - n;
	tail = (q->head + q->len) % (q->cap ? q->cap : 1);
	first = n < q->cap - tail ? n : q->cap - tail;
	memcpy(q->buf + tail, s, first);
	memcpy(q->buf, s + first, n - first);
	q->len += n;
	wake = !q->waking && (n || len);
	q->waking = q->waking || wake;
	pthread_mutex_unlock(&q->lock);
	return wake;
}

void outq_rearm(struct outq *q)
{
	pthread_mutex_lock(&q->lock);
	q->waking = false;
	pthread_mutex_unlock(&q->lock);
}

size_t outq_pop(struct outq *q, void *p, size_t len, uint64_t *dropped)
{
	uint8_t *d = p;
	size_t n, first;

	pthread_mutex_lock(&q->lock);
	n = len < q->len ? len : q->len;
	first = n < q->cap - q->head ? n : q->cap - q->head;
	memcpy(d, q->buf + q->head, first);
	memcpy(d + first, q->buf, n - first);
	q->len -= n;
	q->head = q->len ? (q->head + n) % q->cap : 0;
	if (!n)
		q->waking = false;
	*dropped = q->dropped;
	pthread_mutex_unlock(&q->lock);
	return n;
}
