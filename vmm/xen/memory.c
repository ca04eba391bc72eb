/* memory_op (12): the memory map, placing shared_info and grant frames, and
 * the balloon's reservation changes. */
#include "hypercall.h"
#include "xen_abi.h"
#include "../vm.h"
#include "../shinfo.h"
#include "../boot/pvh.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

/* XENMEM_memory_map: the same map the guest got at boot (pvh_memmap(), as
 * hvm_start_info and boot_params carry it), as packed 20-byte e820 entries
 * (struct e820entry, xen/hvm/e820.h). */
static int64_t memory_map(struct vm *vm, int vcpu, uint64_t arg)
{
	struct hvm_memmap_table_entry map[PVH_MEMMAP_MAX];
	unsigned n = pvh_memmap(&vm->mem, map, PVH_MEMMAP_MAX);
	struct xen_memory_map mm;
	int rc = guest_copy_from(vm, vcpu, arg, &mm, sizeof(mm));
	uint64_t buf;

	if (rc < 0)
		return rc;
	if (mm.nr_entries < n)
		return -EINVAL;
	buf = (uint64_t)(uintptr_t)mm.buffer.p;
	for (unsigned i = 0; i < n; i++) {
		struct __attribute__((packed)) {
			uint64_t addr, size;
			uint32_t type;
		} e = { map[i].addr, map[i].size, map[i].type };
		rc = guest_copy_to(vm, vcpu, buf + (uint64_t)i * sizeof(e), &e, sizeof(e));
		if (rc < 0)
			return rc;
	}
	mm.nr_entries = n;
	return guest_copy_to(vm, vcpu, arg, &mm, sizeof(mm));
}

static int64_t add_to_physmap(struct vm *vm, int vcpu, uint64_t arg)
{
	struct xen_add_to_physmap x;
	uint64_t gpa;
	int rc = guest_copy_from(vm, vcpu, arg, &x, sizeof(x));

	if (rc < 0)
		return rc;
	if (x.domid != DOMID_SELF && x.domid != vm->domid)
		return -ESRCH;
	switch (x.space) {
	case XENMAPSPACE_shared_info:
		if (x.idx != 0 || gmem_pfn_gpa(x.gpfn, &gpa) < 0)
			return -EINVAL;
		return shinfo_place(vm, vcpu, gpa);
	case XENMAPSPACE_grant_table:
		return gnttab_map_frame(vm, x.idx, x.gpfn);
	default:
		return -ENOSYS;
	}
}

/* The balloon gives pages back (decrease) and takes them again (populate).
 * Linux BUG()s unless decrease returns nr_extents (balloon.c), so every valid
 * extent is done; freed RAM is punched out of the memfd. */
static int64_t reservation(struct vm *vm, int vcpu, uint64_t cmd, uint64_t arg)
{
	struct xen_memory_reservation r;
	uint64_t list, done;
	int rc = guest_copy_from(vm, vcpu, arg, &r, sizeof(r));

	if (rc < 0)
		return rc;
	if (r.domid != DOMID_SELF && r.domid != vm->domid)
		return -ESRCH;
	if (r.extent_order > 9 || r.nr_extents > (1u << 20))
		return -EINVAL;
	list = (uint64_t)(uintptr_t)r.extent_start.p;
	for (done = 0; done < r.nr_extents; done++) {
		xen_pfn_t pfn;
		uint64_t gpa, len = 4096ULL << r.extent_order;
		int64_t off;

		rc = guest_copy_from(vm, vcpu, list + done * sizeof(pfn), &pfn, sizeof(pfn));
		if (rc < 0 || gmem_pfn_gpa(pfn, &gpa) < 0)
			break;
		off = gmem_offset(&vm->mem, gpa, len);
		if (off < 0)
			break;
		if (cmd == XENMEM_decrease_reservation &&
		    fallocate(vm->mem.memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, (off_t)len) < 0)
			break;
	}
	return (int64_t)done;
}

int64_t hc_memory_op(struct vm *vm, int vcpu, const uint64_t a[6])
{
	uint64_t cmd = a[0] & 0xffff; /* the high bits carry a continuation */

	switch (cmd) {
	case XENMEM_memory_map:
		return memory_map(vm, vcpu, a[1]);
	case XENMEM_add_to_physmap:
		return add_to_physmap(vm, vcpu, a[1]);
	case XENMEM_decrease_reservation:
	case XENMEM_populate_physmap:
		return reservation(vm, vcpu, cmd, a[1]);
	case XENMEM_current_reservation:
	case XENMEM_maximum_reservation:
		return (int64_t)(vm->mem.ram_size >> 12);
	default:
		return -ENOSYS;
	}
}
