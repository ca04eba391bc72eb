/* The hypercall racer (tests/lab/hcrace): what its boot code (hcrace.c)
 * and its table of hypercalls (hcrace_ops.c) share.
 *
 * The guest runs in 32-bit protected mode, but domus-vmm decodes every
 * argument struct in the x86-64 layout whatever the guest's mode
 * (vmm/xen/xen_abi.h includes the headers for the host; hostile.S builds
 * its structs the same way).  Where the two layouts differ (an xen_ulong_t,
 * an xen_pfn_t or a guest handle inside), the struct is spelled out below in
 * the x86-64 layout; abi_check.c, built for the host, checks each against
 * Xen's own header.  Where they agree, the guest uses Xen's header. */
#ifndef HCRACE_H
#define HCRACE_H

#include <stdbool.h>
#include <stdint.h>

#define HCR_MAX_CPUS 8	   /* stacks and per-vCPU state; more vCPUs stay parked */
#define HCR_PORTS_KEPT 8   /* ports a vCPU remembers to send on, close ... */
#define HCR_SCRATCH_PAGES 16 /* where shared_info, vcpu_info and areas may go */
#define HCR_GRANT_GFN 0x100000u /* grant frames go at 4 GiB and above: never RAM here */

/* struct xen_add_to_physmap (xen/memory.h), x86-64. */
struct hcr_add_to_physmap {
	uint16_t domid, size;
	uint32_t space;
	uint64_t idx, gpfn;
};

/* struct xen_memory_reservation (xen/memory.h), x86-64. */
struct hcr_reservation {
	uint64_t extent_start; /* guest handle of xen_pfn_t (8 bytes each) */
	uint64_t nr_extents;
	uint32_t extent_order, mem_flags;
	uint16_t domid;
	uint16_t pad[3];
};

/* struct gnttab_setup_table (xen/grant_table.h), x86-64. */
struct hcr_setup_table {
	uint16_t dom;
	uint16_t pad0;
	uint32_t nr_frames;
	int16_t status;
	uint16_t pad1[3];
	uint64_t frame_list; /* guest handle of xen_pfn_t */
};

/* struct gnttab_get_status_frames (xen/grant_table.h), x86-64. */
struct hcr_get_status_frames {
	uint32_t nr_frames;
	uint16_t dom;
	int16_t status;
	uint64_t frame_list; /* guest handle of uint64_t */
};

/* One vCPU's state while it races. */
struct hcr_cpu {
	uint32_t id;	   /* APIC id == Xen vCPU id */
	uint32_t rng;	   /* xorshift32 state, never 0 */
	uint32_t calls, ok;
	uint32_t ports[HCR_PORTS_KEPT]; /* ports it got (0: none) */
	uint32_t next_port;
};

/* What the ops need from the boot code. */
struct hcr_env {
	uint32_t nr_cpus;	/* vCPUs racing */
	uint8_t *scratch;	/* HCR_SCRATCH_PAGES pages of nothing else */
};

uint32_t hcr_rand(struct hcr_cpu *c);
/* A hypercall, its number in EAX and its arguments in EBX, ECX, EDX. */
long hcr_hypercall(uint32_t op, uint32_t a1, uint32_t a2, uint32_t a3);
/* Port 0xE9 output of whole lines, one vCPU at a time. */
void hcr_lock_out(void);
void hcr_unlock_out(void);

/* One hypercall chosen by c's PRNG from the table (hcrace_ops.c); returns
 * what it returned.  Any result is fine: the monitor must only survive. */
long hcr_race_one(struct hcr_cpu *c, const struct hcr_env *env);

#endif
