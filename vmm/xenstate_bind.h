/* A VM's Xen state as the plain data xenstate/xenstate.h saves and loads,
 * and the post-load step that applies loaded state to KVM. */
#ifndef DOMUS_VMM_XENSTATE_BIND_H
#define DOMUS_VMM_XENSTATE_BIND_H

#include "xenstate/xenstate.h"

struct vm;

/* Point x at vm's parts.  Save and load run with the domain paused. */
void vm_xenstate(struct vm *vm, struct xenstate *x);
/* After xenstate_load() into a VM that has not run: place the grant frames,
 * the upcall vector and shared_info with KVM, register the ports KVM
 * delivers and the VIRQ_TIMER ports.  Back ends then give their
 * interdomain ports their eventfds (evtchn_attach_notify). */
int vm_xenstate_post_load(struct vm *vm);

#endif
