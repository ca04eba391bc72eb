/* grant_table_op (20) and the grant frames' placement (xen-guest-abi.md §5). */
#include "gnttab.h"

#include <errno.h>
#include <string.h>

#include "domus/log.h"
#include "vm.h"
#include "xen/hypercall.h"
#include "xen/xen_abi.h"

/* The guest moves a frame by mapping it again: one memslot per frame, moved
 * (QEMU xen_overlay.c keeps one mapping per overlay page too). */
int gnttab_map_frame(struct vm *vm, uint64_t idx, uint64_t gpfn)
{
	struct gnttab *g = &vm->gnttab;
	uint64_t gpa = gpfn << 12;
	int rc;

	if (idx & XENMAPIDX_grant_table_status)
		return -EINVAL; /* status frames are v2 */
	if (idx >= GNTTAB_MAX_FRAMES || gpfn >= (1ULL << 40))
		return -EINVAL;
	/* Frames may not cover RAM or the special pages: KVM refuses
	 * overlapping memslots, and RAM stays RAM. */
	if (gmem_offset(&vm->mem, gpa, 4096) >= 0 ||
	    (gpa >= LAYOUT_SPECIAL_BASE && gpa < LAYOUT_SPECIAL_BASE + LAYOUT_SPECIAL_PAGES * 4096))
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	if (g->frame_gpa[idx] == gpa) {
		pthread_mutex_unlock(&vm->lock);
		return 0;
	}
	if (g->slot[idx] < 0)
		g->slot[idx] = vm->next_slot++;
	else
		vm_map_slot(vm, g->slot[idx], g->frame_gpa[idx], 0, NULL);
	rc = vm_map_slot(vm, g->slot[idx], gpa, 4096, vm->grant_frames + idx * 4096);
	if (rc == 0) {
		g->frame_gpa[idx] = gpa;
		if (idx + 1 > g->nr_frames)
			g->nr_frames = (uint32_t)idx + 1;
	} else {
		g->frame_gpa[idx] = 0;
	}
	pthread_mutex_unlock(&vm->lock);
	return rc < 0 ? -EINVAL : 0;
}

int gnttab_hypercall(struct vm *vm, int vcpu, uint64_t cmd, uint64_t arg, uint64_t count)
{
	int rc;

	if (count != 1)
		return -EINVAL; /* the ops a domU issues come one at a time */
	switch (cmd) {
	case GNTTABOP_query_size: {
		struct gnttab_query_size q;
		rc = guest_copy_from(vm, vcpu, arg, &q, sizeof(q));
		if (rc < 0)
			return rc;
		if (q.dom != DOMID_SELF && q.dom != vm->domid) {
			q.status = GNTST_bad_domain;
		} else {
			q.nr_frames = vm->gnttab.nr_frames ? vm->gnttab.nr_frames : 1;
			q.max_nr_frames = GNTTAB_MAX_FRAMES;
			q.status = GNTST_okay;
		}
		return guest_copy_to(vm, vcpu, arg, &q, sizeof(q));
	}
	case GNTTABOP_set_version: {
		struct gnttab_set_version v;
		rc = guest_copy_from(vm, vcpu, arg, &v, sizeof(v));
		if (rc < 0)
			return rc;
		return v.version == 1 ? 0 : -ENOSYS; /* v1 only, as QEMU */
	}
	case GNTTABOP_get_version: {
		struct gnttab_get_version v;
		rc = guest_copy_from(vm, vcpu, arg, &v, sizeof(v));
		if (rc < 0)
			return rc;
		if (v.dom != DOMID_SELF && v.dom != vm->domid)
			return -ESRCH;
		v.version = 1;
		return guest_copy_to(vm, vcpu, arg, &v, sizeof(v));
	}
	default:
		return -ENOSYS; /* setup_table and the mapping ops are PV/Dom0 */
	}
}

int64_t hc_grant_table_op(struct vm *vm, int vcpu, const uint64_t a[6])
{
	return gnttab_hypercall(vm, vcpu, a[0], a[1], a[2]);
}
