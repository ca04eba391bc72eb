/* Saving and loading one vCPU's KVM state (record VCPU; docs/vmm-state.md
 * "The KVM side"): registers, FPU/XSAVE, XCRs, debug registers, pending
 * events, MP state, LAPIC, the MSRs that move, the TSC and KVM's Xen vCPU
 * attributes.
 *
 * Precondition: the vCPU is not in KVM_RUN and will not enter it until the
 * call returns: the domain is paused (vm_pause_sync()) and the call runs on
 * the vCPU's own thread through vm_vcpu_run_on(), which a parked vCPU
 * serves (vm_pause.c; monitor_save does so), or its thread is not started
 * (a restore: the ioctls run on the caller's thread).  The lab is
 * the only place these run: a unit test has no KVM. */
#ifndef DOMUS_VMM_STATE_VCPU_STATE_H
#define DOMUS_VMM_STATE_VCPU_STATE_H

#include "domus/stream.h"
#include "state/platform_rec.h"
#include "state/vcpu_rec.h"

struct vm;

/* Reads vCPU vcpu into *s.  A vCPU that has run first re-enters KVM_RUN
 * with immediate_exit set, so that an exit user space already answered (a
 * hypercall's result, an I/O read) is completed in the registers before
 * they are read (api.rst, KVM_RUN: "userspace should ensure that the
 * operation is completed before performing a live migration"). */
int vcpu_state_get(struct vm *vm, int vcpu, struct vcpu_state *s);
/* Writes *s into vCPU s->id of a VM that has not run, in the order
 * docs/vmm-state.md gives; clk is the loaded CLOCK (platform_state_load). */
int vcpu_state_put(struct vm *vm, const struct vcpu_state *s, const struct platform_clock *clk);

/* vcpu_state_get() and one VCPU record appended to w. */
int vcpu_state_save(struct vm *vm, int vcpu, struct stream_writer *w);
/* One VCPU record decoded (refused, with stream_error(r) naming it, for a
 * vCPU id beyond the VM's count or any bad section) and put.  Runs after
 * the CLOCK record and after vm_xenstate_post_load(): that step points
 * every vCPU at its default vcpu_info and arms no timer, and this one then
 * sets the saved ones. */
int vcpu_state_load(struct vm *vm, const struct platform_clock *clk, struct stream_reader *r,
		    const struct stream_record *rec);

#endif
