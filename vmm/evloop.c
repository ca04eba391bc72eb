/* The back-end event loop (evloop.h). */
#include "evloop.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "domus/log.h"

#define EVL_BATCH 32

enum src_kind { SRC_FD, SRC_TIMER, SRC_WAKE };

struct evl_src {
	enum src_kind kind;
	int fd; /* a timer's is its own timerfd */
	bool dead;
	evl_fd_fn *fd_fn;
	evl_timer_fn *timer_fn;
	void *ctx;
	struct evl_src *prev, *next; /* in live, or next in the graveyard */
};

/* A queued call: from the pool (evl_call) or the waiter's stack (evl_sync). */
struct evl_node {
	evl_call_fn *call;
	evl_sync_fn *sync;
	void *arg;
	int rc;
	bool done;
	struct evl_node *next;
};

enum evl_state { EVL_IDLE, EVL_RUNNING, EVL_STOPPING, EVL_STOPPED };

struct evl {
	int epfd;
	struct evl_src wake; /* eventfd: a call was queued, or stop */
	struct evl_src *live, *graveyard;
	bool in_batch; /* loop thread only: dispatching epoll results */
	pthread_t thread;
	pthread_mutex_t lock; /* what follows */
	pthread_cond_t done_cond;
	enum evl_state state;
	bool tid_set;
	pthread_t loop_tid;
	struct evl_node *head, *tail, *free_nodes;
	struct evl_node *pool;
};

int evl_create(struct evl **out, unsigned call_slots)
{
	struct evl *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };
	int rc = -ENOMEM;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->epfd = l->wake.fd = -1;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->done_cond, NULL);
	l->pool = calloc(call_slots ? call_slots : 1, sizeof(*l->pool));
	if (!l->pool)
		goto fail;
	for (unsigned i = 0; i < call_slots; i++) {
		l->pool[i].next = l->free_nodes;
		l->free_nodes = &l->pool[i];
	}
	l->wake.kind = SRC_WAKE;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wake.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.ptr = &l->wake;
	if (l->epfd < 0 || l->wake.fd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake.fd, &ev) < 0) {
		rc = -errno;
		goto fail;
	}
	*out = l;
	return 0;
fail:
	evl_destroy(l);
	return rc;
}

static void free_src(struct evl_src *s)
{
	if (s->kind == SRC_TIMER && s->fd >= 0)
		close(s->fd);
	free(s);
}

static void bury(struct evl *l)
{
	while (l->graveyard) {
		struct evl_src *s = l->graveyard;

		l->graveyard = s->next;
		free_src(s);
	}
}

void evl_destroy(struct evl *l)
{
	if (!l)
		return;
	evl_stop(l);
	while (l->live) {
		struct evl_src *s = l->live;

		l->live = s->next;
		free_src(s);
	}
	bury(l);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wake.fd >= 0)
		close(l->wake.fd);
	free(l->pool);
	pthread_cond_destroy(&l->done_cond);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void wake(struct evl *l)
{
	uint64_t one = 1;

	/* Never blocks: the counter would have to reach 2^64 - 1 first. */
	(void)!write(l->wake.fd, &one, sizeof(one));
}

/* Runs queued calls until none is left (on the loop thread, or on the
 * stopping thread of a loop that never started). */
static void run_queue(struct evl *l)
{
	pthread_mutex_lock(&l->lock);
	while (l->head) {
		struct evl_node *n = l->head;

		l->head = n->next;
		if (!l->head)
			l->tail = NULL;
		pthread_mutex_unlock(&l->lock);
		if (n->sync) {
			int rc = n->sync(n->arg);

			pthread_mutex_lock(&l->lock);
			/* n lives on the waiter's stack: not touched once done. */
			n->rc = rc;
			n->done = true;
			pthread_cond_broadcast(&l->done_cond);
		} else {
			n->call(n->arg);
			pthread_mutex_lock(&l->lock);
			n->next = l->free_nodes;
			l->free_nodes = n;
		}
	}
	pthread_mutex_unlock(&l->lock);
}

/* Under lock. */
static void enqueue(struct evl *l, struct evl_node *n)
{
	bool was_empty = !l->head;

	n->next = NULL;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
	if (was_empty)
		wake(l);
}

static void dispatch(struct evl *l, struct evl_src *s, uint32_t events)
{
	uint64_t v;

	switch (s->kind) {
	case SRC_WAKE:
		(void)!read(s->fd, &v, sizeof(v));
		break;
	case SRC_TIMER:
		/* Nothing to read: re-armed since the batch was collected. */
		if (read(s->fd, &v, sizeof(v)) == sizeof(v))
			s->timer_fn(s->ctx);
		break;
	case SRC_FD:
		s->fd_fn(s->ctx, s->fd, events);
		break;
	}
}

/* The loop yields to the vCPU threads: a guest's notification wakes it
 * without preempting the vCPU that sent it (SCHED_BATCH: "Batch and idle
 * tasks do not preempt non-idle tasks", Linux 6.1 kernel/sched/fair.c
 * check_preempt_wakeup), so the guest goes on queueing until it waits,
 * and one turn of the loop serves what it queued.  Preempted on every
 * kick, the vbd served one request per guest notification, engine
 * wake-up and interrupt, even at fio's iodepth 32 (bench/disk's counts,
 * docs/blkback.md).  With an idle CPU (any host with a core to spare)
 * nothing changes; the nice value, and so the loop's share of a busy
 * CPU, stays as it was. */
static void yield_to_vcpus(void)
{
	struct sched_param sp = { 0 };

	if (sched_setscheduler(0, SCHED_BATCH, &sp) < 0)
		log_warn("evloop", "cannot make the back-end loop SCHED_BATCH: %s", strerror(errno));
}

static void *loop_main(void *arg)
{
	struct evl *l = arg;
	struct epoll_event evs[EVL_BATCH];

	pthread_mutex_lock(&l->lock);
	l->loop_tid = pthread_self();
	l->tid_set = true;
	pthread_mutex_unlock(&l->lock);
	yield_to_vcpus();
	for (;;) {
		bool stop;
		int n;

		run_queue(l);
		pthread_mutex_lock(&l->lock);
		stop = l->state == EVL_STOPPING && !l->head;
		pthread_mutex_unlock(&l->lock);
		if (stop)
			break;
		n = epoll_wait(l->epfd, evs, EVL_BATCH, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* Only a bug gets here (a bad epoll fd): nothing could be served. */
			log_err("evloop", "epoll_wait: %s", strerror(errno));
			abort();
		}
		l->in_batch = true;
		for (int i = 0; i < n; i++) {
			struct evl_src *s = evs[i].data.ptr;

			if (!s->dead)
				dispatch(l, s, evs[i].events);
		}
		l->in_batch = false;
		bury(l);
	}
	return NULL;
}

int evl_start(struct evl *l)
{
	int rc;

	pthread_mutex_lock(&l->lock);
	if (l->state != EVL_IDLE) {
		pthread_mutex_unlock(&l->lock);
		return -EALREADY;
	}
	rc = -pthread_create(&l->thread, NULL, loop_main, l);
	if (rc == 0)
		l->state = EVL_RUNNING;
	pthread_mutex_unlock(&l->lock);
	return rc;
}

void evl_stop(struct evl *l)
{
	enum evl_state was;

	pthread_mutex_lock(&l->lock);
	was = l->state;
	l->state = was == EVL_RUNNING ? EVL_STOPPING : EVL_STOPPED;
	if (was == EVL_RUNNING)
		wake(l);
	pthread_mutex_unlock(&l->lock);
	if (was == EVL_RUNNING) {
		pthread_join(l->thread, NULL);
		pthread_mutex_lock(&l->lock);
		l->state = EVL_STOPPED;
		l->tid_set = false;
		pthread_mutex_unlock(&l->lock);
	} else if (was == EVL_IDLE) {
		run_queue(l);
	}
}

bool evl_on_loop(const struct evl *l)
{
	struct evl *m = (struct evl *)l; /* the lock only */
	bool on;

	pthread_mutex_lock(&m->lock);
	on = m->tid_set && pthread_equal(m->loop_tid, pthread_self());
	pthread_mutex_unlock(&m->lock);
	return on;
}

int evl_call(struct evl *l, evl_call_fn *fn, void *arg)
{
	struct evl_node *n;
	int rc = 0;

	pthread_mutex_lock(&l->lock);
	if (l->state == EVL_STOPPING || l->state == EVL_STOPPED) {
		rc = -ESHUTDOWN;
	} else if (!(n = l->free_nodes)) {
		rc = -EAGAIN;
	} else {
		l->free_nodes = n->next;
		*n = (struct evl_node){ .call = fn, .arg = arg };
		enqueue(l, n);
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

int evl_sync(struct evl *l, evl_sync_fn *fn, void *arg)
{
	struct evl_node n = { .sync = fn, .arg = arg };
	bool queued = false;

	if (evl_on_loop(l))
		return fn(arg);
	pthread_mutex_lock(&l->lock);
	/* A stopping loop still runs what is queued before it ends. */
	if (l->state == EVL_RUNNING || l->state == EVL_STOPPING) {
		enqueue(l, &n);
		queued = true;
		while (!n.done)
			pthread_cond_wait(&l->done_cond, &l->lock);
	}
	pthread_mutex_unlock(&l->lock);
	return queued ? n.rc : fn(arg);
}

/* Source changes happen on the loop thread only (through evl_sync), so the
 * lists and epoll set need no lock and a deleted source's handler cannot be
 * mid-call on another thread. */
struct src_req {
	struct evl *l;
	struct evl_src *s;
	uint32_t events;
};

static int add_here(void *arg)
{
	struct src_req *r = arg;
	struct epoll_event ev = { .events = r->events, .data.ptr = r->s };

	if (epoll_ctl(r->l->epfd, EPOLL_CTL_ADD, r->s->fd, &ev) < 0)
		return -errno;
	r->s->next = r->l->live;
	if (r->l->live)
		r->l->live->prev = r->s;
	r->l->live = r->s;
	return 0;
}

static int del_here(void *arg)
{
	struct src_req *r = arg;
	struct evl_src *s = r->s;
	struct evl *l = r->l;

	if (s->dead)
		return 0;
	s->dead = true;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	if (s->prev)
		s->prev->next = s->next;
	else
		l->live = s->next;
	if (s->next)
		s->next->prev = s->prev;
	/* This batch may still hold an event for s. */
	s->next = l->graveyard;
	l->graveyard = s;
	if (!l->in_batch)
		bury(l);
	return 0;
}

static int add_src(struct evl *l, struct evl_src *s, uint32_t events, struct evl_src **out)
{
	struct src_req r = { .l = l, .s = s, .events = events };
	int rc = evl_sync(l, add_here, &r);

	if (rc < 0) {
		free_src(s);
		s = NULL;
	}
	if (out)
		*out = s;
	return rc;
}

int evl_add_fd(struct evl *l, int fd, uint32_t events, evl_fd_fn *fn, void *ctx, struct evl_src **out)
{
	struct evl_src *s = calloc(1, sizeof(*s));

	if (out)
		*out = NULL;
	if (!s)
		return -ENOMEM;
	*s = (struct evl_src){ .kind = SRC_FD, .fd = fd, .fd_fn = fn, .ctx = ctx };
	return add_src(l, s, events, out);
}

static int arm(int fd, unsigned ms, bool periodic)
{
	struct itimerspec it = { 0 };

	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	if (periodic)
		it.it_interval = it.it_value;
	return timerfd_settime(fd, 0, &it, NULL) < 0 ? -errno : 0;
}

int evl_add_timer(struct evl *l, unsigned ms, bool periodic, evl_timer_fn *fn, void *ctx, struct evl_src **out)
{
	struct evl_src *s = calloc(1, sizeof(*s));
	int rc;

	if (out)
		*out = NULL;
	if (!s)
		return -ENOMEM;
	*s = (struct evl_src){ .kind = SRC_TIMER, .timer_fn = fn, .ctx = ctx };
	s->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	rc = s->fd < 0 ? -errno : arm(s->fd, ms, periodic);
	if (rc < 0) {
		free_src(s);
		return rc;
	}
	return add_src(l, s, EPOLLIN, out);
}

/* timerfd_settime is safe from any thread, and a re-armed timer's stale
 * expiry is skipped by dispatch(): no need to go through the loop. */
int evl_timer_set(struct evl *l, struct evl_src *s, unsigned ms, bool periodic)
{
	(void)l;
	if (!s || s->kind != SRC_TIMER)
		return -EINVAL;
	return arm(s->fd, ms, periodic);
}

void evl_del(struct evl *l, struct evl_src *s)
{
	struct src_req r = { .l = l, .s = s };

	if (s)
		evl_sync(l, del_here, &r);
}
