/* vmm/evloop.c without KVM: descriptor readiness, one-shot and periodic
 * timers, calls from other threads, stop with calls queued, a source deleted
 * from inside a handler.  Waits have generous bounds (5 s) and no test
 * asserts how long something took. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "evloop.h"

#define WAIT_MS 5000

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Polls *v until it reaches want or WAIT_MS pass; returns its last value. */
static int wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < WAIT_MS && atomic_load(v) < want; i++)
		sleep_ms(1);
	return atomic_load(v);
}

static int setup(void **state)
{
	struct evl *l;

	if (evl_create(&l, 64) < 0)
		return -1;
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	evl_destroy(*state);
	return 0;
}

struct fd_rec {
	struct evl *l;
	struct evl_src *src, *other;
	atomic_int calls;
	atomic_int on_loop;
	int last_fd;
	uint32_t last_events;
	bool del_self, del_other;
};

static void on_fd(void *ctx, int fd, uint32_t events)
{
	struct fd_rec *r = ctx;
	char c;

	(void)!read(fd, &c, 1);
	r->last_fd = fd;
	r->last_events = events;
	if (evl_on_loop(r->l))
		atomic_fetch_add(&r->on_loop, 1);
	if (r->del_other)
		evl_del(r->l, r->other);
	if (r->del_self)
		evl_del(r->l, r->src);
	atomic_fetch_add(&r->calls, 1);
}

static void test_fd_dispatch(void **state)
{
	struct evl *l = *state;
	int a[2], b[2];
	struct fd_rec ra = { .l = l }, rb = { .l = l };

	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_int_equal(evl_add_fd(l, a[0], EPOLLIN, on_fd, &ra, &ra.src), 0);
	assert_int_equal(evl_add_fd(l, b[0], EPOLLIN, on_fd, &rb, &rb.src), 0);
	assert_int_equal(evl_start(l), 0);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(wait_for(&rb.calls, 1), 1);
	/* Only the ready descriptor's handler ran, on the loop thread, told
	 * which descriptor and what happened. */
	assert_int_equal(atomic_load(&ra.calls), 0);
	assert_int_equal(rb.last_fd, b[0]);
	assert_true(rb.last_events & EPOLLIN);
	assert_int_equal(atomic_load(&rb.on_loop), 1);
	assert_false(evl_on_loop(l));
	assert_int_equal(write(a[1], "y", 1), 1);
	assert_int_equal(wait_for(&ra.calls, 1), 1);
	assert_int_equal(ra.last_fd, a[0]);
	/* Adding a descriptor that epoll cannot watch fails and leaves nothing. */
	struct evl_src *bad = (struct evl_src *)1;
	assert_int_equal(evl_add_fd(l, 999, EPOLLIN, on_fd, &ra, &bad), -EBADF);
	assert_null(bad);
	evl_stop(l);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

/* From another thread while the loop runs: once evl_del returns, the
 * handler never runs again. */
static void test_del_from_other_thread(void **state)
{
	struct evl *l = *state;
	int p[2];
	struct fd_rec r = { .l = l };

	assert_int_equal(pipe(p), 0);
	assert_int_equal(evl_start(l), 0);
	assert_int_equal(evl_add_fd(l, p[0], EPOLLIN, on_fd, &r, &r.src), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(wait_for(&r.calls, 1), 1);
	evl_del(l, r.src);
	assert_int_equal(write(p[1], "x", 1), 1);
	sleep_ms(50);
	assert_int_equal(atomic_load(&r.calls), 1);
	evl_stop(l);
	close(p[0]), close(p[1]);
}

/* Both descriptors are ready in the same batch; the first handler to run
 * deletes itself and the other: the other's handler must not run, nothing
 * is freed under the loop (run it under valgrind to see). */
static void test_del_inside_handler(void **state)
{
	struct evl *l = *state;
	int a[2], b[2];
	struct fd_rec ra = { .l = l, .del_self = true, .del_other = true };
	struct fd_rec rb = { .l = l, .del_self = true, .del_other = true };

	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_int_equal(write(a[1], "xx", 2), 2);
	assert_int_equal(write(b[1], "xx", 2), 2);
	assert_int_equal(evl_add_fd(l, a[0], EPOLLIN, on_fd, &ra, &ra.src), 0);
	assert_int_equal(evl_add_fd(l, b[0], EPOLLIN, on_fd, &rb, &rb.src), 0);
	ra.other = rb.src;
	rb.other = ra.src;
	assert_int_equal(evl_start(l), 0);
	for (int i = 0; i < WAIT_MS && !atomic_load(&ra.calls) && !atomic_load(&rb.calls); i++)
		sleep_ms(1);
	sleep_ms(50);
	/* Each pipe still holds a byte: a live registration would fire again. */
	assert_int_equal(atomic_load(&ra.calls) + atomic_load(&rb.calls), 1);
	evl_stop(l);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

struct tick {
	struct evl *l;
	struct evl_src *src;
	atomic_int n;
	atomic_int on_loop;
};

static void on_tick(void *ctx)
{
	struct tick *t = ctx;

	if (evl_on_loop(t->l))
		atomic_fetch_add(&t->on_loop, 1);
	atomic_fetch_add(&t->n, 1);
}

static void test_timer_oneshot(void **state)
{
	struct evl *l = *state;
	struct tick t = { .l = l }, off = { .l = l };

	assert_int_equal(evl_add_timer(l, 10, false, on_tick, &t, &t.src), 0);
	assert_int_equal(evl_add_timer(l, 0, false, on_tick, &off, &off.src), 0);
	assert_int_equal(evl_start(l), 0);
	assert_int_equal(wait_for(&t.n, 1), 1);
	sleep_ms(60);
	assert_int_equal(atomic_load(&t.n), 1); /* once */
	assert_int_equal(atomic_load(&t.on_loop), 1);
	assert_int_equal(atomic_load(&off.n), 0); /* 0 ms: disarmed */
	/* Still registered: it can be armed again. */
	assert_int_equal(evl_timer_set(l, t.src, 5, false), 0);
	assert_int_equal(wait_for(&t.n, 2), 2);
	/* Re-arming a pending timer replaces it: one more, not two. */
	assert_int_equal(evl_timer_set(l, t.src, 5000, false), 0);
	assert_int_equal(evl_timer_set(l, t.src, 5, false), 0);
	assert_int_equal(wait_for(&t.n, 3), 3);
	sleep_ms(60);
	assert_int_equal(atomic_load(&t.n), 3);
	evl_stop(l);
}

static void test_timer_periodic(void **state)
{
	struct evl *l = *state;
	struct tick t = { .l = l };
	int n;

	assert_int_equal(evl_start(l), 0);
	assert_int_equal(evl_add_timer(l, 5, true, on_tick, &t, &t.src), 0);
	assert_true(wait_for(&t.n, 4) >= 4);
	evl_del(l, t.src);
	n = atomic_load(&t.n);
	sleep_ms(50);
	assert_int_equal(atomic_load(&t.n), n); /* none after evl_del */
	assert_int_equal(atomic_load(&t.on_loop), n);
	evl_stop(l);
}

#define THREADS 4
#define CALLS 2000

struct call_rec {
	struct evl *l;
	atomic_int total, off_loop, out_of_order;
	int last[THREADS];
};

struct call_arg {
	struct call_rec *r;
	int thread, seq;
};

static void counted_call(void *arg)
{
	struct call_arg *a = arg;
	struct call_rec *r = a->r;

	if (!evl_on_loop(r->l))
		atomic_fetch_add(&r->off_loop, 1);
	/* Only the loop thread writes last[]: no lock. */
	if (a->seq != r->last[a->thread] + 1)
		atomic_fetch_add(&r->out_of_order, 1);
	r->last[a->thread] = a->seq;
	atomic_fetch_add(&r->total, 1);
}

struct producer {
	struct call_rec *r;
	int thread;
	struct call_arg args[CALLS];
};

static void *produce(void *arg)
{
	struct producer *p = arg;

	for (int i = 0; i < CALLS; i++) {
		p->args[i] = (struct call_arg){ .r = p->r, .thread = p->thread, .seq = i + 1 };
		/* A full pool refuses without blocking: the caller decides. */
		while (evl_call(p->r->l, counted_call, &p->args[i]) == -EAGAIN)
			sched_yield();
	}
	return NULL;
}

static void test_calls_from_threads(void **state)
{
	struct evl *l = *state;
	struct call_rec r = { .l = l };
	struct producer *p = calloc(THREADS, sizeof(*p));
	pthread_t th[THREADS];

	assert_non_null(p);
	assert_int_equal(evl_start(l), 0);
	for (int i = 0; i < THREADS; i++) {
		p[i] = (struct producer){ .r = &r, .thread = i };
		assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(wait_for(&r.total, THREADS * CALLS), THREADS * CALLS);
	assert_int_equal(atomic_load(&r.off_loop), 0);
	assert_int_equal(atomic_load(&r.out_of_order), 0); /* each thread's calls in its order */
	evl_stop(l);
	free(p);
}

static int sync_fn(void *arg)
{
	struct evl *l = arg;

	return evl_on_loop(l) ? 42 : -1;
}

static void test_sync(void **state)
{
	struct evl *l = *state;

	/* Not running: on the caller's thread. */
	assert_int_equal(evl_sync(l, sync_fn, l), -1);
	assert_int_equal(evl_start(l), 0);
	assert_int_equal(evl_sync(l, sync_fn, l), 42);
	evl_stop(l);
	assert_int_equal(evl_sync(l, sync_fn, l), -1);
}

static int policy_fn(void *arg)
{
	(void)arg;
	return sched_getscheduler(0);
}

/* The loop's thread is SCHED_BATCH (a guest's kick does not preempt its
 * vCPU: evloop.c yield_to_vcpus); the thread that made it is not changed. */
static void test_batch_policy(void **state)
{
	struct evl *l = *state;
	int before = sched_getscheduler(0);

	assert_int_equal(evl_start(l), 0);
	assert_int_equal(evl_sync(l, policy_fn, NULL), SCHED_BATCH);
	assert_int_equal(sched_getscheduler(0), before);
	evl_stop(l);
}

struct gate {
	pthread_mutex_t m;
	pthread_cond_t c;
	bool open, entered;
};

static void gate_call(void *arg)
{
	struct gate *g = arg;

	pthread_mutex_lock(&g->m);
	g->entered = true;
	pthread_cond_broadcast(&g->c);
	while (!g->open)
		pthread_cond_wait(&g->c, &g->m);
	pthread_mutex_unlock(&g->m);
}

static void count_call(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

static void *stopper(void *arg)
{
	evl_stop(arg);
	return NULL;
}

/* evl_stop while calls are queued: every accepted call runs (once), later
 * ones are refused. */
static void test_stop_with_queued_calls(void **state)
{
	struct evl *l = *state;
	struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false };
	atomic_int n = 0;
	pthread_t th;
	int rc;

	assert_int_equal(evl_start(l), 0);
	assert_int_equal(evl_call(l, gate_call, &g), 0);
	pthread_mutex_lock(&g.m);
	while (!g.entered)
		pthread_cond_wait(&g.c, &g.m);
	pthread_mutex_unlock(&g.m);
	/* The loop is held in gate_call: these wait in the queue. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(evl_call(l, count_call, &n), 0);
	assert_int_equal(pthread_create(&th, NULL, stopper, l), 0);
	for (int i = 0; i < WAIT_MS; i++) {
		rc = evl_call(l, count_call, &n);
		if (rc == -ESHUTDOWN)
			break;
		/* Accepted before the stop took effect: it will run too. */
		if (rc == 0)
			atomic_fetch_sub(&n, 1);
		sleep_ms(1);
	}
	assert_int_equal(rc, -ESHUTDOWN);
	pthread_mutex_lock(&g.m);
	g.open = true;
	pthread_cond_broadcast(&g.c);
	pthread_mutex_unlock(&g.m);
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&n), 10);
	assert_int_equal(evl_call(l, count_call, &n), -ESHUTDOWN);
}

/* A loop that never started runs its accepted calls in evl_stop. */
static void test_stop_never_started(void **state)
{
	struct evl *l = *state;
	atomic_int n = 0;

	for (int i = 0; i < 3; i++)
		assert_int_equal(evl_call(l, count_call, &n), 0);
	assert_int_equal(atomic_load(&n), 0);
	evl_stop(l);
	assert_int_equal(atomic_load(&n), 3);
	evl_stop(l); /* idempotent */
	assert_int_equal(evl_start(l), -EALREADY);
}

static void test_pool_bound(void **state)
{
	struct evl *l;
	atomic_int n = 0;

	(void)state;
	assert_int_equal(evl_create(&l, 2), 0);
	assert_int_equal(evl_call(l, count_call, &n), 0);
	assert_int_equal(evl_call(l, count_call, &n), 0);
	assert_int_equal(evl_call(l, count_call, &n), -EAGAIN);
	evl_destroy(l); /* stops, so the two accepted calls run */
	assert_int_equal(atomic_load(&n), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fd_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_del_from_other_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_del_inside_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_oneshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_periodic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calls_from_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_with_queued_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_never_started, setup, teardown),
		cmocka_unit_test(test_pool_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
