/* xen_version (17): what Xen 4.17 tells an HVM/PVH domU about itself. */
#include "hypercall.h"
#include "xen_abi.h"
#include "../vm.h"

#include <errno.h>
#include <string.h>

#define DOMUS_XEN_MAJOR 4
#define DOMUS_XEN_MINOR 17

/* Linux HVM/PVH reads bits 2, 8 and 9 (xen-guest-abi.md §3.2 "Features");
 * hvm_pirqs (10) must stay clear or the guest reroutes its interrupts, and
 * dom0 (11) selects Domain-0 paths. */
static const uint32_t domus_features =
	(1u << XENFEAT_writable_page_tables) | (1u << XENFEAT_auto_translated_physmap) |
	(1u << XENFEAT_hvm_callback_vector) | (1u << XENFEAT_hvm_safe_pvclock);

int64_t hc_xen_version(struct vm *vm, int vcpu, const uint64_t a[6])
{
	uint64_t cmd = a[0], arg = a[1];

	switch (cmd) {
	case XENVER_version:
		return (DOMUS_XEN_MAJOR << 16) | DOMUS_XEN_MINOR;
	case XENVER_extraversion: {
		xen_extraversion_t v = ".0-domus";
		return guest_copy_to(vm, vcpu, arg, v, sizeof(v));
	}
	case XENVER_compile_info: {
		xen_compile_info_t ci;
		memset(&ci, 0, sizeof(ci));
		strcpy(ci.compiler, "gcc");
		strcpy(ci.compile_by, "domus");
		strcpy(ci.compile_domain, "domus");
		strcpy(ci.compile_date, __DATE__);
		return guest_copy_to(vm, vcpu, arg, &ci, sizeof(ci));
	}
	case XENVER_capabilities: {
		xen_capabilities_info_t caps = "hvm-3.0-x86_64";
		return guest_copy_to(vm, vcpu, arg, caps, sizeof(caps));
	}
	case XENVER_changeset: {
		xen_changeset_info_t cs = "domus";
		return guest_copy_to(vm, vcpu, arg, cs, sizeof(cs));
	}
	case XENVER_platform_parameters: {
		/* Xen's own start of its virtual area; meaningless to an HVM guest. */
		xen_platform_parameters_t p = { .virt_start = 0xffff800000000000ULL };
		return guest_copy_to(vm, vcpu, arg, &p, sizeof(p));
	}
	case XENVER_get_features: {
		xen_feature_info_t fi;
		int rc = guest_copy_from(vm, vcpu, arg, &fi, sizeof(fi));
		if (rc < 0)
			return rc;
		if (fi.submap_idx >= XENFEAT_NR_SUBMAPS)
			return -EINVAL;
		fi.submap = domus_features;
		return guest_copy_to(vm, vcpu, arg, &fi, sizeof(fi));
	}
	case XENVER_pagesize:
		return 4096;
	case XENVER_guest_handle: {
		xen_domain_handle_t h;
		memset(h, 0, sizeof(h));
		return guest_copy_to(vm, vcpu, arg, h, sizeof(h));
	}
	case XENVER_commandline: {
		xen_commandline_t c;
		memset(c, 0, sizeof(c));
		return guest_copy_to(vm, vcpu, arg, c, sizeof(c));
	}
	default:
		return -ENOSYS;
	}
}
