/* CPUID for a Xen HVM/PVH guest. */
#include "cpuid_leaves.h"

#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vm.h"
#include "xen/xen_abi.h"

#define MAX_ENTRIES 256

bool cpuid_host_is_amd(void)
{
	unsigned a = 0, b = 0, c = 0, d = 0;

	/* The guest's vendor must match the host's VMX/SVM, or its hypercall
	 * instruction (VMCALL vs VMMCALL) traps (xen-guest-abi.md §2). */
	if (!__get_cpuid(0, &a, &b, &c, &d))
		return false;
	return b == 0x68747541 || b == 0x6f677948; /* AuthenticAMD, HygonGenuine */
}

static void put(struct kvm_cpuid2 *c, uint32_t fn, uint32_t a, uint32_t b, uint32_t cx, uint32_t d)
{
	struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

	*e = (struct kvm_cpuid_entry2){ .function = fn, .eax = a, .ebx = b, .ecx = cx, .edx = d };
}

void cpuid_filter(const struct kvm_cpuid2 *host, struct kvm_cpuid2 *c, uint32_t max, uint32_t nr_vcpus,
		  uint32_t vcpu)
{
	const uint32_t base = XEN_CPUID_FIRST_LEAF;

	c->nent = 0;
	for (uint32_t i = 0; i < host->nent && c->nent + 6 < max; i++) {
		struct kvm_cpuid_entry2 e = host->entries[i];

		/* KVM's own leaves live here; a KVM signature at a higher base would
		 * win over Xen's (detect_hypervisor_vendor), so none are shown. */
		if (e.function >= 0x40000000 && e.function < 0x40010000)
			continue;
		/* No nested virtualisation, as xl.cfg(5)'s nestedhvm default: a
		 * KVM with nested=1 offers VMX or SVM, and a Debian guest's udev
		 * then loads kvm_intel or kvm_amd at boot (seen in the lab). */
		if (e.function == 0x8000000a)
			continue; /* SVM's feature leaf */
		if (e.function == 1) {
			e.ebx = (e.ebx & 0x0000ffff) | (nr_vcpus << 16) | (vcpu << 24);
			e.ecx |= 1u << 31; /* hypervisor present */
			e.ecx &= ~(1u << 5); /* VMX */
		}
		if (e.function == 0x80000001)
			e.ecx &= ~(1u << 2); /* SVM */
		if (e.function == 0xb || e.function == 0x1f)
			e.edx = vcpu; /* x2APIC id */
		c->entries[c->nent++] = e;
	}
	/* Xen's leaves (xen/arch-x86/cpuid.h): signature and max leaf, version,
	 * hypercall page count and MSR (unused by 6.1.121+ guests), TSC (left
	 * empty, as KVM 6.1 does), HVM features with this vCPU's id. */
	put(c, base + 0, base + 5, 0x566e6558, 0x65584d4d, 0x4d4d566e); /* "XenVMMXenVMM" */
	put(c, base + 1, (4 << 16) | 17, 0, 0, 0);
	put(c, base + 2, 1, 0x40000000, 0, 0);
	put(c, base + 3, 0, 0, 0, 0);
	/* UPCALL_VECTOR: HVMOP_set_evtchn_upcall_vector is served (hvm.c), as
	 * Xen 4.17 offers it; Linux then takes its upcalls as local APIC
	 * edges rather than the global ExtINT. */
	put(c, base + 4, XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_UPCALL_VECTOR, vcpu, 0, 0);
	put(c, base + 5, 0, 0, 0, 0);
}

int cpuid_setup(struct vm *vm, int vcpu)
{
	size_t sz = sizeof(struct kvm_cpuid2) + MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *host = calloc(1, sz), *c = calloc(1, sz);
	int rc = 0;

	if (!host || !c) {
		rc = -ENOMEM;
		goto out;
	}
	host->nent = MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, host) < 0) {
		rc = -errno;
		goto out;
	}
	cpuid_filter(host, c, MAX_ENTRIES, (uint32_t)vm->nr_vcpus, (uint32_t)vcpu);
	if (ioctl(vm->vcpus[vcpu].fd, KVM_SET_CPUID2, c) < 0)
		rc = -errno;
out:
	free(host);
	free(c);
	return rc;
}
