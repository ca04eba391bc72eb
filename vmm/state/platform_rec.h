/* The VM-wide KVM state as records of the save stream (docs/vmm-state.md
 * "The KVM side"): kvmclock (CLOCK), the in-kernel PICs and IOAPIC
 * (IRQCHIP) and the 8254 (PIT).  Pure: bytes <-> the uapi structs of
 * linux/kvm.h, no ioctls, so unit tests drive it; platform_state.c binds it
 * to a VM. */
#ifndef DOMUS_VMM_STATE_PLATFORM_REC_H
#define DOMUS_VMM_STATE_PLATFORM_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "domus/stream.h"

#define PLATFORM_REC_CLOCK_LEN 32
#define PLATFORM_REC_IRQCHIP_LEN 248
#define PLATFORM_REC_PIT_LEN 80

/* Where KVM's IOAPIC answers (KVM's IOAPIC_DEFAULT_BASE_ADDRESS). */
#define PLATFORM_IOAPIC_BASE 0xfec00000ULL

/* The three chips of KVM_GET_IRQCHIP, indexed by KVM_IRQCHIP_*. */
struct platform_irqchip {
	struct kvm_irqchip chip[3];
};

/* The clock as saved, and what loading it made of it: the vCPU loaders
 * need both to carry each vCPU's TSC across (platform_tsc_offset()). */
struct platform_clock {
	bool loaded;
	struct kvm_clock_data src; /* from the CLOCK record; realtime always set */
	struct kvm_clock_data dst; /* KVM_GET_CLOCK right after KVM_SET_CLOCK */
	uint64_t elapsed_ns;       /* CLOCK_REALTIME from save to load, 0 if it went back */
};

/* Each encoder appends one record's payload to a memory writer; each
 * decoder fills *out from a record's payload only when it is valid, else
 * returns -EBADMSG with a one-line reason in why[len]. */
int platform_rec_encode_clock(const struct kvm_clock_data *c, struct stream_writer *w);
int platform_rec_decode_clock(const struct stream_record *rec, struct kvm_clock_data *out, char *why, size_t len);
int platform_rec_encode_irqchip(const struct platform_irqchip *ic, struct stream_writer *w);
int platform_rec_decode_irqchip(const struct stream_record *rec, struct platform_irqchip *out, char *why,
				size_t len);
int platform_rec_encode_pit(const struct kvm_pit_state2 *pit, struct stream_writer *w);
int platform_rec_decode_pit(const struct stream_record *rec, struct kvm_pit_state2 *out, char *why, size_t len);

/* The TSC offset that keeps a vCPU's TSC in step with the loaded kvmclock
 * (Linux Documentation/virt/kvm/devices/vcpu.rst, KVM_VCPU_TSC_OFFSET,
 * steps 4-7): ofs_src - (guest_src - guest_dst) * freq + (tsc_src - tsc_dst).
 * -EAGAIN when either clock lacks KVM_CLOCK_HOST_TSC (no master clock: the
 * host TSC it was read with is unknown) or tsc_khz is 0; the caller then
 * sets IA32_TSC to its saved value instead. */
int platform_tsc_offset(const struct platform_clock *clk, uint64_t ofs_src, uint32_t tsc_khz, uint64_t *ofs_dst);

#endif
