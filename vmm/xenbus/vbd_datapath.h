/* What the vbd's data path (vbd_datapath.c) needs of the monitor: its
 * event loop, the guest's grants and event channels.  The monitor fills it
 * from its struct vm (vmm/be_host.c: the locked grant wrappers of
 * gnttab.h, the back-end ports of evtchn.h); a unit test fills it with a
 * fake guest (tests/vmm/blk_fake.c) and drives a real ring.  It is the
 * `host` of vbd_new() and of the seam in vbd.h.
 *
 * Threading: every op is called on the event loop thread. */
#ifndef DOMUS_VMM_XENBUS_VBD_DATAPATH_H
#define DOMUS_VMM_XENBUS_VBD_DATAPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "be_dp.h"
#include "blk/blkback.h"

struct evl;

struct vbd_host {
	struct evl *loop;
	struct blk_gnt gnt; /* the monitor's: gnttab_map_ref() & co. on its vm */
	const struct be_evtchn_ops *evtchn; /* be_dp.h */
	void *evtchn_ctx;
	blkback_engine_fn *engine; /* NULL: io_uring (blkback_engine_uring) */
	const char *name;          /* for the log: the domain's */
};

struct vm;
/* The monitor's host: vm's grants and ports, the loop. */
void vbd_host_vm(struct vbd_host *h, struct vm *vm, struct evl *loop);

#endif
