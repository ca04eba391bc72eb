/* Saving and loading the VM-wide KVM state of a domain: kvmclock, the
 * in-kernel irqchip and PIT, and the ACPI PM model (records CLOCK,
 * IRQCHIP, PIT, ACPI_PM; docs/vmm-state.md "The KVM side").
 *
 * Precondition for both: every vCPU is paused (vm_pause()) or not started,
 * so no vCPU runs guest code while the clock and the chips are read or
 * written.  The lab is the only place these run: a unit test has no KVM. */
#ifndef DOMUS_VMM_STATE_PLATFORM_STATE_H
#define DOMUS_VMM_STATE_PLATFORM_STATE_H

#include "domus/stream.h"
#include "state/platform_rec.h"

struct vm;

/* Appends CLOCK, IRQCHIP, PIT and ACPI_PM, in that order (the order a load
 * needs them in). */
int platform_state_save(struct vm *vm, struct stream_writer *w);

/* Loads one record of the four into a VM that has not run since it was
 * created.  CLOCK must come first: it fills *clk, which ACPI_PM and the vCPU
 * loaders (vcpu_state_load) use to carry the timers across the time the
 * domain was saved.  -ENOENT (and r untouched) for a record of another
 * type; else 0, or -errno with stream_error(r) naming the record. */
int platform_state_load(struct vm *vm, struct platform_clock *clk, struct stream_reader *r,
			const struct stream_record *rec);

#endif
