/* A fake KVM behind the monitor's hypercall handlers (vmm/vm_kvm.h): a
 * struct vm on plain memory (a memfd of 1 MiB of RAM, split below and above
 * the 32-bit hole, the special pages and the grant frames, as vm_create()
 * lays them out), a guest page table the test sets, and KVM's side of the
 * Xen state as Linux 6.1's arch/x86/kvm/xen.c keeps it, with its refusals:
 * event channel ports KVM delivers (assign, update, deassign), memslots
 * (create, move, delete, no overlap), shared_info, the upcall vector and
 * each vCPU's vcpu_info, time info, runstate area and timer.  Events KVM
 * would raise set the pending bit in shared_info as KVM does.
 *
 * kvm_fake_check() compares that side with what the monitor believes it
 * told KVM; the unit tests and the fuzzer call it after every step. */
#ifndef DOMUS_TESTS_KVM_FAKE_H
#define DOMUS_TESTS_KVM_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#define KF_LOW_PAGES 192  /* RAM [0, 768 KiB) */
#define KF_HIGH_PAGES 64  /* RAM [4 GiB, 4 GiB + 256 KiB) */
#define KF_VA_PAGES 1024  /* guest virtual [0, 4 MiB) is translated */
#define KF_MAX_SLOTS 128
#define KF_NO_GPA UINT64_MAX /* 6.1's GPA_INVALID */

struct kf_slot {
	bool used;
	uint64_t gpa, size;
	void *hva;
};

struct kf_port {
	bool assigned;
	uint32_t type; /* EVTCHNSTAT_ipi or _interdomain */
	uint32_t vcpu; /* ipi: where it loops back */
	int fd;        /* interdomain: the eventfd */
};

struct kf_vcpu {
	uint64_t vcpu_info, time_info, runstate; /* KF_NO_GPA: none */
	uint32_t timer_port;
	uint64_t timer_expires;
	uint8_t upcall_vector; /* HVMOP_set_evtchn_upcall_vector's; 0: none */
};

/* The injected failure of the next call of one action (tests). */
enum kf_action { KF_NONE, KF_TRANSLATE, KF_XEN_ATTR, KF_VCPU_ATTR, KF_MAP_SLOT, KF_SEND };

struct kvm_fake {
	struct vm vm; /* first: the ops find the fake from the vm */
	struct kvm_run run[VMM_MAX_VCPUS];
	uint64_t va[KF_VA_PAGES]; /* guest page address of each virtual page, KF_NO_GPA: unmapped */
	size_t mem_size;
	/* KVM's side */
	struct kf_slot slot[KF_MAX_SLOTS];
	bool long_mode;
	uint64_t shinfo_gpa; /* KF_NO_GPA: not active */
	uint8_t upcall_vector;
	struct kf_port port[EVTCHN_NR_PORTS];
	struct kf_vcpu vcpu[VMM_MAX_VCPUS];
	/* What happened */
	unsigned calls[KF_SEND + 1];
	unsigned raised; /* sends that set a pending bit */
	uint32_t last_port, last_vcpu;
	uint64_t console_bytes; /* console_guest_output(), all calls */
	enum kf_action fail;    /* the next call of this action fails */
	int fail_rc;
};

/* A VM of nr_vcpus vCPUs (1..VMM_MAX_VCPUS) in its state after vm_create():
 * no thread started, slots 0-2 RAM and special pages, identity-mapped
 * virtual memory.  -errno. */
int kvm_fake_create(struct kvm_fake **out, int nr_vcpus);
/* Back to that state, memory zeroed, without a new memfd (the fuzzer). */
int kvm_fake_reset(struct kvm_fake *f, int nr_vcpus);
void kvm_fake_destroy(struct kvm_fake *f);
/* Guest virtual page va_page maps to guest address gpa (KF_NO_GPA: unmapped). */
void kvm_fake_map(struct kvm_fake *f, uint64_t va_page, uint64_t gpa);
/* NULL when KVM's side is what the monitor believes it told KVM; else what
 * differs, in a static buffer. */
const char *kvm_fake_check(const struct kvm_fake *f);
/* KVM's side of b is a's: IPI ports, timers, grant frames (by index, not
 * slot number), shared_info and the upcall vector; a restored VM told KVM
 * what the saved one had. */
const char *kvm_fake_same(const struct kvm_fake *a, const struct kvm_fake *b);

#endif
