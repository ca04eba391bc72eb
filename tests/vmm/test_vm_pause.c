/* vmm/vm_pause.c without KVM: fake vCPU threads run the loop of vcpu.c
 * (serve work, park while paused, serve work, "KVM_RUN") around a sleep,
 * and the tests check that work queued for a parked vCPU runs on its own
 * thread while it stays parked, that a vCPU waiting on a parked one lets
 * the pause complete (before, it never parked and a save gave up after
 * 5 s), that two vCPUs asking each other do not deadlock, and that work
 * for a vCPU whose thread ended runs on the asking thread, and that a
 * vCPU stuck in its exit makes the pause give up in time, naming it, with
 * the domain left as it was (before, the pause waited for ever).  An alarm
 * fails a test that hangs. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm.h"

#define NV 3
#define WATCHDOG_S 20

struct fake {
	struct vm *vm;
	int id;
	/* The next "exit" waits for go, then asks vCPU ask (-1: nobody):
	 * a hypercall naming another vCPU, in flight when the pause comes. */
	bool hold;
	sem_t go;
	int ask;
	int asked_rc;
	_Atomic int holding; /* waiting for go */
	_Atomic int *begin; /* set once every thread is started, as the monitor
			  * starts them all before it unpauses */
	_Atomic int rounds;
	_Atomic int stop_asking;
};

struct world {
	struct vm *vm;
	struct fake f[NV];
	struct kvm_run run[NV];
	_Atomic int begin;
};

static void kick(int sig)
{
	(void)sig;
}

static int where(struct vm *vm, int vcpu, void *arg)
{
	*(pthread_t *)arg = pthread_self();
	return 40 + vcpu;
}

static int nothing(struct vm *vm, int vcpu, void *arg)
{
	return 0;
}

static void *fake_vcpu(void *arg)
{
	struct fake *f = arg;
	struct vm *vm = f->vm;

	while (!atomic_load(f->begin))
		poll(NULL, 0, 1);
	while (atomic_load(&vm->exit_reason) == VM_RUNNING) {
		vcpu_process_work(vm, f->id);
		vm_wait_unpaused(vm, f->id);
		vcpu_process_work(vm, f->id);
		if (atomic_load(&vm->exit_reason) != VM_RUNNING)
			break;
		if (f->hold) {
			f->hold = false;
			atomic_store(&f->holding, 1);
			/* A kick (SIGUSR1) interrupts sem_wait: a stuck exit
			 * handler stays stuck until the test says go. */
			while (sem_wait(&f->go) < 0 && errno == EINTR)
				;
			if (f->ask >= 0) {
				pthread_t t;
				f->asked_rc = vm_vcpu_run_on(vm, f->ask, where, &t, 0);
				if (!pthread_equal(t, vm->vcpus[f->ask].thread))
					f->asked_rc = -EXDEV;
			}
		} else if (f->ask >= 0 && !atomic_load(&f->stop_asking)) {
			pthread_t t;
			if (vm_vcpu_run_on(vm, f->ask, where, &t, 0) != 40 + f->ask ||
			    !pthread_equal(t, vm->vcpus[f->ask].thread))
				f->asked_rc = -EXDEV;
			poll(NULL, 0, 1);
		} else if (!vm->vcpus[f->id].run->immediate_exit) {
			poll(NULL, 0, 1); /* in the guest */
		}
		atomic_fetch_add(&f->rounds, 1);
	}
	vcpu_work_done(vm, f->id);
	return NULL;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct sigaction sa = { .sa_handler = kick };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	assert_non_null(w);
	w->vm = calloc(1, sizeof(*w->vm));
	assert_non_null(w->vm);
	vm_sync_init(w->vm);
	w->vm->name = "test";
	w->vm->nr_vcpus = NV;
	w->vm->exit_eventfd = eventfd(0, EFD_CLOEXEC);
	for (int i = 0; i < NV; i++) {
		w->vm->vcpus[i].id = i;
		w->vm->vcpus[i].run = &w->run[i];
		w->f[i] = (struct fake){ .vm = w->vm, .id = i, .ask = -1, .begin = &w->begin };
		sem_init(&w->f[i].go, 0, 0);
	}
	*state = w;
	alarm(WATCHDOG_S);
	return 0;
}

static void start(struct world *w)
{
	for (int i = 0; i < NV; i++) {
		assert_int_equal(pthread_create(&w->vm->vcpus[i].thread, NULL, fake_vcpu, &w->f[i]), 0);
		w->vm->vcpus[i].started = true;
	}
	atomic_store(&w->begin, 1);
}

static int parked(struct vm *vm)
{
	int n;

	pthread_mutex_lock(&vm->lock);
	n = vm->parked;
	pthread_mutex_unlock(&vm->lock);
	return n;
}

static int teardown(void **state)
{
	struct world *w = *state;

	vm_request_exit(w->vm, VM_DESTROYED);
	for (int i = 0; i < NV; i++) {
		if (w->vm->vcpus[i].started)
			pthread_join(w->vm->vcpus[i].thread, NULL);
		sem_destroy(&w->f[i].go);
	}
	alarm(0);
	close(w->vm->exit_eventfd);
	free(w->vm);
	free(w);
	return 0;
}

/* The save's case: every vCPU parked, its registers read on its thread. */
static void parked_vcpu_serves_work(void **state)
{
	struct world *w = *state;
	pthread_t t;

	start(w);
	assert_int_equal(vm_pause_sync(w->vm, VM_PAUSE_SYNC_MS, NULL), 0);
	assert_int_equal(parked(w->vm), NV);
	for (int i = 0; i < NV; i++) {
		assert_int_equal(vm_vcpu_run_on(w->vm, i, where, &t, 0), 40 + i);
		assert_true(pthread_equal(t, w->vm->vcpus[i].thread));
	}
	/* Still parked: serving did not take it back into the guest. */
	assert_int_equal(parked(w->vm), NV);
	int before = atomic_load(&w->f[0].rounds);
	poll(NULL, 0, 20);
	assert_int_equal(atomic_load(&w->f[0].rounds), before);
	vm_pause(w->vm, false);
	while (atomic_load(&w->f[0].rounds) == before)
		poll(NULL, 0, 1);
}

/* vCPU 0 is handling a hypercall that names vCPU 1 when the pause comes
 * and vCPU 1 parks first: vCPU 1 must serve it, so that vCPU 0 finishes
 * its exit and parks too. */
static void pause_with_a_vcpu_waiting_on_a_parked_one(void **state)
{
	struct world *w = *state;

	w->f[0].hold = true;
	w->f[0].ask = 1;
	w->f[0].asked_rc = -1;
	start(w);
	while (!atomic_load(&w->f[0].holding))
		poll(NULL, 0, 1);
	vm_pause(w->vm, true);
	while (parked(w->vm) < NV - 1)
		poll(NULL, 0, 1);
	sem_post(&w->f[0].go);
	assert_int_equal(vm_pause_sync(w->vm, VM_PAUSE_SYNC_MS, NULL), 0);
	assert_int_equal(parked(w->vm), NV);
	assert_int_equal(w->f[0].asked_rc, 41);
}

/* Running vCPUs asking each other's threads over and over, while the
 * domain is paused and unpaused under them. */
static void vcpus_asking_each_other(void **state)
{
	struct world *w = *state;

	w->f[0].ask = 1;
	w->f[1].ask = 0;
	w->f[2].ask = 0;
	start(w);
	for (int round = 0; round < 50; round++) {
		assert_int_equal(vm_pause_sync(w->vm, VM_PAUSE_SYNC_MS, NULL), 0);
		assert_int_equal(vm_vcpu_run_on(w->vm, round % NV, nothing, NULL, 0), 0);
		vm_pause(w->vm, false);
		poll(NULL, 0, 1);
	}
	for (int i = 0; i < NV; i++)
		atomic_store(&w->f[i].stop_asking, 1);
	assert_int_equal(vm_pause_sync(w->vm, VM_PAUSE_SYNC_MS, NULL), 0);
	for (int i = 0; i < NV; i++) {
		assert_int_equal(w->f[i].asked_rc, 0);
		assert_true(atomic_load(&w->f[i].rounds) > 0);
	}
}

/* Once the domain ends, a pause fails at once and work runs on the
 * caller's thread after the vCPU thread has left. */
static void after_the_end(void **state)
{
	struct world *w = *state;
	pthread_t t;

	start(w);
	vm_request_exit(w->vm, VM_POWEROFF);
	assert_int_equal(vm_pause_sync(w->vm, VM_PAUSE_SYNC_MS, NULL), -ESHUTDOWN);
	for (int i = 0; i < NV; i++)
		pthread_join(w->vm->vcpus[i].thread, NULL);
	assert_int_equal(vm_vcpu_run_on(w->vm, 2, where, &t, 0), 42);
	assert_true(pthread_equal(t, pthread_self()));
	for (int i = 0; i < NV; i++)
		w->vm->vcpus[i].started = false;
}

static bool is_paused(struct vm *vm)
{
	bool p;

	pthread_mutex_lock(&vm->lock);
	p = vm->paused;
	pthread_mutex_unlock(&vm->lock);
	return p;
}

/* vCPU 1 is stuck in an exit handler that never returns (until the test
 * lets it go): the pause gives up after its bound, names vCPU 1 only, and
 * the domain runs on: the other vCPUs go round again. */
static void stuck_vcpu_times_out(void **state)
{
	struct world *w = *state;
	struct timespec t0, t1;
	uint32_t stuck = 0;
	int before;
	long ms;

	w->f[1].hold = true;
	start(w);
	while (!atomic_load(&w->f[1].holding))
		poll(NULL, 0, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vm_pause_sync(w->vm, 300, &stuck), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 290 && ms < 5000);
	assert_int_equal(stuck, 1u << 1);
	assert_false(is_paused(w->vm));
	before = atomic_load(&w->f[0].rounds);
	while (atomic_load(&w->f[0].rounds) == before)
		poll(NULL, 0, 1);
	sem_post(&w->f[1].go);
	/* Unstuck, it parks like the others. */
	assert_int_equal(vm_pause_sync(w->vm, VM_PAUSE_SYNC_MS, &stuck), 0);
	assert_int_equal(stuck, 0);
	assert_int_equal(parked(w->vm), NV);
}

/* A domain paused before the save stays paused when the pause times out. */
static void stuck_vcpu_keeps_a_paused_domain_paused(void **state)
{
	struct world *w = *state;
	uint32_t stuck = 0;

	w->f[2].hold = true;
	start(w);
	while (!atomic_load(&w->f[2].holding))
		poll(NULL, 0, 1);
	vm_pause(w->vm, true);
	while (parked(w->vm) < NV - 1)
		poll(NULL, 0, 1);
	assert_int_equal(vm_pause_sync(w->vm, 100, &stuck), -ETIMEDOUT);
	assert_int_equal(stuck, 1u << 2);
	assert_true(is_paused(w->vm));
	assert_int_equal(parked(w->vm), NV - 1);
	sem_post(&w->f[2].go);
	assert_int_equal(vm_pause_sync(w->vm, VM_PAUSE_SYNC_MS, &stuck), 0);
	assert_int_equal(parked(w->vm), NV);
}

/* The pause comes after vCPU 0's loop passed its pause check and before
 * it entered KVM_RUN (no threads: the test is the vCPU, step by step, as
 * vcpu.c vcpu_main takes them).  The kick must still be there at KVM_RUN:
 * before, the loop's second serving of its queue cleared immediate_exit,
 * and the vCPU ran on in the guest until its next exit to user space,
 * which an idle guest (HLT, timers and events in the kernel) may not make
 * for long; a save's vm_pause_sync() then gave up after 10 s. */
static void pause_between_check_and_entry(void **state)
{
	struct world *w = *state;
	struct vm *vm = w->vm;

	vcpu_process_work(vm, 0);
	vm_wait_unpaused(vm, 0); /* not paused: on to KVM_RUN */
	vm_pause(vm, true);	 /* the pause, now */
	vcpu_process_work(vm, 0);
	assert_int_equal(vm->vcpus[0].run->immediate_exit, 1);
	/* The loop comes round after KVM_RUN's EINTR and parks. */
	vm_pause(vm, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(parked_vcpu_serves_work, setup, teardown),
		cmocka_unit_test_setup_teardown(pause_between_check_and_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(pause_with_a_vcpu_waiting_on_a_parked_one, setup, teardown),
		cmocka_unit_test_setup_teardown(vcpus_asking_each_other, setup, teardown),
		cmocka_unit_test_setup_teardown(after_the_end, setup, teardown),
		cmocka_unit_test_setup_teardown(stuck_vcpu_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(stuck_vcpu_keeps_a_paused_domain_paused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
