/* Pausing a domain's vCPU threads and running work on them (vm.h): the
 * part of struct vm that is threads and locks only, so that a unit test
 * drives it with fake vCPU threads and no KVM (tests/vmm/test_vm_pause.c).
 *
 * A vCPU thread's loop (vcpu.c vcpu_main): serve its work queue, wait while
 * the domain is paused (parked), serve its queue, KVM_RUN, handle the exit.
 * Three things make it leave KVM_RUN: SIGUSR1 with immediate_exit set (a
 * pause, queued work, the domain's end); vm_wait_unpaused() clears it.
 *
 * A parked vCPU still serves its queue: vCPU ioctls of a paused vCPU (a
 * save reading its registers, another vCPU's hypercall setting its timer)
 * run on its own thread while it stays parked.  It waits on park_wake under
 * vm->lock, so vm_vcpu_run_on() broadcasts park_wake after queueing; it
 * takes vm->lock only after dropping work_lock (lock order: vm->lock
 * before work_lock), and therefore runs with no lock held. */
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void vm_sync_init(struct vm *vm)
{
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->park_wake, NULL);
	pthread_cond_init(&vm->parked_cond, NULL);
	pthread_mutex_init(&vm->work_lock, NULL);
	pthread_cond_init(&vm->work_cond, NULL);
}

static void process_work(struct vm *vm, struct vcpu *v)
{
	pthread_mutex_lock(&vm->work_lock);
	while (v->work) {
		struct vcpu_work *w = v->work;
		v->work = w->next;
		pthread_mutex_unlock(&vm->work_lock);
		w->result = w->fn(vm, v->id, w->arg);
		pthread_mutex_lock(&vm->work_lock);
		w->done = true;
		pthread_cond_broadcast(&vm->work_cond);
	}
	pthread_mutex_unlock(&vm->work_lock);
}

void vcpu_process_work(struct vm *vm, int vcpu)
{
	process_work(vm, &vm->vcpus[vcpu]);
}

void vcpu_work_done(struct vm *vm, int vcpu)
{
	pthread_mutex_lock(&vm->work_lock);
	vm->vcpus[vcpu].gone = true;
	pthread_mutex_unlock(&vm->work_lock);
	process_work(vm, &vm->vcpus[vcpu]);
}

/* Run fn on vCPU `vcpu`'s own thread and wait for it.  `self` says the caller
 * is that thread.  A waiting vCPU thread keeps serving its own queue, so two
 * vCPUs asking each other cannot deadlock; a parked one serves it too (the
 * file's comment).  The wait is on work_cond: the target's SIGUSR1 and
 * immediate_exit get it out of KVM_RUN, park_wake out of the pause, and it
 * broadcasts when the work is done. */
int vm_vcpu_run_on(struct vm *vm, int vcpu, int (*fn)(struct vm *vm, int vcpu, void *arg), void *arg,
		   int self)
{
	struct vcpu *v = &vm->vcpus[vcpu];
	struct vcpu_work w = { .fn = fn, .arg = arg };
	struct vcpu *me = NULL;

	if (self || !v->started)
		return fn(vm, vcpu, arg);
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].started && pthread_equal(vm->vcpus[i].thread, pthread_self()))
			me = &vm->vcpus[i];
	if (me == v)
		return fn(vm, vcpu, arg);
	pthread_mutex_lock(&vm->work_lock);
	if (v->gone) {
		/* Its thread has left KVM_RUN for good: nothing blocks the ioctl. */
		pthread_mutex_unlock(&vm->work_lock);
		return fn(vm, vcpu, arg);
	}
	w.next = v->work;
	v->work = &w;
	v->run->immediate_exit = 1;
	pthread_cond_broadcast(&vm->work_cond);
	pthread_mutex_unlock(&vm->work_lock);
	pthread_mutex_lock(&vm->lock);
	pthread_cond_broadcast(&vm->park_wake);
	pthread_mutex_unlock(&vm->lock);
	pthread_kill(v->thread, SIGUSR1);
	pthread_mutex_lock(&vm->work_lock);
	while (!w.done) {
		if (me && me->work) {
			pthread_mutex_unlock(&vm->work_lock);
			process_work(vm, me);
			pthread_mutex_lock(&vm->work_lock);
			continue;
		}
		pthread_cond_wait(&vm->work_cond, &vm->work_lock);
	}
	pthread_mutex_unlock(&vm->work_lock);
	return w.result;
}

static void kick_all(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpus[i].run->immediate_exit = 1;
		if (vm->vcpus[i].started)
			pthread_kill(vm->vcpus[i].thread, SIGUSR1);
	}
}

void vm_pause(struct vm *vm, bool pause)
{
	pthread_mutex_lock(&vm->lock);
	vm->paused = pause;
	if (!pause)
		pthread_cond_broadcast(&vm->park_wake);
	pthread_mutex_unlock(&vm->lock);
	if (pause)
		kick_all(vm);
}

static bool has_work(struct vm *vm, const struct vcpu *v)
{
	bool r;

	pthread_mutex_lock(&vm->work_lock);
	r = v->work != NULL;
	pthread_mutex_unlock(&vm->work_lock);
	return r;
}

/* Called by vCPU thread `vcpu` before entering the guest.  It stays counted
 * as parked while it serves its queue: it is out of KVM_RUN and done with
 * its last exit, which is what vm_pause_sync() waits for. */
void vm_wait_unpaused(struct vm *vm, int vcpu)
{
	struct vcpu *v = &vm->vcpus[vcpu];

	pthread_mutex_lock(&vm->lock);
	/* The last kick is spent: cleared here, under the lock vm_pause()
	 * sets `paused` under before it kicks, so a pause after this check
	 * finds immediate_exit set at KVM_RUN.  (Cleared after the check, by
	 * process_work, a pause's kick was lost until the vCPU's next exit.)
	 * Work queued later sets it again under work_lock (vm_vcpu_run_on). */
	v->run->immediate_exit = 0;
	if (vm->paused) {
		vm->parked++;
		v->parked = true;
		pthread_cond_broadcast(&vm->parked_cond);
		while (vm->paused && atomic_load(&vm->exit_reason) == VM_RUNNING) {
			if (has_work(vm, v)) {
				/* The work may take any lock: vm->lock is not held. */
				pthread_mutex_unlock(&vm->lock);
				process_work(vm, v);
				pthread_mutex_lock(&vm->lock);
				continue;
			}
			pthread_cond_wait(&vm->park_wake, &vm->lock);
		}
		vm->parked--;
		v->parked = false;
	}
	pthread_mutex_unlock(&vm->lock);
}

/* *stuck has a bit per vCPU. */
_Static_assert(VMM_MAX_VCPUS <= 32, "vm_pause_sync's stuck mask holds 32 vCPUs");

/* Bounded (VM_PAUSE_SYNC_MS in vm.h says why): a vCPU thread blocks only
 * on vm->lock, work_lock and the work of other vCPUs, which every vCPU
 * serves even parked, so each one parks once it is out of KVM_RUN and done
 * with its exit; one that does not is stuck in its exit handler. */
int vm_pause_sync(struct vm *vm, int timeout_ms, uint32_t *stuck)
{
	int started = 0, rc = 0, r = 0;
	struct timespec until;
	bool was_paused;

	pthread_mutex_lock(&vm->lock);
	was_paused = vm->paused;
	pthread_mutex_unlock(&vm->lock);
	vm_pause(vm, true);
	for (int i = 0; i < vm->nr_vcpus; i++)
		started += vm->vcpus[i].started;
	/* parked_cond uses the default clock, CLOCK_REALTIME: a jump of the
	 * wall clock shortens or stretches the wait, which only moves when a
	 * stuck save gives up. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	if (stuck)
		*stuck = 0;
	pthread_mutex_lock(&vm->lock);
	while (vm->parked < started && atomic_load(&vm->exit_reason) == VM_RUNNING && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&vm->parked_cond, &vm->lock, &until);
	if (atomic_load(&vm->exit_reason) != VM_RUNNING) {
		rc = -ESHUTDOWN;
	} else if (vm->parked < started) {
		rc = -ETIMEDOUT;
		for (int i = 0; stuck && i < vm->nr_vcpus; i++)
			if (vm->vcpus[i].started && !vm->vcpus[i].parked)
				*stuck |= 1u << i;
	}
	pthread_mutex_unlock(&vm->lock);
	if (rc == -ETIMEDOUT && !was_paused)
		vm_pause(vm, false);
	return rc;
}

void vm_request_exit(struct vm *vm, enum vm_exit_reason why)
{
	int expected = VM_RUNNING;
	uint64_t one = 1;

	if (atomic_compare_exchange_strong(&vm->exit_reason, &expected, (int)why)) {
		if (write(vm->exit_eventfd, &one, sizeof(one)) < 0)
			log_err(vm->name, "cannot signal the domain's end: %s", strerror(errno));
		pthread_mutex_lock(&vm->lock);
		pthread_cond_broadcast(&vm->park_wake);
		pthread_cond_broadcast(&vm->parked_cond);
		pthread_mutex_unlock(&vm->lock);
		kick_all(vm);
	}
}
