/* One vCPU's KVM state as a VCPU record of the save stream (docs/vmm-state.md
 * "The KVM side").  Pure: bytes <-> the uapi structs of linux/kvm.h, no
 * ioctls, so unit tests drive it; vcpu_state.c binds it to a vCPU.
 *
 * Payload: u32 vCPU id, u32 0, then every section of the table in
 * vcpu_rec.c, in tag order, each as u32 tag, u32 length, payload, zero
 * padding to 8 bytes. */
#ifndef DOMUS_VMM_STATE_VCPU_REC_H
#define DOMUS_VMM_STATE_VCPU_REC_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "domus/stream.h"

/* KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) is 4096 without dynamic features and
 * about 11 KiB with AMX; 16 KiB bounds what a record may carry. */
#define VCPU_XSAVE_MIN 4096u
#define VCPU_XSAVE_MAX 16384u
#define VCPU_MAX_MSRS 64u
#define VCPU_NR_SECTIONS 11u
/* The largest payload: the bound of STREAM_REC_VCPU in lib/stream.c. */
#define VCPU_REC_MAX_LEN                                                                          \
	(8 + VCPU_NR_SECTIONS * 8 + 144 + 320 + 8 + VCPU_XSAVE_MAX + 8 + KVM_MAX_XCRS * 16 + 56 + 40 + \
	 8 + KVM_APIC_REG_SIZE + 8 + VCPU_MAX_MSRS * 16 + 16 + 104)

/* KVM's "no address" for the Xen vCPU areas (GPA_INVALID in 6.1's xen.c). */
#define VCPU_XEN_NO_GPA UINT64_MAX

#define VCPU_TSC_OFFSET_VALID 1u /* tsc_offset came from KVM_VCPU_TSC_OFFSET */
#define VCPU_XEN_RUNSTATE 1u     /* the runstate attrs were read (CONFIG_SCHED_INFO) */

/* The MSRs that move, and how (one table in vcpu_rec.c). */
enum vcpu_msr_kind {
	VCPU_MSR_ALWAYS = 1 << 0,  /* architectural: a save fails if KVM cannot read it */
	VCPU_MSR_LISTED = 1 << 1,  /* moved when KVM_GET_MSR_INDEX_LIST names it */
	VCPU_MSR_OPTIONAL = 1 << 2, /* moved when KVM_GET_MSRS reads it */
	VCPU_MSR_LATE = 1 << 3,    /* set after the LAPIC and the TSC (IA32_TSC_DEADLINE) */
};

struct vcpu_msr_desc {
	uint32_t index;
	uint32_t kind;
	const char *name;
};

size_t vcpu_rec_nr_msrs(void);
const struct vcpu_msr_desc *vcpu_rec_msr_at(size_t i);
/* The row of an MSR that moves, NULL for any other. */
const struct vcpu_msr_desc *vcpu_rec_msr(uint32_t index);

/* KVM's Xen vCPU attributes (KVM_XEN_VCPU_GET_ATTR, Linux 6.1). */
struct vcpu_xen {
	uint32_t flags; /* VCPU_XEN_* */
	uint32_t vcpu_id;
	uint64_t vcpu_info_gpa, time_info_gpa, runstate_gpa; /* VCPU_XEN_NO_GPA: none */
	uint64_t runstate_state, runstate_entry_time;
	uint64_t runstate_time[4]; /* running, runnable, blocked, offline */
	uint32_t timer_port, timer_priority;
	uint64_t timer_expires_ns; /* kvmclock ns, 0: not armed */
	uint8_t upcall_vector;
};

struct vcpu_state {
	uint32_t id;
	struct kvm_regs regs;
	struct kvm_sregs2 sregs; /* from SREGS2, or from SREGS with flags 0 */
	uint32_t xsave_size;
	uint32_t xsave[VCPU_XSAVE_MAX / 4]; /* struct kvm_xsave's region and extra */
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	struct kvm_lapic_state lapic;
	uint32_t nr_msrs;
	struct kvm_msr_entry msrs[VCPU_MAX_MSRS]; /* ascending index */
	uint32_t tsc_khz, tsc_flags;
	uint64_t tsc_offset;
	struct vcpu_xen xen;
};

/* Appends the VCPU payload of s to a memory writer. */
int vcpu_rec_encode(const struct vcpu_state *s, struct stream_writer *w);
/* Decodes a VCPU record into *out (a scratch copy: on failure it holds a
 * partial decode) and returns 0 only when every section is valid and the
 * vCPU id is below nr_vcpus; else -EBADMSG and a one-line reason in why[len]
 * that names the vCPU and the section. */
int vcpu_rec_decode(const struct stream_record *rec, uint32_t nr_vcpus, struct vcpu_state *out, char *why,
		    size_t len);

#endif
