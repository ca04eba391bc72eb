/* The monitor's seccomp sandbox (docs/sandbox.md): one system-call
 * allowlist per thread role, installed by each thread on itself once the
 * domain is set up.  A call outside the list ends the whole monitor
 * (SECCOMP_RET_KILL_PROCESS, SIGSYS): the domain dies, nothing else does.
 *
 * A seccomp filter belongs to the thread that installs it and to the
 * threads it creates afterwards; a second filter stacks on the first (a
 * call must pass both).  So each thread installs its own role's filter, and
 * installs it after it has created the threads that must not inherit it
 * (the main thread goes last: it created the loop and the vCPU threads). */
#ifndef DOMUS_VMM_SANDBOX_H
#define DOMUS_VMM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

enum sandbox_role {
	SANDBOX_MAIN, /* main(): waits for the end, then quiesces and stops the parts */
	SANDBOX_LOOP, /* the event loop (evloop.c) and libxenstore's threads it starts */
	SANDBOX_VCPU, /* a vCPU thread (vcpu.c): KVM_RUN and the exits it answers */
	SANDBOX_NROLES
};

const char *sandbox_role_name(enum sandbox_role role);

enum sandbox_mode {
	SANDBOX_KILL, /* a call outside the list ends the process */
	SANDBOX_LOG,  /* it is logged by the kernel (audit type 1326) and runs: for finding rows */
};

/* Builds the role's filter and loads it on the calling thread (no new
 * privileges from then on).  0, or a negative errno; nothing is installed
 * on failure. */
int sandbox_install_mode(enum sandbox_role role, enum sandbox_mode mode);
/* The same, SANDBOX_KILL. */
int sandbox_install(enum sandbox_role role);

struct vm;
struct evl;

/* The monitor's order (docs/sandbox.md "Install order"), once every part
 * has started and before the guest runs: each vCPU thread, parked since
 * its start (vm->paused), installs SANDBOX_VCPU on itself (through
 * vm_vcpu_run_on), then the loop thread SANDBOX_LOOP (evl_sync), then the
 * calling thread SANDBOX_MAIN.  The domain stays paused: the caller
 * unpauses it.  0, or a negative errno with why naming the thread. */
int sandbox_threads(struct vm *vm, struct evl *loop, enum sandbox_mode mode, char *why, size_t wl);

/* Whether the role's table has a row for the system call `name` (any
 * arguments): for tests and the documentation. */
bool sandbox_role_lists(enum sandbox_role role, const char *name);

#endif
