/* One domain's monitor state: the KVM VM, its vCPUs, guest memory and the Xen
 * state the hypervisor would keep for it (event channels, grant table, HVM
 * params).  Lock order, outermost first: vm->lock, evtchn->lock, gnttab->lock,
 * vm->work_lock (docs/vmm-parts.md has the threads and what each touches). */
#ifndef DOMUS_VMM_VM_H
#define DOMUS_VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "domus/log.h"
#include "guest_mem.h"
#include "boot/acpi_pm.h"
#include "evtchn.h"
#include "gnttab.h"
#include "vm_kvm.h"

#define VMM_MAX_VCPUS 32 /* vcpu_info slots in shared_info (XEN_LEGACY_MAX_VCPUS) */

struct vm;
struct console;

/* Work another thread needs done on this vCPU's thread: vCPU ioctls block
 * while the vCPU is inside KVM_RUN (xen-guest-abi.md §10.2). */
struct vcpu_work {
	int (*fn)(struct vm *vm, int vcpu, void *arg);
	void *arg;
	int result;
	bool done;
	struct vcpu_work *next;
};

struct vcpu {
	int id; /* Xen vCPU id == APIC id == ACPI UID == KVM vcpu id */
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	int tid; /* the thread's kernel id, for /proc */
	struct vcpu_work *work; /* under vm->work_lock */
	bool gone;              /* under vm->work_lock: its thread takes no more work */
	bool parked;            /* under vm->lock: waiting in vm_wait_unpaused() */
	uint64_t vcpu_info_gpa; /* where KVM's VCPU_INFO attr points, 0 if unset */
	uint32_t timer_port;    /* VIRQ_TIMER port given to KVM, 0 if none */
	uint64_t hypercalls, io_exits, mmio_exits; /* exits to us, counted */
};

enum vm_exit_reason { VM_RUNNING, VM_POWEROFF, VM_REBOOT, VM_CRASH, VM_ERROR, VM_DESTROYED };

struct vm {
	const struct vm_kvm_ops *kvm; /* the KVM actions of hypercalls (vm_kvm.h) */
	int kvm_fd, fd;
	uint32_t domid;
	const char *name;
	struct guest_mem mem;
	uint8_t *special;      /* the 8 special pages (xenstore, console rings ...) */
	uint8_t *grant_frames; /* GNTTAB_MAX_FRAMES pages */
	size_t run_size;
	int nr_vcpus;
	struct vcpu vcpus[VMM_MAX_VCPUS];
	pthread_mutex_t lock; /* memslots, shared_info, params */
	/* Every vCPU's work queue; work_cond is broadcast when work is queued
	 * or done, so a waiting vCPU also wakes to serve its own queue. */
	pthread_mutex_t work_lock;
	pthread_cond_t work_cond;
	uint64_t shared_info_gpa; /* 0 until the guest places it */
	uint64_t hvm_params[64];
	struct evtchn_table evtchn;
	struct gnttab gnttab;
	int next_slot; /* next free KVM memslot number */
	_Atomic int exit_reason;
	_Atomic uint64_t unknown_hypercalls; /* bit n: hypercall n was logged */
	_Atomic uint64_t first_entry_ns; /* CLOCK_REALTIME of vCPU 0's first KVM_RUN */
	bool paused; /* under lock; vCPUs wait on `park_wake` before KVM_RUN */
	/* Broadcast under lock when the pause ends, the domain ends or work is
	 * queued: a parked vCPU serves its queue (vm_pause.c). */
	pthread_cond_t park_wake;
	int parked; /* under lock: vCPU threads waiting in vm_wait_unpaused() */
	pthread_cond_t parked_cond;
	bool restored; /* state came from a save stream: back ends take their ports from HVM params */
	/* Set by the monitor's stop before the devices go (its vCPUs gone, the
	 * VM closed next): their teardown, shared with a hot-unplug, skips
	 * what only a VM that goes on needs (be_host.c, evtchn.c). */
	_Atomic bool ending;
	int exit_eventfd; /* written when a vCPU ends the domain */
	bool amd;
	struct console *console;
	struct log_ratelimit guest_rl; /* guest-triggered log lines */
	pthread_mutex_t pm_lock;
	struct acpi_pm pm; /* ACPI PM1 registers, timer, reset ports */
};

int vm_create(struct vm *vm, uint64_t ram_bytes, int nr_vcpus);
void vm_destroy(struct vm *vm);

/* vm_pause.c: threads and locks only, no KVM. */
/* The mutexes and conditions (vm_create() calls it first). */
void vm_sync_init(struct vm *vm);
/* Runs fn on vCPU vcpu's own thread (directly when self, when the caller is
 * that thread, or when the thread is not started or gone) and returns its
 * result.  The target serves it whether it runs or is paused.  The caller
 * holds no lock: queueing takes work_lock, then vm->lock. */
int vm_vcpu_run_on(struct vm *vm, int vcpu, int (*fn)(struct vm *vm, int vcpu, void *arg), void *arg,
		   int self);
void vm_request_exit(struct vm *vm, enum vm_exit_reason why);
void vm_pause(struct vm *vm, bool pause);
/* vCPU thread vcpu, before KVM_RUN: while the domain is paused and not
 * ending, park there, serving its work queue. */
void vm_wait_unpaused(struct vm *vm, int vcpu);
/* How long a save waits for the vCPUs to park.  A vCPU parks once it is
 * out of KVM_RUN and done with its exit, which takes microseconds unless
 * its exit handler is stuck (a back end or host call that never returns):
 * the save must then fail and the domain run on, not hang its monitor's
 * control socket and `xl save` with it.  10 s is far above any exit seen
 * (under TCG in the lab, a pause completes in milliseconds). */
#define VM_PAUSE_SYNC_MS 10000
/* Pauses and waits until every started vCPU thread is parked in
 * vm_wait_unpaused(), out of KVM_RUN and done with its last exit, so that
 * its state may be read (through vm_vcpu_run_on(), which it serves parked).
 * -ESHUTDOWN when the domain is ending.  -ETIMEDOUT when some vCPU has not
 * parked within timeout_ms: the pause is undone if the domain ran before
 * (it runs on as it did) and bit n of *stuck (if not NULL) is set for each
 * vCPU n that did not park. */
int vm_pause_sync(struct vm *vm, int timeout_ms, uint32_t *stuck);
/* vm_kvm.c: the KVM actions through vm->kvm (vm_kvm.h). */
int vm_map_slot(struct vm *vm, int slot, uint64_t gpa, uint64_t size, void *hva);
int vm_set_xen_attr(struct vm *vm, struct kvm_xen_hvm_attr *a);
int vm_set_vcpu_attr(struct vm *vm, int vcpu, struct kvm_xen_vcpu_attr *a, int self);
/* Raise port on vCPU vcpu (KVM_XEN_HVM_EVTCHN_SEND, 2-level). */
int vm_evtchn_send(struct vm *vm, uint32_t port, uint32_t vcpu);
void vcpu_process_work(struct vm *vm, int vcpu);
/* Called by a vCPU thread as it leaves its run loop: runs what is queued;
 * later work runs on the asking thread (the vCPU is out of KVM_RUN). */
void vcpu_work_done(struct vm *vm, int vcpu);

#endif
