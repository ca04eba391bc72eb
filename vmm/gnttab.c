/* grant_table_op (20) and the grant frames' placement (xen-guest-abi.md §5). */
#include "gnttab.h"

#include <errno.h>
#include <string.h>

#include "domus/log.h"
#include "vm.h"
#include "xen/hypercall.h"
#include "xen/xen_abi.h"

void gnttab_init(struct gnttab *g)
{
	pthread_mutex_init(&g->lock, NULL);
	gnttab_core_init(&g->core, NULL);
	for (int i = 0; i < GNTTAB_MAX_FRAMES; i++)
		g->slot[i] = -1;
}

void gnttab_fini(struct gnttab *g)
{
	gnttab_core_fini(&g->core);
}

/* Give frame idx its memslot at gpa (moving it from where it was), and
 * record the outcome.  Called with vm->lock held. */
static int place(struct vm *vm, uint64_t idx, uint64_t gpa)
{
	struct gnttab *g = &vm->gnttab;
	uint64_t old = g->core.frame_gpa[idx];
	int rc;

	if (old == gpa && g->slot[idx] >= 0)
		return 0;
	if (g->slot[idx] < 0)
		g->slot[idx] = vm->next_slot++;
	else
		vm_map_slot(vm, g->slot[idx], old, 0, NULL);
	rc = vm_map_slot(vm, g->slot[idx], gpa, 4096, vm->grant_frames + idx * 4096);
	pthread_mutex_lock(&g->lock);
	gnttab_core_set_place(&g->core, idx, rc == 0 ? gpa : 0);
	pthread_mutex_unlock(&g->lock);
	return rc < 0 ? -EINVAL : 0;
}

/* The guest moves a frame by mapping it again: one memslot per frame, moved
 * (QEMU xen_overlay.c keeps one mapping per overlay page too). */
int gnttab_map_frame(struct vm *vm, uint64_t idx, uint64_t gpfn)
{
	uint64_t gpa;
	int rc = gnttab_core_check_place(&vm->mem, idx, gpfn, &gpa);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&vm->lock);
	rc = vm->gnttab.core.frame_gpa[idx] == gpa ? 0 : place(vm, idx, gpa);
	pthread_mutex_unlock(&vm->lock);
	return rc;
}

int gnttab_post_load(struct vm *vm)
{
	struct gnttab *g = &vm->gnttab;
	int rc = 0;

	pthread_mutex_lock(&vm->lock);
	for (uint64_t i = 0; i < GNTTAB_MAX_FRAMES && rc == 0; i++) {
		if (g->core.frame_gpa[i])
			rc = place(vm, i, g->core.frame_gpa[i]);
	}
	pthread_mutex_unlock(&vm->lock);
	return rc;
}

/* Guest frames a grant may name: RAM and the special pages (the console and
 * xenstore rings of refs 0 and 1). */
static void *vm_frame(void *ctx, uint64_t gfn)
{
	struct vm *vm = ctx;
	uint64_t gpa;

	if (gmem_pfn_gpa(gfn, &gpa) < 0)
		return NULL;
	if (gpa >= LAYOUT_SPECIAL_BASE && gpa < LAYOUT_SPECIAL_BASE + LAYOUT_SPECIAL_PAGES * 4096)
		return vm->special + (gpa - LAYOUT_SPECIAL_BASE);
	return gmem_ptr(&vm->mem, gpa, 4096);
}

int gnttab_map_ref(struct vm *vm, uint32_t ref, bool writable, struct gnttab_mapping *out)
{
	const struct gnttab_mem m = { vm_frame, vm };
	int rc;

	pthread_mutex_lock(&vm->gnttab.lock);
	rc = gnttab_core_map(&vm->gnttab.core, &m, 0, ref, writable, out);
	pthread_mutex_unlock(&vm->gnttab.lock);
	return rc;
}

int gnttab_unmap_ref(struct vm *vm, struct gnttab_mapping *map)
{
	int rc;

	pthread_mutex_lock(&vm->gnttab.lock);
	rc = gnttab_core_unmap(&vm->gnttab.core, map);
	pthread_mutex_unlock(&vm->gnttab.lock);
	return rc;
}

int gnttab_copy_from_ref(struct vm *vm, uint32_t ref, uint32_t offset, void *buf, uint32_t len)
{
	const struct gnttab_mem m = { vm_frame, vm };
	int rc;

	pthread_mutex_lock(&vm->gnttab.lock);
	rc = gnttab_core_copy_from(&vm->gnttab.core, &m, 0, ref, offset, buf, len);
	pthread_mutex_unlock(&vm->gnttab.lock);
	return rc;
}

int gnttab_copy_to_ref(struct vm *vm, uint32_t ref, uint32_t offset, const void *buf, uint32_t len)
{
	const struct gnttab_mem m = { vm_frame, vm };
	int rc;

	pthread_mutex_lock(&vm->gnttab.lock);
	rc = gnttab_core_copy_to(&vm->gnttab.core, &m, 0, ref, offset, buf, len);
	pthread_mutex_unlock(&vm->gnttab.lock);
	return rc;
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
			q.nr_frames = gnttab_core_nr_entries(&vm->gnttab.core) / GNTTAB_ENTRIES_PER_FRAME;
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
