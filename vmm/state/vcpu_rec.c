/* VCPU records (vcpu_rec.h): a table of sections, each with an encoder and
 * a decoder that checks what it reads against what KVM itself would accept
 * or could have produced, so a corrupt stream is refused here, with a
 * reason, and not by an ioctl half way through a load. */
#include "vcpu_rec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- the MSRs that move ----
 * Architectural state a guest kernel writes once and relies on (SYSENTER,
 * SYSCALL, the GS swap, PAT, MTRRs), the TSC and its deadline, and what
 * KVM lists in KVM_GET_MSR_INDEX_LIST that a guest can write (QEMU's
 * kvm_put_msrs moves the same set).  Not here: EFER and APIC_BASE (in
 * SREGS), the Xen hypercall MSR (write-only in KVM, and 6.1.121+ guests
 * never write it), kvmclock's MSRs (domus-vmm shows no KVM CPUID leaves,
 * so a guest cannot find them: cpuid_leaves.c), machine-check banks (no
 * KVM_X86_SETUP_MCE).  Ascending index. */
static const struct vcpu_msr_desc msr_table[] = {
	{ 0x10, VCPU_MSR_ALWAYS, "IA32_TSC" },
	{ 0x3b, VCPU_MSR_LISTED, "IA32_TSC_ADJUST" },
	{ 0x48, VCPU_MSR_LISTED, "IA32_SPEC_CTRL" },
	{ 0x140, VCPU_MSR_LISTED, "MISC_FEATURES_ENABLES" },
	{ 0x174, VCPU_MSR_ALWAYS, "IA32_SYSENTER_CS" },
	{ 0x175, VCPU_MSR_ALWAYS, "IA32_SYSENTER_ESP" },
	{ 0x176, VCPU_MSR_ALWAYS, "IA32_SYSENTER_EIP" },
	{ 0x1a0, VCPU_MSR_LISTED, "IA32_MISC_ENABLE" },
	{ 0x1c4, VCPU_MSR_LISTED, "IA32_XFD" },
	{ 0x1c5, VCPU_MSR_LISTED, "IA32_XFD_ERR" },
	{ 0x1fc, VCPU_MSR_LISTED, "IA32_POWER_CTL" },
	{ 0x200, VCPU_MSR_OPTIONAL, "MTRRphysBase0" },
	{ 0x201, VCPU_MSR_OPTIONAL, "MTRRphysMask0" },
	{ 0x202, VCPU_MSR_OPTIONAL, "MTRRphysBase1" },
	{ 0x203, VCPU_MSR_OPTIONAL, "MTRRphysMask1" },
	{ 0x204, VCPU_MSR_OPTIONAL, "MTRRphysBase2" },
	{ 0x205, VCPU_MSR_OPTIONAL, "MTRRphysMask2" },
	{ 0x206, VCPU_MSR_OPTIONAL, "MTRRphysBase3" },
	{ 0x207, VCPU_MSR_OPTIONAL, "MTRRphysMask3" },
	{ 0x208, VCPU_MSR_OPTIONAL, "MTRRphysBase4" },
	{ 0x209, VCPU_MSR_OPTIONAL, "MTRRphysMask4" },
	{ 0x20a, VCPU_MSR_OPTIONAL, "MTRRphysBase5" },
	{ 0x20b, VCPU_MSR_OPTIONAL, "MTRRphysMask5" },
	{ 0x20c, VCPU_MSR_OPTIONAL, "MTRRphysBase6" },
	{ 0x20d, VCPU_MSR_OPTIONAL, "MTRRphysMask6" },
	{ 0x20e, VCPU_MSR_OPTIONAL, "MTRRphysBase7" },
	{ 0x20f, VCPU_MSR_OPTIONAL, "MTRRphysMask7" },
	{ 0x250, VCPU_MSR_OPTIONAL, "MTRRfix64K_00000" },
	{ 0x258, VCPU_MSR_OPTIONAL, "MTRRfix16K_80000" },
	{ 0x259, VCPU_MSR_OPTIONAL, "MTRRfix16K_A0000" },
	{ 0x268, VCPU_MSR_OPTIONAL, "MTRRfix4K_C0000" },
	{ 0x269, VCPU_MSR_OPTIONAL, "MTRRfix4K_C8000" },
	{ 0x26a, VCPU_MSR_OPTIONAL, "MTRRfix4K_D0000" },
	{ 0x26b, VCPU_MSR_OPTIONAL, "MTRRfix4K_D8000" },
	{ 0x26c, VCPU_MSR_OPTIONAL, "MTRRfix4K_E0000" },
	{ 0x26d, VCPU_MSR_OPTIONAL, "MTRRfix4K_E8000" },
	{ 0x26e, VCPU_MSR_OPTIONAL, "MTRRfix4K_F0000" },
	{ 0x26f, VCPU_MSR_OPTIONAL, "MTRRfix4K_F8000" },
	{ 0x277, VCPU_MSR_ALWAYS, "IA32_PAT" },
	{ 0x2ff, VCPU_MSR_OPTIONAL, "MTRRdefType" },
	{ 0x6e0, VCPU_MSR_LISTED | VCPU_MSR_LATE, "IA32_TSC_DEADLINE" },
	{ 0xda0, VCPU_MSR_LISTED, "IA32_XSS" },
	{ 0xc0000081, VCPU_MSR_ALWAYS, "STAR" },
	{ 0xc0000082, VCPU_MSR_ALWAYS, "LSTAR" },
	{ 0xc0000083, VCPU_MSR_LISTED, "CSTAR" },
	{ 0xc0000084, VCPU_MSR_ALWAYS, "SYSCALL_MASK" },
	{ 0xc0000102, VCPU_MSR_ALWAYS, "KERNEL_GS_BASE" },
	{ 0xc0000103, VCPU_MSR_LISTED, "TSC_AUX" },
	{ 0xc0010015, VCPU_MSR_LISTED, "K7_HWCR" },
	{ 0xc001011f, VCPU_MSR_LISTED, "VIRT_SPEC_CTRL" },
};

#define NR_MSRS (sizeof(msr_table) / sizeof(msr_table[0]))
_Static_assert(NR_MSRS <= VCPU_MAX_MSRS, "every MSR that moves fits a record");

size_t vcpu_rec_nr_msrs(void)
{
	return NR_MSRS;
}

const struct vcpu_msr_desc *vcpu_rec_msr_at(size_t i)
{
	return i < NR_MSRS ? &msr_table[i] : NULL;
}

const struct vcpu_msr_desc *vcpu_rec_msr(uint32_t index)
{
	for (size_t i = 0; i < NR_MSRS; i++) {
		if (msr_table[i].index == index)
			return &msr_table[i];
	}
	return NULL;
}

/* ---- helpers ---- */

struct why {
	char *buf;
	size_t len;
	uint32_t vcpu;
	const char *section;
};

__attribute__((format(printf, 2, 3)))
static int bad(struct why *y, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (y->section)
		snprintf(y->buf, y->len, "vCPU %u section %s: %s", y->vcpu, y->section, msg);
	else
		snprintf(y->buf, y->len, "vCPU %u: %s", y->vcpu, msg);
	return -EBADMSG;
}

static int bools(struct why *y, const char *what, const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] > 1)
			return bad(y, "%s: a flag is %u, expected 0 or 1", what, v[i]);
	}
	return 0;
}

/* ---- REGS: rax..r15, rip, rflags ---- */

#define NR_GPRS 18
_Static_assert(sizeof(struct kvm_regs) == NR_GPRS * 8, "kvm_regs is 18 u64");

static void enc_regs(const struct vcpu_state *s, struct stream_writer *w)
{
	uint64_t v[NR_GPRS];

	memcpy(v, &s->regs, sizeof(v));
	for (int i = 0; i < NR_GPRS; i++)
		stream_put_u64(w, v[i]);
}

static int dec_regs(struct stream_cursor *c, struct vcpu_state *s, struct why *y)
{
	uint64_t v[NR_GPRS];

	for (int i = 0; i < NR_GPRS; i++)
		v[i] = stream_get_u64(c);
	memcpy(&s->regs, v, sizeof(v));
	/* RFLAGS bit 1 is fixed to 1; KVM would take any value. */
	if (!(s->regs.rflags & 2) || (s->regs.rflags >> 32))
		return bad(y, "rflags %#llx is not a value the CPU can hold", (unsigned long long)s->regs.rflags);
	return 0;
}

/* ---- SREGS: 8 segments, 2 tables, control registers, PDPTRs ---- */

static void enc_seg(struct stream_writer *w, const struct kvm_segment *g)
{
	const uint8_t b[10] = { g->type, g->present, g->dpl, g->db, g->s, g->l, g->g, g->avl, g->unusable, 0 };

	stream_put_u64(w, g->base);
	stream_put_u32(w, g->limit);
	stream_put_u16(w, g->selector);
	stream_put_bytes(w, b, sizeof(b));
}

static int dec_seg(struct stream_cursor *c, struct kvm_segment *g, struct why *y, const char *name)
{
	uint8_t pad, f[7];

	g->base = stream_get_u64(c);
	g->limit = stream_get_u32(c);
	g->selector = stream_get_u16(c);
	g->type = stream_get_u8(c);
	g->present = stream_get_u8(c);
	g->dpl = stream_get_u8(c);
	g->db = stream_get_u8(c);
	g->s = stream_get_u8(c);
	g->l = stream_get_u8(c);
	g->g = stream_get_u8(c);
	g->avl = stream_get_u8(c);
	g->unusable = stream_get_u8(c);
	pad = stream_get_u8(c);
	g->padding = 0;
	memcpy(f, (uint8_t[]){ g->present, g->db, g->s, g->l, g->g, g->avl, g->unusable }, sizeof(f));
	if (bools(y, name, f, sizeof(f)) < 0)
		return -EBADMSG;
	if (g->type > 15 || g->dpl > 3 || pad != 0)
		return bad(y, "%s: type %u, dpl %u or padding %u out of range", name, g->type, g->dpl, pad);
	return 0;
}

static void enc_dt(struct stream_writer *w, const struct kvm_dtable *d)
{
	stream_put_u64(w, d->base);
	stream_put_u16(w, d->limit);
	for (int i = 0; i < 3; i++)
		stream_put_u16(w, 0);
}

static int dec_dt(struct stream_cursor *c, struct kvm_dtable *d, struct why *y, const char *name)
{
	uint16_t pad = 0;

	d->base = stream_get_u64(c);
	d->limit = stream_get_u16(c);
	for (int i = 0; i < 3; i++)
		pad |= stream_get_u16(c);
	memset(d->padding, 0, sizeof(d->padding));
	return pad ? bad(y, "%s: padding is not 0", name) : 0;
}

static void enc_sregs(const struct vcpu_state *s, struct stream_writer *w)
{
	const struct kvm_sregs2 *r = &s->sregs;
	const struct kvm_segment *seg[8] = { &r->cs, &r->ds, &r->es, &r->fs, &r->gs, &r->ss, &r->tr, &r->ldt };
	const uint64_t v[8] = { r->cr0, r->cr2, r->cr3, r->cr4, r->cr8, r->efer, r->apic_base, r->flags };

	for (int i = 0; i < 8; i++)
		enc_seg(w, seg[i]);
	enc_dt(w, &r->gdt);
	enc_dt(w, &r->idt);
	for (int i = 0; i < 8; i++)
		stream_put_u64(w, v[i]);
	for (int i = 0; i < 4; i++)
		stream_put_u64(w, r->pdptrs[i]);
}

static int dec_sregs(struct stream_cursor *c, struct vcpu_state *s, struct why *y)
{
	static const char *const names[8] = { "cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt" };
	struct kvm_sregs2 *r = &s->sregs;
	struct kvm_segment *seg[8] = { &r->cs, &r->ds, &r->es, &r->fs, &r->gs, &r->ss, &r->tr, &r->ldt };
	__u64 *v[8] = { &r->cr0, &r->cr2, &r->cr3, &r->cr4, &r->cr8, &r->efer, &r->apic_base, &r->flags };

	for (int i = 0; i < 8; i++) {
		if (dec_seg(c, seg[i], y, names[i]) < 0)
			return -EBADMSG;
	}
	if (dec_dt(c, &r->gdt, y, "gdt") < 0 || dec_dt(c, &r->idt, y, "idt") < 0)
		return -EBADMSG;
	for (int i = 0; i < 8; i++)
		*v[i] = stream_get_u64(c);
	for (int i = 0; i < 4; i++)
		r->pdptrs[i] = stream_get_u64(c);
	if (r->flags & ~(uint64_t)KVM_SREGS2_FLAGS_PDPTRS_VALID)
		return bad(y, "flags %#llx has bits KVM_GET_SREGS2 never sets", (unsigned long long)r->flags);
	if (!(r->flags & KVM_SREGS2_FLAGS_PDPTRS_VALID) && (r->pdptrs[0] | r->pdptrs[1] | r->pdptrs[2] | r->pdptrs[3]))
		return bad(y, "PDPTRs without KVM_SREGS2_FLAGS_PDPTRS_VALID");
	/* The LAPIC's base is fixed in domus (MADT); EXTD or a moved base would
	 * be a guest we never ran. */
	if ((r->apic_base & ~0xd00ULL) != 0xfee00000ULL)
		return bad(y, "apic_base %#llx is not at 0xfee00000", (unsigned long long)r->apic_base);
	return 0;
}

/* ---- XSAVE: u32 size, u32 0, size bytes ---- */

static void enc_xsave(const struct vcpu_state *s, struct stream_writer *w)
{
	stream_put_u32(w, s->xsave_size);
	stream_put_u32(w, 0);
	stream_put_bytes(w, s->xsave, s->xsave_size);
}

static int dec_xsave(struct stream_cursor *c, struct vcpu_state *s, struct why *y)
{
	uint32_t size = stream_get_u32(c), zero = stream_get_u32(c);

	if (c->short_read || zero != 0)
		return bad(y, "head is short or its reserved word is not 0");
	if (size < VCPU_XSAVE_MIN || size > VCPU_XSAVE_MAX || size % 4)
		return bad(y, "size %u, expected a multiple of 4 from %u to %u", size, VCPU_XSAVE_MIN, VCPU_XSAVE_MAX);
	if (c->len - c->off != size)
		return bad(y, "size %u but %zu bytes follow", size, c->len - c->off);
	memset(s->xsave, 0, sizeof(s->xsave));
	memcpy(s->xsave, c->p + c->off, size);
	c->off += size;
	s->xsave_size = size;
	return 0;
}

/* ---- XCRS: u32 nr, u32 flags, nr x (u32 xcr, u32 0, u64 value) ---- */

static void enc_xcrs(const struct vcpu_state *s, struct stream_writer *w)
{
	stream_put_u32(w, s->xcrs.nr_xcrs);
	stream_put_u32(w, s->xcrs.flags);
	for (uint32_t i = 0; i < s->xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++) {
		stream_put_u32(w, s->xcrs.xcrs[i].xcr);
		stream_put_u32(w, 0);
		stream_put_u64(w, s->xcrs.xcrs[i].value);
	}
}

static int dec_xcrs(struct stream_cursor *c, struct vcpu_state *s, struct why *y)
{
	struct kvm_xcrs *x = &s->xcrs;

	memset(x, 0, sizeof(*x));
	x->nr_xcrs = stream_get_u32(c);
	x->flags = stream_get_u32(c);
	if (x->nr_xcrs > KVM_MAX_XCRS || x->flags != 0)
		return bad(y, "%u registers with flags %#x, expected at most %d and 0", x->nr_xcrs, x->flags,
			   KVM_MAX_XCRS);
	for (uint32_t i = 0; i < x->nr_xcrs; i++) {
		x->xcrs[i].xcr = stream_get_u32(c);
		if (stream_get_u32(c) != 0)
			return bad(y, "a reserved word is not 0");
		x->xcrs[i].value = stream_get_u64(c);
		/* KVM knows XCR0 only, and x87 state is always on in it (SDM
		 * 13.3); __kvm_set_xcr refuses anything else. */
		if (x->xcrs[i].xcr != 0 || !(x->xcrs[i].value & 1))
			return bad(y, "XCR%u = %#llx, expected XCR0 with bit 0 set", x->xcrs[i].xcr,
				   (unsigned long long)x->xcrs[i].value);
	}
	return 0;
}

/* ---- DEBUGREGS: db0-3, dr6, dr7, flags ---- */

static void enc_debugregs(const struct vcpu_state *s, struct stream_writer *w)
{
	for (int i = 0; i < 4; i++)
		stream_put_u64(w, s->debugregs.db[i]);
	stream_put_u64(w, s->debugregs.dr6);
	stream_put_u64(w, s->debugregs.dr7);
	stream_put_u64(w, s->debugregs.flags);
}

static int dec_debugregs(struct stream_cursor *c, struct vcpu_state *s, struct why *y)
{
	struct kvm_debugregs *d = &s->debugregs;

	memset(d, 0, sizeof(*d));
	for (int i = 0; i < 4; i++)
		d->db[i] = stream_get_u64(c);
	d->dr6 = stream_get_u64(c);
	d->dr7 = stream_get_u64(c);
	d->flags = stream_get_u64(c);
	/* KVM_SET_DEBUGREGS refuses flags and high halves of DR6/DR7. */
	if (d->flags || (d->dr6 >> 32) || (d->dr7 >> 32))
		return bad(y, "flags %#llx, dr6 %#llx or dr7 %#llx not what KVM accepts", (unsigned long long)d->flags,
			   (unsigned long long)d->dr6, (unsigned long long)d->dr7);
	return 0;
}

/* ---- EVENTS (40 bytes, field by field in struct kvm_vcpu_events order) ---- */

#define EVENT_FLAGS                                                                                    \
	(KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR | KVM_VCPUEVENT_VALID_SHADOW | \
	 KVM_VCPUEVENT_VALID_SMM | KVM_VCPUEVENT_VALID_PAYLOAD | KVM_VCPUEVENT_VALID_TRIPLE_FAULT)

static void enc_events(const struct vcpu_state *s, struct stream_writer *w)
{
	const struct kvm_vcpu_events *e = &s->events;
	const uint8_t a[4] = { e->exception.injected, e->exception.nr, e->exception.has_error_code,
			       e->exception.pending };
	const uint8_t b[8] = { e->interrupt.injected, e->interrupt.nr, e->interrupt.soft, e->interrupt.shadow,
			       e->nmi.injected, e->nmi.pending, e->nmi.masked, 0 };
	const uint8_t d[8] = { e->smi.smm, e->smi.pending, e->smi.smm_inside_nmi, e->smi.latched_init,
			       e->triple_fault.pending, e->exception_has_payload, 0, 0 };

	stream_put_bytes(w, a, sizeof(a));
	stream_put_u32(w, e->exception.error_code);
	stream_put_bytes(w, b, sizeof(b));
	stream_put_u32(w, e->sipi_vector);
	stream_put_u32(w, e->flags);
	stream_put_bytes(w, d, sizeof(d));
	stream_put_u64(w, e->exception_payload);
}

static int dec_events(struct stream_cursor *c, struct vcpu_state *s, struct why *y)
{
	struct kvm_vcpu_events *e = &s->events;
	uint8_t pad[3];

	memset(e, 0, sizeof(*e));
	e->exception.injected = stream_get_u8(c);
	e->exception.nr = stream_get_u8(c);
	e->exception.has_error_code = stream_get_u8(c);
	e->exception.pending = stream_get_u8(c);
	e->exception.error_code = stream_get_u32(c);
	e->interrupt.injected = stream_get_u8(c);
	e->interrupt.nr = stream_get_u8(c);
	e->interrupt.soft = stream_get_u8(c);
	e->interrupt.shadow = stream_get_u8(c);
	e->nmi.injected = stream_get_u8(c);
	e->nmi.pending = stream_get_u8(c);
	e->nmi.masked = stream_get_u8(c);
	pad[0] = stream_get_u8(c);
	e->sipi_vector = stream_get_u32(c);
	e->flags = stream_get_u32(c);
	e->smi.smm = stream_get_u8(c);
	e->smi.pending = stream_get_u8(c);
	e->smi.smm_inside_nmi = stream_get_u8(c);
	e->smi.latched_init = stream_get_u8(c);
	e->triple_fault.pending = stream_get_u8(c);
	e->exception_has_payload = stream_get_u8(c);
	pad[1] = stream_get_u8(c);
	pad[2] = stream_get_u8(c);
	e->exception_payload = stream_get_u64(c);
	if (pad[0] | pad[1] | pad[2])
		return bad(y, "padding is not 0");
	if (e->flags & ~(uint32_t)EVENT_FLAGS)
		return bad(y, "flags %#x has bits KVM_GET_VCPU_EVENTS never sets", e->flags);
	if (bools(y, "exception", (uint8_t[]){ e->exception.injected, e->exception.has_error_code,
					       e->exception.pending, e->exception_has_payload }, 4) < 0 ||
	    bools(y, "interrupt", (uint8_t[]){ e->interrupt.injected, e->interrupt.soft }, 2) < 0 ||
	    bools(y, "nmi", (uint8_t[]){ e->nmi.injected, e->nmi.masked }, 2) < 0 ||
	    bools(y, "smi", (uint8_t[]){ e->smi.pending, e->smi.latched_init, e->triple_fault.pending }, 3) < 0)
		return -EBADMSG;
	/* Vectors 0-31 are exceptions; KVM_SET_VCPU_EVENTS refuses the rest
	 * and a pending exception that is also injected. */
	if (e->exception.nr > 31 || (e->exception.injected && e->exception.pending))
		return bad(y, "exception %u both injected and pending, or not an exception vector", e->exception.nr);
	if (e->interrupt.shadow > 3)
		return bad(y, "interrupt shadow %u, expected MOV SS (1) and/or STI (2)", e->interrupt.shadow);
	/* domus never enters SMM (no SMI source, no SMRAM). */
	if (e->smi.smm || e->smi.smm_inside_nmi)
		return bad(y, "the vCPU is in SMM, which a domus guest never enters");
	return 0;
}

/* ---- MP_STATE: u32 state, u32 0 ---- */

static void enc_mp_state(const struct vcpu_state *s, struct stream_writer *w)
{
	stream_put_u32(w, s->mp_state.mp_state);
	stream_put_u32(w, 0);
}

static int dec_mp_state(struct stream_cursor *c, struct vcpu_state *s, struct why *y)
{
	uint32_t zero;

	s->mp_state.mp_state = stream_get_u32(c);
	zero = stream_get_u32(c);
	/* x86's states are RUNNABLE to SIPI_RECEIVED (api.rst KVM_GET_MP_STATE;
	 * AP_RESET_HOLD is SEV-ES only). */
	if (s->mp_state.mp_state > KVM_MP_STATE_SIPI_RECEIVED || zero)
		return bad(y, "state %u, expected 0 to %d", s->mp_state.mp_state, KVM_MP_STATE_SIPI_RECEIVED);
	return 0;
}

/* ---- LAPIC: the 1 KiB register page ---- */

#define APIC_ID_REG 0x20

static void enc_lapic(const struct vcpu_state *s, struct stream_writer *w)
{
	stream_put_bytes(w, s->lapic.regs, sizeof(s->lapic.regs));
}

static int dec_lapic(struct stream_cursor *c, struct vcpu_state *s, struct why *y)
{
	const uint8_t *id = c->p + c->off + APIC_ID_REG;
	uint32_t apic_id;

	if (c->len - c->off != KVM_APIC_REG_SIZE)
		return bad(y, "length %zu, expected %d", c->len - c->off, KVM_APIC_REG_SIZE);
	memcpy(s->lapic.regs, c->p + c->off, KVM_APIC_REG_SIZE);
	c->off += KVM_APIC_REG_SIZE;
	/* KVM_GET_LAPIC gives the ID in xAPIC form (bits 31:24) unless
	 * KVM_CAP_X2APIC_API is on, which domus does not enable; the APIC id
	 * is the vCPU id (vm.h). */
	apic_id = (uint32_t)id[3];
	if (apic_id != y->vcpu || id[0] | id[1] | id[2])
		return bad(y, "APIC ID register says %u, expected the vCPU id", apic_id);
	return 0;
}

/* ---- MSRS: u32 count, u32 0, count x (u32 index, u32 0, u64 value) ---- */

static void enc_msrs(const struct vcpu_state *s, struct stream_writer *w)
{
	stream_put_u32(w, s->nr_msrs);
	stream_put_u32(w, 0);
	for (uint32_t i = 0; i < s->nr_msrs && i < VCPU_MAX_MSRS; i++) {
		stream_put_u32(w, s->msrs[i].index);
		stream_put_u32(w, 0);
		stream_put_u64(w, s->msrs[i].data);
	}
}

static int dec_msrs(struct stream_cursor *c, struct vcpu_state *s, struct why *y)
{
	uint32_t n = stream_get_u32(c), zero = stream_get_u32(c);

	if (zero != 0 || n > VCPU_MAX_MSRS || c->len - c->off != (size_t)n * 16)
		return bad(y, "count %u does not match the section's length or exceeds %u", n, VCPU_MAX_MSRS);
	memset(s->msrs, 0, sizeof(s->msrs));
	s->nr_msrs = n;
	for (uint32_t i = 0; i < n; i++) {
		s->msrs[i].index = stream_get_u32(c);
		if (stream_get_u32(c) != 0)
			return bad(y, "a reserved word is not 0");
		s->msrs[i].data = stream_get_u64(c);
		if (!vcpu_rec_msr(s->msrs[i].index))
			return bad(y, "MSR %#x is not one that moves", s->msrs[i].index);
		if (i && s->msrs[i].index <= s->msrs[i - 1].index)
			return bad(y, "MSR %#x out of ascending order", s->msrs[i].index);
	}
	return 0;
}

/* ---- TSC: u32 kHz, u32 flags, u64 KVM_VCPU_TSC_OFFSET ---- */

static void enc_tsc(const struct vcpu_state *s, struct stream_writer *w)
{
	stream_put_u32(w, s->tsc_khz);
	stream_put_u32(w, s->tsc_flags);
	stream_put_u64(w, s->tsc_offset);
}

static int dec_tsc(struct stream_cursor *c, struct vcpu_state *s, struct why *y)
{
	s->tsc_khz = stream_get_u32(c);
	s->tsc_flags = stream_get_u32(c);
	s->tsc_offset = stream_get_u64(c);
	if (s->tsc_flags & ~VCPU_TSC_OFFSET_VALID)
		return bad(y, "flags %#x, expected only bit 0", s->tsc_flags);
	if (!(s->tsc_flags & VCPU_TSC_OFFSET_VALID) && s->tsc_offset)
		return bad(y, "an offset without its valid flag");
	return 0;
}

/* ---- XEN (104 bytes) ---- */

static void enc_xen(const struct vcpu_state *s, struct stream_writer *w)
{
	const struct vcpu_xen *x = &s->xen;
	const uint8_t tail[8] = { x->upcall_vector };

	stream_put_u32(w, x->flags);
	stream_put_u32(w, x->vcpu_id);
	stream_put_u64(w, x->vcpu_info_gpa);
	stream_put_u64(w, x->time_info_gpa);
	stream_put_u64(w, x->runstate_gpa);
	stream_put_u64(w, x->runstate_state);
	stream_put_u64(w, x->runstate_entry_time);
	for (int i = 0; i < 4; i++)
		stream_put_u64(w, x->runstate_time[i]);
	stream_put_u32(w, x->timer_port);
	stream_put_u32(w, x->timer_priority);
	stream_put_u64(w, x->timer_expires_ns);
	stream_put_bytes(w, tail, sizeof(tail));
}

static int dec_xen(struct stream_cursor *c, struct vcpu_state *s, struct why *y)
{
	struct vcpu_xen *x = &s->xen;
	uint64_t sum = 0;
	uint8_t pad = 0;

	memset(x, 0, sizeof(*x));
	x->flags = stream_get_u32(c);
	x->vcpu_id = stream_get_u32(c);
	x->vcpu_info_gpa = stream_get_u64(c);
	x->time_info_gpa = stream_get_u64(c);
	x->runstate_gpa = stream_get_u64(c);
	x->runstate_state = stream_get_u64(c);
	x->runstate_entry_time = stream_get_u64(c);
	for (int i = 0; i < 4; i++) {
		x->runstate_time[i] = stream_get_u64(c);
		sum += x->runstate_time[i];
	}
	x->timer_port = stream_get_u32(c);
	x->timer_priority = stream_get_u32(c);
	x->timer_expires_ns = stream_get_u64(c);
	x->upcall_vector = stream_get_u8(c);
	for (int i = 0; i < 7; i++)
		pad |= stream_get_u8(c);
	if (pad || (x->flags & ~VCPU_XEN_RUNSTATE))
		return bad(y, "flags %#x or padding not what a save writes", x->flags);
	/* KVM and domus number vCPUs alike (vm.c create_vcpu). */
	if (x->vcpu_id != y->vcpu)
		return bad(y, "Xen vCPU id %u, expected %u", x->vcpu_id, y->vcpu);
	if (x->flags & VCPU_XEN_RUNSTATE) {
		/* KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA's own rules (6.1 xen.c). */
		if (x->runstate_state > 3 || x->runstate_entry_time != sum)
			return bad(y, "runstate %llu, or its entry time is not the sum of its times",
				   (unsigned long long)x->runstate_state);
	} else if (x->runstate_gpa != VCPU_XEN_NO_GPA || x->runstate_state || x->runstate_entry_time || sum) {
		return bad(y, "runstate data without its flag");
	}
	/* Ports are below 4096 (2-level, 64-bit guest); KVM reports only
	 * 2-level priority; a disarmed timer has no expiry. */
	if (x->timer_port >= 4096 || x->timer_priority != KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL ||
	    (!x->timer_port && x->timer_expires_ns))
		return bad(y, "timer port %u, priority %#x, expiry %llu not what KVM reports", x->timer_port,
			   x->timer_priority, (unsigned long long)x->timer_expires_ns);
	if (x->upcall_vector && x->upcall_vector < 0x10)
		return bad(y, "upcall vector %#x, expected 0 or 0x10 and above", x->upcall_vector);
	return 0;
}

/* ---- the sections ---- */

static const struct {
	uint32_t tag;
	const char *name;
	void (*enc)(const struct vcpu_state *s, struct stream_writer *w);
	int (*dec)(struct stream_cursor *c, struct vcpu_state *s, struct why *y);
} sections[] = {
	{ 1, "REGS", enc_regs, dec_regs },
	{ 2, "SREGS", enc_sregs, dec_sregs },
	{ 3, "XSAVE", enc_xsave, dec_xsave },
	{ 4, "XCRS", enc_xcrs, dec_xcrs },
	{ 5, "DEBUGREGS", enc_debugregs, dec_debugregs },
	{ 6, "EVENTS", enc_events, dec_events },
	{ 7, "MP_STATE", enc_mp_state, dec_mp_state },
	{ 8, "LAPIC", enc_lapic, dec_lapic },
	{ 9, "MSRS", enc_msrs, dec_msrs },
	{ 10, "TSC", enc_tsc, dec_tsc },
	{ 11, "XEN", enc_xen, dec_xen },
};

_Static_assert(sizeof(sections) / sizeof(sections[0]) == VCPU_NR_SECTIONS, "VCPU_REC_MAX_LEN counts each");

int vcpu_rec_encode(const struct vcpu_state *s, struct stream_writer *w)
{
	static const uint8_t zeros[8];
	int rc = 0;

	stream_put_u32(w, s->id);
	stream_put_u32(w, 0);
	for (size_t i = 0; i < VCPU_NR_SECTIONS && rc == 0; i++) {
		struct stream_writer sec;

		stream_writer_init_mem(&sec);
		sections[i].enc(s, &sec);
		rc = sec.error;
		if (rc == 0) {
			stream_put_u32(w, sections[i].tag);
			stream_put_u32(w, (uint32_t)sec.len);
			stream_put_bytes(w, sec.buf, sec.len);
			rc = stream_put_bytes(w, zeros, (8 - sec.len % 8) % 8);
		}
		stream_writer_fini(&sec);
	}
	return rc ? rc : w->error;
}

int vcpu_rec_decode(const struct stream_record *rec, uint32_t nr_vcpus, struct vcpu_state *out, char *why,
		    size_t len)
{
	struct why y = { .buf = why, .len = len };
	struct vcpu_state *s = out;
	struct stream_cursor c;
	int rc = 0;

	stream_cursor_init(&c, rec);
	y.vcpu = stream_get_u32(&c);
	if (stream_get_u32(&c) != 0 || c.short_read)
		return bad(&y, "head is short or its reserved word is not 0");
	if (y.vcpu >= nr_vcpus)
		return bad(&y, "no such vCPU: the domain has %u", nr_vcpus);
	memset(s, 0, sizeof(*s));
	s->id = y.vcpu;
	for (size_t i = 0; i < VCPU_NR_SECTIONS && rc == 0; i++) {
		uint32_t tag = stream_get_u32(&c), slen = stream_get_u32(&c);
		struct stream_cursor sc;
		size_t padded;

		y.section = sections[i].name;
		if (c.short_read)
			return bad(&y, "missing: the record ends before it");
		if (tag != sections[i].tag)
			return bad(&y, "found section tag %u in its place", tag);
		padded = ((size_t)slen + 7) & ~(size_t)7;
		if (padded > c.len - c.off)
			return bad(&y, "length %u runs past the record's end", slen);
		sc = (struct stream_cursor){ .p = c.p + c.off, .len = slen };
		rc = sections[i].dec(&sc, s, &y);
		/* A short section is that, whatever its fields read as zeros. */
		if (sc.short_read || (rc == 0 && stream_cursor_done(&sc) < 0))
			rc = bad(&y, "length %u is not what its fields take", slen);
		for (size_t j = slen; rc == 0 && j < padded; j++) {
			if (c.p[c.off + j])
				rc = bad(&y, "padding is not 0");
		}
		c.off += padded;
	}
	if (rc == 0 && c.off != c.len) {
		y.section = NULL;
		rc = bad(&y, "%zu bytes after the last section", c.len - c.off);
	}
	return rc;
}
