/* The KVM VM of one domain: memory, irqchip, KVM_XEN and its vCPUs. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpuid_leaves.h"
#include "fds.h"
#include "xen/xen_abi.h"

/* Xen's hypercall MSR index.  Only a non-zero msr enables KVM's
 * kvm_xen_enabled key, which gates the intercept (xen-guest-abi.md §2). */
#define XEN_HYPERCALL_MSR 0x40000000

static int create_vcpu(struct vm *vm, int id)
{
	struct vcpu *v = &vm->vcpus[id];
	struct kvm_xen_vcpu_attr xid = { .type = KVM_XEN_VCPU_ATTR_TYPE_VCPU_ID, .u.vcpu_id = (uint32_t)id };
	int rc;

	v->id = id;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0)
		return -errno;
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	rc = cpuid_setup(vm, id);
	if (rc < 0)
		return rc;
	/* The Xen id of each vCPU, equal to its APIC id and ACPI UID, so that
	 * in-kernel timer and event paths agree with the guest's numbering. */
	if (ioctl(v->fd, KVM_XEN_VCPU_SET_ATTR, &xid) < 0)
		return -errno;
	return 0;
}

int vm_create(struct vm *vm, uint64_t ram_bytes, int nr_vcpus)
{
	struct kvm_xen_hvm_config xc = {
		.flags = KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL | KVM_XEN_HVM_CONFIG_EVTCHN_SEND,
		.msr = XEN_HYPERCALL_MSR,
	};
	struct kvm_xen_hvm_attr ver = { .type = KVM_XEN_ATTR_TYPE_XEN_VERSION, .u.xen_version = (4 << 16) | 17 };
	uint64_t special_off, grant_off, total;
	int caps, rc;

	vm->kvm_fd = vm->fd = vm->mem.memfd = vm->exit_eventfd = -1;
	vm->kvm = &vm_kvm_ioctls;
	vm_sync_init(vm);
	pthread_mutex_init(&vm->pm_lock, NULL);
	evtchn_init(&vm->evtchn, (uint16_t)vm->domid, (uint32_t)nr_vcpus);
	gnttab_init(&vm->gnttab);
	vm->guest_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5, 10);
	if (nr_vcpus < 1 || nr_vcpus > VMM_MAX_VCPUS)
		return -EINVAL;
	if (ram_bytes < (16ULL << 20) || ram_bytes & 0xfffff)
		return -EINVAL;
	vm->nr_vcpus = nr_vcpus;
	vm->amd = cpuid_host_is_amd();

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return -errno;
	caps = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XEN_HVM);
	if (caps <= 0 || (caps & (KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL | KVM_XEN_HVM_CONFIG_EVTCHN_SEND)) !=
				 (KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL | KVM_XEN_HVM_CONFIG_EVTCHN_SEND))
		return -ENOTSUP;
	vm->fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return -errno;
	vm->run_size = (size_t)ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	/* Intel needs these three pages out of the guest's way; AMD ignores them. */
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
		return -errno;
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return -errno;
	/* Linux checks that the 8254 timer reaches the I/O APIC before it trusts
	 * its APIC timer (setup_IO_APIC: "IO-APIC + timer doesn't work!"), and its
	 * early TSC calibration reads the PIT; KVM's in-kernel PIT answers both. */
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0)
		return -errno;
	if (ioctl(vm->fd, KVM_XEN_HVM_CONFIG, &xc) < 0)
		return -errno;
	/* XENVER_version then never leaves the kernel. */
	vm_set_xen_attr(vm, &ver);

	/* One memfd: RAM, then the special pages, then the grant frames, so the
	 * whole guest-visible state is one file to save or hand over. */
	special_off = ram_bytes;
	grant_off = special_off + LAYOUT_SPECIAL_PAGES * 4096;
	total = grant_off + GNTTAB_MAX_FRAMES * 4096;
	vm->mem.memfd = memfd_create("domus-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (vm->mem.memfd < 0 || ftruncate(vm->mem.memfd, (off_t)total) < 0)
		return -errno;
	/* xenstored maps the ring page from this file: it must never shrink
	 * under that mapping (a SIGBUS there would hit every domain). */
	if (fcntl(vm->mem.memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		return -errno;
	vm->mem.hva = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, vm->mem.memfd, 0);
	if (vm->mem.hva == MAP_FAILED) {
		vm->mem.hva = NULL;
		return -errno;
	}
	vm->mem.ram_size = ram_bytes;
	vm->mem.low_size = ram_bytes < LAYOUT_LOW_MAX ? ram_bytes : LAYOUT_LOW_MAX;
	vm->mem.high_size = ram_bytes - vm->mem.low_size;
	vm->special = vm->mem.hva + special_off;
	vm->grant_frames = vm->mem.hva + grant_off;
	vm->gnttab.core.frames = vm->grant_frames;
	rc = vm_map_slot(vm, 0, 0, vm->mem.low_size, vm->mem.hva);
	if (rc == 0 && vm->mem.high_size)
		rc = vm_map_slot(vm, 1, LAYOUT_HIGH_BASE, vm->mem.high_size, vm->mem.hva + vm->mem.low_size);
	if (rc == 0)
		rc = vm_map_slot(vm, 2, LAYOUT_SPECIAL_BASE, LAYOUT_SPECIAL_PAGES * 4096, vm->special);
	if (rc < 0)
		return rc;
	vm->next_slot = 3;

	vm->exit_eventfd = eventfd(0, EFD_CLOEXEC);
	if (vm->exit_eventfd < 0)
		return -errno;
	for (int i = 0; i < nr_vcpus; i++) {
		rc = create_vcpu(vm, i);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void vm_destroy(struct vm *vm)
{
	int *const fds[] = { &vm->mem.memfd, &vm->exit_eventfd, &vm->fd, &vm->kvm_fd };

	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd > 0)
			close(v->fd);
		v->run = NULL;
		v->fd = -1;
	}
	if (vm->mem.hva)
		munmap(vm->mem.hva, vm->mem.ram_size + (LAYOUT_SPECIAL_PAGES + GNTTAB_MAX_FRAMES) * 4096);
	vm->mem.hva = NULL;
	gnttab_fini(&vm->gnttab);
	close_fds(fds, sizeof(fds) / sizeof(fds[0]));
}
