/* The restore dispatcher (docs/vmm-state.md "Order on load"): the monitor's
 * records of a save stream routed to the parts that load them, in phases,
 * as plain data: no KVM, so a unit test feeds it streams with fake parts
 * (tests/vmm/test_load_dispatch.c).  vmm/restore.c binds it to the VM.
 *
 *   phase      records                               may repeat
 *   memory     MEMORY, EXTRA_MEMORY                  yes
 *   CLOCK      CLOCK                                 no, and required
 *   platform   IRQCHIP, PIT, ACPI_PM                 no
 *   Xen state  EVTCHN, GNTTAB, HVM_PARAMS, SHARED_INFO  no; then xen_done
 *   devices    XENBUS                                one per back end (the part checks)
 *   VCPU       VCPU                                  one per vCPU id, all required
 *   END
 *
 * Every refusal is one line in the reader's error (stream_error()) naming
 * the record and its offset: a type that is no record of the monitor's
 * state (xl's or xenstored's), a record of an earlier phase after a later
 * one, a second record of a kind that comes once, a second VCPU record of
 * one id, a missing CLOCK or vCPU, or what a part or the reader refused
 * (truncated, unknown, oversize). */
#ifndef DOMUS_VMM_STATE_LOAD_DISPATCH_H
#define DOMUS_VMM_STATE_LOAD_DISPATCH_H

#include "domus/stream.h"

/* A part's loader: 0, or a negative errno with the reason set in r
 * (stream_reject). */
typedef int load_rec_fn(void *ctx, struct stream_reader *r, const struct stream_record *rec);

struct load_parts {
	load_rec_fn *memory;   /* MEMORY, EXTRA_MEMORY */
	load_rec_fn *platform; /* CLOCK, IRQCHIP, PIT, ACPI_PM */
	load_rec_fn *xen;      /* EVTCHN, GNTTAB, HVM_PARAMS, SHARED_INFO */
	/* After the Xen state, before the first VCPU (or END): check it is
	 * whole and bind it; next is the record that leaves the phase. */
	load_rec_fn *xen_done;
	load_rec_fn *devices; /* XENBUS */
	load_rec_fn *vcpu;    /* VCPU; an id beyond nr_vcpus is its to refuse */
};

/* Reads records from r up to and with END (r positioned at the first of
 * them) and hands each to its part. */
int load_dispatch(struct stream_reader *r, int nr_vcpus, const struct load_parts *parts, void *ctx);

#endif
