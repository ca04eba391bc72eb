/* Save and load of one domain's Xen state (docs/vmm-state.md): the
 * event-channel table, the grant table's size and frame placement, the HVM
 * params and where shared_info is, as records of the save stream
 * (domus/stream.h).  Plain data in, plain data out: binding what was loaded
 * to KVM is the caller's post-load step (xenstate_bind.c). */
#ifndef DOMUS_VMM_XENSTATE_XENSTATE_H
#define DOMUS_VMM_XENSTATE_XENSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "domus/stream.h"
#include "guest_mem.h"
#include "xenstate/evtchn_core.h"
#include "xenstate/gnttab_core.h"

/* HVM_PARAM_CALLBACK_IRQ's type in bits 63:56 (xen/hvm/params.h): 2 is a
 * vector on every vCPU, 0 a GSI (kept as a value: Linux writes GSI 1 beside
 * per-vCPU vectors, and a PVH guest has no IOAPIC to route it). */
#define CALLBACK_TYPE_GSI 0ULL
#define CALLBACK_TYPE_VECTOR 2ULL

/* What a guest may set CALLBACK_IRQ to and a load may bring back (hvm.c and
 * the load share it, so that every value a guest sets loads again): a GSI
 * below 256 (0 is "none"), or a vector of 0x10 or more. */
static inline bool xenstate_callback_ok(uint64_t cb)
{
	if (cb & 0x00ffffffffffff00ULL)
		return false;
	if ((cb >> 56) == CALLBACK_TYPE_VECTOR)
		return (cb & 0xff) >= 0x10;
	return (cb >> 56) == CALLBACK_TYPE_GSI;
}

/* HVM params saved: every index Xen defines. */
#define XENSTATE_NR_PARAMS HVM_NR_PARAMS

/* Where one domain keeps each part; the caller holds whatever locks guard
 * them while a save or load runs (the domain is paused). */
struct xenstate {
	struct evtchn_core *evtchn;
	struct gnttab_core *gnttab;
	uint64_t *hvm_params;       /* XENSTATE_NR_PARAMS of them */
	uint64_t *shared_info_gpa;  /* 0: not placed */
	const struct guest_mem *mem; /* the RAM loaded addresses are checked against */
};

/* Append the records of every part to w (header and end are the caller's).
 * -EBUSY while a back end holds a grant: its mapping would not survive the
 * save, so back ends unmap when they quiesce. */
int xenstate_save(const struct xenstate *x, struct stream_writer *w);

/* Read records from r up to the end record (r's header already read) and
 * load them: each part's record exactly once.  All or nothing: on any error
 * nothing in x changes, and stream_error(r) says which record was wrong
 * and why.  -EBADMSG for a bad stream, -EBUSY as for save. */
int xenstate_load(struct xenstate *x, struct stream_reader *r);

/* The same, one record at a time, for a stream that interleaves the Xen
 * state with other parts' records (a restore, docs/save-restore.md):
 * begin, then each record (-ENOENT, r untouched, for a record that is not
 * the Xen state's), then finish, which checks that every part came (naming
 * `next`, the record after them, when one did not) and only then changes x.
 * free in every case. */
struct xenstate_loader;
int xenstate_load_begin(struct xenstate *x, struct xenstate_loader **out);
int xenstate_load_record(struct xenstate_loader *l, struct stream_reader *r, const struct stream_record *rec);
int xenstate_load_finish(struct xenstate_loader *l, struct stream_reader *r, const struct stream_record *next);
void xenstate_load_free(struct xenstate_loader *l);

#endif
