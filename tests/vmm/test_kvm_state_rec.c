/* vmm/state/vcpu_rec.c and platform_rec.c: the KVM side's records encode,
 * decode and encode again to the same bytes; every truncation and each
 * corruption is refused with the record, the vCPU and the section named;
 * the TSC offset rule of Linux's KVM_VCPU_TSC_OFFSET documentation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "state/platform_rec.h"
#include "state/vcpu_rec.h"

#define NR_VCPUS 2

/* A vCPU as a running 64-bit Linux guest leaves it: every section holds
 * values that are not zero, so a field dropped on the way shows. */
static struct vcpu_state *vcpu_running(uint32_t id)
{
	struct vcpu_state *s = calloc(1, sizeof(*s));
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 11, .present = 1,
				    .s = 1, .l = 1, .g = 1 };
	struct kvm_segment data = { .limit = 0xffffffff, .selector = 0x18, .type = 3, .present = 1, .s = 1,
				    .db = 1, .g = 1 };
	size_t n = 0;

	s->id = id;
	s->regs = (struct kvm_regs){ .rax = 1, .rbx = 2, .rcx = 3, .rdx = 4, .rsi = 5, .rdi = 6, .rsp = 7,
				     .rbp = 8, .r8 = 9, .r9 = 10, .r10 = 11, .r11 = 12, .r12 = 13, .r13 = 14,
				     .r14 = 15, .r15 = 16, .rip = 0xffffffff81000000ULL, .rflags = 0x246 };
	s->sregs.cs = code;
	s->sregs.ds = s->sregs.es = s->sregs.ss = data;
	s->sregs.fs = data;
	s->sregs.fs.base = 0x7f0000001000ULL;
	s->sregs.gs = data;
	s->sregs.gs.base = 0xffff888000000000ULL + id;
	s->sregs.tr = (struct kvm_segment){ .base = 0xfffffe0000003000ULL, .limit = 0x4087, .selector = 0x40,
					    .type = 11, .present = 1 };
	s->sregs.ldt = (struct kvm_segment){ .unusable = 1 };
	s->sregs.gdt = (struct kvm_dtable){ .base = 0xfffffe0000001000ULL, .limit = 0x7f };
	s->sregs.idt = (struct kvm_dtable){ .base = 0xfffffe0000000000ULL, .limit = 0xfff };
	s->sregs.cr0 = 0x80050033;
	s->sregs.cr2 = 0x7f1234;
	s->sregs.cr3 = 0x1234000;
	s->sregs.cr4 = 0x370ef0;
	s->sregs.cr8 = 1;
	s->sregs.efer = 0xd01;
	s->sregs.apic_base = 0xfee00000ULL | 0x800 | (id == 0 ? 0x100 : 0);
	s->sregs.flags = KVM_SREGS2_FLAGS_PDPTRS_VALID;
	s->sregs.pdptrs[2] = 0x5001;
	s->xsave_size = 4096;
	for (uint32_t i = 0; i < s->xsave_size / 4; i++)
		s->xsave[i] = i * 2654435761u;
	s->xcrs.nr_xcrs = 1;
	s->xcrs.xcrs[0] = (struct kvm_xcr){ .xcr = 0, .value = 0x7 };
	s->debugregs = (struct kvm_debugregs){ .db = { 1, 2, 3, 4 }, .dr6 = 0xffff0ff0, .dr7 = 0x400 };
	s->events.exception = (typeof(s->events.exception)){ .pending = 1, .nr = 14, .has_error_code = 1,
							    .error_code = 2 };
	s->events.exception_has_payload = 1;
	s->events.exception_payload = 0x7f1234;
	s->events.interrupt = (typeof(s->events.interrupt)){ .injected = 1, .nr = 0xf3, .shadow = 2 };
	s->events.nmi = (typeof(s->events.nmi)){ .pending = 1, .masked = 1 };
	s->events.sipi_vector = 0x9a;
	s->events.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM |
			  KVM_VCPUEVENT_VALID_PAYLOAD;
	s->mp_state.mp_state = KVM_MP_STATE_HALTED;
	for (size_t i = 0; i < sizeof(s->lapic.regs); i++)
		s->lapic.regs[i] = (char)(i * 7);
	memset(s->lapic.regs + 0x20, 0, 4);
	s->lapic.regs[0x23] = (char)id; /* APIC ID, xAPIC form */
	for (size_t i = 0; i < vcpu_rec_nr_msrs(); i += 2)
		s->msrs[n++] = (struct kvm_msr_entry){ .index = vcpu_rec_msr_at(i)->index, .data = 0x1000 + i };
	s->nr_msrs = (uint32_t)n;
	s->tsc_khz = 2400000;
	s->tsc_flags = VCPU_TSC_OFFSET_VALID;
	s->tsc_offset = (uint64_t)-123456789;
	s->xen = (struct vcpu_xen){ .flags = VCPU_XEN_RUNSTATE, .vcpu_id = id, .vcpu_info_gpa = 0x3f000 + id * 64,
				    .time_info_gpa = 0x3e000, .runstate_gpa = 0x3d000, .runstate_state = 1,
				    .runstate_entry_time = 100 + 200 + 300 + 400,
				    .runstate_time = { 100, 200, 300, 400 }, .timer_port = 5,
				    .timer_priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL,
				    .timer_expires_ns = 123456789012ULL, .upcall_vector = 0xf3 };
	return s;
}

static void encode(const struct vcpu_state *s, struct stream_writer *w)
{
	stream_writer_init_mem(w);
	assert_int_equal(vcpu_rec_encode(s, w), 0);
}

static struct stream_record rec_of(uint32_t type, const uint8_t *p, size_t len)
{
	return (struct stream_record){ .type = type, .len = (uint32_t)len, .offset = 16, .data = p };
}

/* Decodes and, on failure, words the error as the loader does. */
static int decode(const uint8_t *p, size_t len, struct vcpu_state *out, char *err, size_t errlen)
{
	struct stream_record rec = rec_of(STREAM_REC_VCPU, p, len);
	struct stream_reader r;
	char why[STREAM_ERR_MAX];
	int rc = vcpu_rec_decode(&rec, NR_VCPUS, out, why, sizeof(why));

	if (rc < 0) {
		stream_reader_init_mem(&r, NULL, 0);
		stream_reject(&r, &rec, why);
		snprintf(err, errlen, "%s", stream_error(&r));
	}
	return rc;
}

static void test_vcpu_round_trip(void **state)
{
	struct vcpu_state *s = vcpu_running(1), *back = calloc(1, sizeof(*back));
	struct stream_writer w, w2;
	char err[STREAM_ERR_MAX];

	(void)state;
	encode(s, &w);
	assert_true(w.len <= VCPU_REC_MAX_LEN);
	assert_int_equal(decode(w.buf, w.len, back, err, sizeof(err)), 0);
	assert_int_equal(back->id, 1);
	assert_memory_equal(&back->regs, &s->regs, sizeof(s->regs));
	assert_memory_equal(&back->sregs, &s->sregs, sizeof(s->sregs));
	assert_int_equal(back->xsave_size, s->xsave_size);
	assert_memory_equal(back->xsave, s->xsave, s->xsave_size);
	assert_memory_equal(&back->xcrs, &s->xcrs, sizeof(s->xcrs));
	assert_memory_equal(&back->debugregs, &s->debugregs, sizeof(s->debugregs));
	assert_memory_equal(&back->events, &s->events, sizeof(s->events));
	assert_int_equal(back->mp_state.mp_state, s->mp_state.mp_state);
	assert_memory_equal(&back->lapic, &s->lapic, sizeof(s->lapic));
	assert_int_equal(back->nr_msrs, s->nr_msrs);
	assert_memory_equal(back->msrs, s->msrs, sizeof(s->msrs));
	assert_int_equal(back->tsc_khz, s->tsc_khz);
	assert_int_equal(back->tsc_flags, s->tsc_flags);
	assert_int_equal(back->tsc_offset, s->tsc_offset);
	assert_memory_equal(&back->xen, &s->xen, sizeof(s->xen));
	encode(back, &w2);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.buf, w.buf, w.len);
	stream_writer_fini(&w);
	stream_writer_fini(&w2);
	free(s);
	free(back);
}

/* The largest record (a full XSAVE area, every MSR, every XCR) is what
 * lib/stream.c's table allows, and it passes a real stream. */
static void test_vcpu_largest_fits_the_table(void **state)
{
	struct vcpu_state *s = vcpu_running(0), *back = calloc(1, sizeof(*back));
	struct stream_writer w, st;
	struct stream_reader r;
	struct stream_record rec;
	char err[STREAM_ERR_MAX];

	(void)state;
	assert_int_equal(stream_rec_max_len(STREAM_REC_VCPU), VCPU_REC_MAX_LEN);
	s->xsave_size = VCPU_XSAVE_MAX;
	s->nr_msrs = (uint32_t)vcpu_rec_nr_msrs();
	for (size_t i = 0; i < vcpu_rec_nr_msrs(); i++)
		s->msrs[i] = (struct kvm_msr_entry){ .index = vcpu_rec_msr_at(i)->index, .data = i };
	encode(s, &w);
	stream_writer_init_mem(&st);
	stream_write_header(&st);
	assert_int_equal(stream_write_record(&st, STREAM_REC_VCPU, w.buf, (uint32_t)w.len), 0);
	stream_write_end(&st);
	stream_reader_init_mem(&r, st.buf, st.len);
	assert_int_equal(stream_read_header(&r), 0);
	assert_int_equal(stream_read_record(&r, &rec), 0);
	assert_int_equal(decode(rec.data, rec.len, back, err, sizeof(err)), 0);
	assert_int_equal(back->nr_msrs, vcpu_rec_nr_msrs());
	stream_reader_fini(&r);
	stream_writer_fini(&st);
	stream_writer_fini(&w);
	free(s);
	free(back);
}

static void test_vcpu_every_truncation_refused(void **state)
{
	struct vcpu_state *s = vcpu_running(1), *back = calloc(1, sizeof(*back));
	struct stream_writer w;
	char err[STREAM_ERR_MAX];

	(void)state;
	encode(s, &w);
	for (size_t len = 0; len < w.len; len++) {
		assert_int_equal(decode(w.buf, len, back, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "record VCPU at offset 16: vCPU "));
		assert_null(strchr(err, '\n'));
	}
	/* One byte more is refused too. */
	w.buf = realloc(w.buf, w.len + 8);
	memset(w.buf + w.len, 0, 8);
	assert_int_equal(decode(w.buf, w.len + 8, back, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "record VCPU at offset 16: vCPU 1: 8 bytes after the last section");
	stream_writer_fini(&w);
	free(s);
	free(back);
}

/* Byte offsets of each section's payload in the encoding of vcpu_running(). */
static size_t section_at(const struct stream_writer *w, uint32_t tag)
{
	size_t off = 8;

	while (off + 8 <= w->len) {
		uint32_t t, l;

		memcpy(&t, w->buf + off, 4);
		memcpy(&l, w->buf + off + 4, 4);
		if (t == tag)
			return off + 8;
		off += 8 + ((l + 7u) & ~7u);
	}
	fail();
	return 0;
}

struct corruption {
	uint32_t tag;   /* section, 0: the record's head */
	size_t at;      /* byte in it */
	uint64_t value; /* written little-endian */
	int width;
	const char *err;
};

static const struct corruption corruptions[] = {
	{ 0, 0, 2, 4, "vCPU 2: no such vCPU: the domain has 2" },
	{ 0, 4, 1, 4, "vCPU 1: head is short or its reserved word is not 0" },
	{ 0, 8, 2, 4, "vCPU 1 section REGS: found section tag 2 in its place" },
	{ 0, 12, 136, 4, "vCPU 1 section REGS: length 136 is not what its fields take" },
	{ 0, 12, 0x7fffffff, 4, "vCPU 1 section REGS: length 2147483647 runs past the record's end" },
	{ 1, 136, 0x200, 8, "vCPU 1 section REGS: rflags 0x200 is not a value the CPU can hold" },
	{ 2, 14, 16, 1, "vCPU 1 section SREGS: cs: type 16, dpl 0 or padding 0 out of range" },
	{ 2, 15, 2, 1, "vCPU 1 section SREGS: cs: a flag is 2, expected 0 or 1" },
	{ 2, 23, 1, 1, "vCPU 1 section SREGS: cs: type 11, dpl 0 or padding 1 out of range" },
	{ 2, 192 + 10, 1, 2, "vCPU 1 section SREGS: gdt: padding is not 0" },
	{ 2, 224 + 56, 2, 8, "vCPU 1 section SREGS: flags 0x2 has bits KVM_GET_SREGS2 never sets" },
	{ 2, 224 + 56, 0, 8, "vCPU 1 section SREGS: PDPTRs without KVM_SREGS2_FLAGS_PDPTRS_VALID" },
	{ 2, 224 + 48, 0xfed00000, 8, "vCPU 1 section SREGS: apic_base 0xfed00000 is not at 0xfee00000" },
	{ 3, 0, 4092, 4, "vCPU 1 section XSAVE: size 4092, expected a multiple of 4 from 4096 to 16384" },
	{ 3, 0, 4100, 4, "vCPU 1 section XSAVE: size 4100 but 4096 bytes follow" },
	{ 3, 4, 1, 4, "vCPU 1 section XSAVE: head is short or its reserved word is not 0" },
	{ 4, 0, 17, 4, "vCPU 1 section XCRS: 17 registers with flags 0, expected at most 16 and 0" },
	{ 4, 8, 1, 4, "vCPU 1 section XCRS: XCR1 = 0x7, expected XCR0 with bit 0 set" },
	{ 4, 16, 6, 8, "vCPU 1 section XCRS: XCR0 = 0x6, expected XCR0 with bit 0 set" },
	{ 4, 12, 1, 4, "vCPU 1 section XCRS: a reserved word is not 0" },
	{ 5, 48, 1, 8, "vCPU 1 section DEBUGREGS: flags 0x1, dr6 0xffff0ff0 or dr7 0x400 not what KVM accepts" },
	{ 6, 1, 32, 1, "vCPU 1 section EVENTS: exception 32 both injected and pending, or not an exception vector" },
	{ 6, 0, 1, 1, "vCPU 1 section EVENTS: exception 14 both injected and pending, or not an exception vector" },
	{ 6, 3, 2, 1, "vCPU 1 section EVENTS: exception: a flag is 2, expected 0 or 1" },
	{ 6, 11, 4, 1, "vCPU 1 section EVENTS: interrupt shadow 4, expected MOV SS (1) and/or STI (2)" },
	{ 6, 15, 1, 1, "vCPU 1 section EVENTS: padding is not 0" },
	{ 6, 20, 0x40, 4, "vCPU 1 section EVENTS: flags 0x40 has bits KVM_GET_VCPU_EVENTS never sets" },
	{ 6, 24, 1, 1, "vCPU 1 section EVENTS: the vCPU is in SMM, which a domus guest never enters" },
	{ 6, 28, 2, 1, "vCPU 1 section EVENTS: smi: a flag is 2, expected 0 or 1" },
	{ 7, 0, 5, 4, "vCPU 1 section MP_STATE: state 5, expected 0 to 4" },
	{ 8, 0x23, 0, 1, "vCPU 1 section LAPIC: APIC ID register says 0, expected the vCPU id" },
	{ 9, 0, 2, 4, "vCPU 1 section MSRS: count 2 does not match the section's length or exceeds 64" },
	{ 9, 8, 0xc0000080, 4, "vCPU 1 section MSRS: MSR 0xc0000080 is not one that moves" },
	{ 9, 24, 0x10, 4, "vCPU 1 section MSRS: MSR 0x10 out of ascending order" },
	{ 9, 12, 1, 4, "vCPU 1 section MSRS: a reserved word is not 0" },
	{ 10, 4, 2, 4, "vCPU 1 section TSC: flags 0x2, expected only bit 0" },
	{ 10, 4, 0, 4, "vCPU 1 section TSC: an offset without its valid flag" },
	{ 11, 4, 0, 4, "vCPU 1 section XEN: Xen vCPU id 0, expected 1" },
	{ 11, 0, 2, 4, "vCPU 1 section XEN: flags 0x2 or padding not what a save writes" },
	{ 11, 0, 0, 4, "vCPU 1 section XEN: runstate data without its flag" },
	{ 11, 32, 4, 8, "vCPU 1 section XEN: runstate 4, or its entry time is not the sum of its times" },
	{ 11, 40, 999, 8, "vCPU 1 section XEN: runstate 1, or its entry time is not the sum of its times" },
	{ 11, 80, 4096, 4, "vCPU 1 section XEN: timer port 4096, priority 0xffffffff, expiry 123456789012 not what KVM reports" },
	{ 11, 84, 0, 4, "vCPU 1 section XEN: timer port 5, priority 0, expiry 123456789012 not what KVM reports" },
	{ 11, 96, 0xf, 1, "vCPU 1 section XEN: upcall vector 0xf, expected 0 or 0x10 and above" },
	{ 11, 97, 1, 1, "vCPU 1 section XEN: flags 0x1 or padding not what a save writes" },
};

static void test_vcpu_each_corruption_refused(void **state)
{
	struct vcpu_state *s = vcpu_running(1), *back = calloc(1, sizeof(*back));
	struct stream_writer w;
	char err[STREAM_ERR_MAX], want[STREAM_ERR_MAX + 64];
	uint8_t *copy;

	(void)state;
	encode(s, &w);
	copy = malloc(w.len);
	for (size_t i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
		const struct corruption *k = &corruptions[i];
		size_t at = (k->tag ? section_at(&w, k->tag) : 0) + k->at;

		memcpy(copy, w.buf, w.len);
		for (int b = 0; b < k->width; b++)
			copy[at + (size_t)b] = (uint8_t)(k->value >> (8 * b));
		snprintf(want, sizeof(want), "record VCPU at offset 16: %s", k->err);
		if (decode(copy, w.len, back, err, sizeof(err)) != -EBADMSG || strcmp(err, want) != 0)
			fail_msg("corruption %zu: got \"%s\", want \"%s\"", i, err, want);
	}
	free(copy);
	stream_writer_fini(&w);
	free(s);
	free(back);
}

/* A section's padding and a missing section. */
static void test_vcpu_padding_and_missing_section(void **state)
{
	struct vcpu_state *s = vcpu_running(0), *back = calloc(1, sizeof(*back));
	struct stream_writer w;
	char err[STREAM_ERR_MAX];
	size_t xsave, xen;

	(void)state;
	/* An XSAVE area of 4100 bytes is the one section that needs padding. */
	s->xsave_size = 4100;
	encode(s, &w);
	assert_int_equal(decode(w.buf, w.len, back, err, sizeof(err)), 0);
	assert_int_equal(back->xsave_size, 4100);
	xsave = section_at(&w, 3);
	w.buf[xsave + 8 + 4100] = 1;
	assert_int_equal(decode(w.buf, w.len, back, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "record VCPU at offset 16: vCPU 0 section XSAVE: padding is not 0");
	w.buf[xsave + 8 + 4100] = 0;
	/* Cut the record before XEN: the section is missing. */
	xen = section_at(&w, 11);
	assert_int_equal(decode(w.buf, xen - 8, back, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "record VCPU at offset 16: vCPU 0 section XEN: missing: the record ends before it");
	stream_writer_fini(&w);
	free(s);
	free(back);
}

static void test_msr_table(void **state)
{
	(void)state;
	for (size_t i = 1; i < vcpu_rec_nr_msrs(); i++)
		assert_true(vcpu_rec_msr_at(i - 1)->index < vcpu_rec_msr_at(i)->index);
	assert_null(vcpu_rec_msr_at(vcpu_rec_nr_msrs()));
	assert_string_equal(vcpu_rec_msr(0xc0000082)->name, "LSTAR");
	assert_true(vcpu_rec_msr(0x6e0)->kind & VCPU_MSR_LATE);
	assert_null(vcpu_rec_msr(0x40000000)); /* the Xen hypercall MSR is write-only */
	assert_null(vcpu_rec_msr(0xc0000080)); /* EFER moves in SREGS */
}

/* ---- platform ---- */

static struct platform_irqchip irqchip_running(void)
{
	struct platform_irqchip ic;

	memset(&ic, 0, sizeof(ic));
	for (uint32_t i = 0; i < 3; i++)
		ic.chip[i].chip_id = i;
	ic.chip[0].chip.pic = (struct kvm_pic_state){ .irr = 1, .imr = 0xfb, .isr = 0, .priority_add = 3,
						      .irq_base = 0x30, .init4 = 1, .elcr = 0x20, .elcr_mask = 0xf8,
						      .auto_eoi = 1 };
	ic.chip[1].chip.pic = (struct kvm_pic_state){ .imr = 0xff, .irq_base = 0x38, .init_state = 2,
						      .elcr_mask = 0xde };
	ic.chip[2].chip.ioapic.base_address = PLATFORM_IOAPIC_BASE;
	ic.chip[2].chip.ioapic.ioregsel = 0x13;
	ic.chip[2].chip.ioapic.irr = 0x100;
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		ic.chip[2].chip.ioapic.redirtbl[i].bits = 0x10000ULL | (uint64_t)(0x30 + i) | ((uint64_t)i << 56);
	return ic;
}

static struct kvm_pit_state2 pit_running(void)
{
	struct kvm_pit_state2 p;

	memset(&p, 0, sizeof(p));
	p.channels[0] = (struct kvm_pit_channel_state){ .count = 0x10000, .latched_count = 0x1234,
							.count_latched = 3, .read_state = 3, .write_state = 3,
							.rw_mode = 3, .mode = 2, .gate = 1, .count_load_time = 987654321 };
	/* A channel no one programmed, as kvm_pit_reset leaves it (mode 0xff):
	 * seen in the lab's first save of a booted guest. */
	p.channels[1] = (struct kvm_pit_channel_state){ .mode = 0xff, .gate = 1 };
	p.channels[2] = (struct kvm_pit_channel_state){ .count = 0x2e9b, .mode = 0, .rw_mode = 3, .status = 0x30 };
	p.flags = KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	return p;
}

static void test_platform_round_trip(void **state)
{
	struct kvm_clock_data clk = { .clock = 1234567890123ULL, .flags = KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
							KVM_CLOCK_HOST_TSC,
				      .realtime = 1700000000000000000ULL, .host_tsc = 99999999999ULL }, clk2;
	struct platform_irqchip ic = irqchip_running(), ic2;
	struct kvm_pit_state2 pit = pit_running(), pit2;
	struct stream_writer w, w2;
	struct stream_record rec;
	char why[STREAM_ERR_MAX];

	(void)state;
	stream_writer_init_mem(&w);
	assert_int_equal(platform_rec_encode_clock(&clk, &w), 0);
	assert_int_equal(w.len, stream_rec_max_len(STREAM_REC_CLOCK));
	rec = rec_of(STREAM_REC_CLOCK, w.buf, w.len);
	assert_int_equal(platform_rec_decode_clock(&rec, &clk2, why, sizeof(why)), 0);
	assert_memory_equal(&clk2, &clk, sizeof(clk));
	stream_writer_init_mem(&w2);
	platform_rec_encode_clock(&clk2, &w2);
	assert_memory_equal(w2.buf, w.buf, w.len);
	stream_writer_fini(&w);
	stream_writer_fini(&w2);

	stream_writer_init_mem(&w);
	assert_int_equal(platform_rec_encode_irqchip(&ic, &w), 0);
	assert_int_equal(w.len, stream_rec_max_len(STREAM_REC_IRQCHIP));
	rec = rec_of(STREAM_REC_IRQCHIP, w.buf, w.len);
	assert_int_equal(platform_rec_decode_irqchip(&rec, &ic2, why, sizeof(why)), 0);
	assert_memory_equal(&ic2, &ic, sizeof(ic));
	stream_writer_init_mem(&w2);
	platform_rec_encode_irqchip(&ic2, &w2);
	assert_memory_equal(w2.buf, w.buf, w.len);
	stream_writer_fini(&w);
	stream_writer_fini(&w2);

	stream_writer_init_mem(&w);
	assert_int_equal(platform_rec_encode_pit(&pit, &w), 0);
	assert_int_equal(w.len, stream_rec_max_len(STREAM_REC_PIT));
	rec = rec_of(STREAM_REC_PIT, w.buf, w.len);
	assert_int_equal(platform_rec_decode_pit(&rec, &pit2, why, sizeof(why)), 0);
	assert_memory_equal(&pit2, &pit, sizeof(pit));
	stream_writer_init_mem(&w2);
	platform_rec_encode_pit(&pit2, &w2);
	assert_memory_equal(w2.buf, w.buf, w.len);
	stream_writer_fini(&w);
	stream_writer_fini(&w2);
}

struct pcorruption {
	uint32_t type;
	size_t at;
	uint64_t value;
	int width;
	const char *err;
};

static const struct pcorruption pcorruptions[] = {
	{ STREAM_REC_CLOCK, 12, 1, 4, "reserved word is 0x1, expected 0" },
	{ STREAM_REC_CLOCK, 8, 0x16, 4, "flags 0x16 has bits KVM_GET_CLOCK never sets" },
	{ STREAM_REC_CLOCK, 8, KVM_CLOCK_HOST_TSC, 4, "no CLOCK_REALTIME of the save" },
	{ STREAM_REC_CLOCK, 16, 0, 8, "no CLOCK_REALTIME of the save" },
	{ STREAM_REC_CLOCK, 8, KVM_CLOCK_REALTIME, 4, "a host TSC without KVM_CLOCK_HOST_TSC" },
	{ STREAM_REC_IRQCHIP, 6, 2, 1, "PIC master: a mode flag is 2, expected 0 or 1" },
	{ STREAM_REC_IRQCHIP, 16 + 9, 4, 1, "PIC slave: init_state 4, priority_add 0 or irq_base 0x38 out of range" },
	{ STREAM_REC_IRQCHIP, 5, 0x31, 1, "PIC master: init_state 0, priority_add 3 or irq_base 0x31 out of range" },
	{ STREAM_REC_IRQCHIP, 52, 1, 4, "IOAPIC: reserved word is 0x1, expected 0" },
	{ STREAM_REC_IRQCHIP, 32, 0xfed00000, 8, "IOAPIC: base 0xfed00000, expected 0xfec00000" },
	{ STREAM_REC_PIT, 0, 0x10001, 4, "channel 0: count 65537, expected at most 0x10000" },
	{ STREAM_REC_PIT, 24 + 13, 6, 1, "channel 1: mode 6 or an access state out of range" },
	{ STREAM_REC_PIT, 48 + 15, 2, 1, "channel 2: bcd, gate or status_latched not 0 or 1" },
	{ STREAM_REC_PIT, 72, 4, 4, "flags 0x4 has bits KVM_GET_PIT2 never sets" },
	{ STREAM_REC_PIT, 76, 1, 4, "reserved word is 0x1, expected 0" },
};

static int pdecode(uint32_t type, const uint8_t *p, size_t len, char *why, size_t wl)
{
	struct stream_record rec = rec_of(type, p, len);
	struct kvm_clock_data c;
	struct platform_irqchip ic;
	struct kvm_pit_state2 pit;

	if (type == STREAM_REC_CLOCK)
		return platform_rec_decode_clock(&rec, &c, why, wl);
	if (type == STREAM_REC_IRQCHIP)
		return platform_rec_decode_irqchip(&rec, &ic, why, wl);
	return platform_rec_decode_pit(&rec, &pit, why, wl);
}

static void test_platform_refused(void **state)
{
	struct kvm_clock_data clk = { .clock = 5, .flags = KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC, .realtime = 7,
				      .host_tsc = 9 };
	struct platform_irqchip ic = irqchip_running();
	struct kvm_pit_state2 pit = pit_running();
	struct stream_writer w[3];
	const uint32_t types[3] = { STREAM_REC_CLOCK, STREAM_REC_IRQCHIP, STREAM_REC_PIT };
	char why[STREAM_ERR_MAX];
	uint8_t copy[512];

	(void)state;
	for (int i = 0; i < 3; i++)
		stream_writer_init_mem(&w[i]);
	platform_rec_encode_clock(&clk, &w[0]);
	platform_rec_encode_irqchip(&ic, &w[1]);
	platform_rec_encode_pit(&pit, &w[2]);
	for (int i = 0; i < 3; i++) {
		char want[64];

		for (size_t len = 0; len < w[i].len; len++)
			assert_int_equal(pdecode(types[i], w[i].buf, len, why, sizeof(why)), -EBADMSG);
		snprintf(want, sizeof(want), "length %zu, expected %zu", w[i].len - 1, w[i].len);
		assert_int_equal(pdecode(types[i], w[i].buf, w[i].len - 1, why, sizeof(why)), -EBADMSG);
		assert_string_equal(why, want);
		assert_int_equal(pdecode(types[i], w[i].buf, w[i].len + 1 > sizeof(copy) ? 0 : w[i].len, why,
					 sizeof(why)), 0);
	}
	for (size_t k = 0; k < sizeof(pcorruptions) / sizeof(pcorruptions[0]); k++) {
		const struct pcorruption *c = &pcorruptions[k];
		int i = c->type == STREAM_REC_CLOCK ? 0 : c->type == STREAM_REC_IRQCHIP ? 1 : 2;

		memcpy(copy, w[i].buf, w[i].len);
		for (int b = 0; b < c->width; b++)
			copy[c->at + (size_t)b] = (uint8_t)(c->value >> (8 * b));
		if (pdecode(c->type, copy, w[i].len, why, sizeof(why)) != -EBADMSG || strcmp(why, c->err) != 0)
			fail_msg("platform corruption %zu: got \"%s\", want \"%s\"", k, why, c->err);
	}
	for (int i = 0; i < 3; i++)
		stream_writer_fini(&w[i]);
}

/* Linux's documented rule: the guest TSC at kvmclock 0 stays where it was.
 * 2.4 GHz guest, away 10 s of kvmclock, destination host TSC 1e9 behind. */
static void test_tsc_offset_rule(void **state)
{
	struct platform_clock clk = {
		.loaded = true,
		.src = { .clock = 50000000000ULL, .flags = KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC,
			 .host_tsc = 3000000000000ULL },
		.dst = { .clock = 60000000000ULL, .flags = KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC,
			 .host_tsc = 2999000000000ULL },
	};
	uint64_t ofs_src = (uint64_t)-1000, ofs;
	uint32_t khz = 2400000;

	(void)state;
	assert_int_equal(platform_tsc_offset(&clk, ofs_src, khz, &ofs), 0);
	/* + 10 s x 2.4e9/s for the time away, + 1e9 for the host TSC gap. */
	assert_int_equal(ofs, ofs_src + 24000000000ULL + 1000000000ULL);
	/* guest TSC - kvmclock x freq is the same on both sides. */
	assert_int_equal((clk.src.host_tsc + ofs_src) - clk.src.clock / 1000000 * khz,
			 (clk.dst.host_tsc + ofs) - clk.dst.clock / 1000000 * khz);
	clk.dst.flags = KVM_CLOCK_REALTIME;
	assert_int_equal(platform_tsc_offset(&clk, ofs_src, khz, &ofs), -EAGAIN);
	clk.dst.flags |= KVM_CLOCK_HOST_TSC;
	clk.src.flags = KVM_CLOCK_REALTIME;
	assert_int_equal(platform_tsc_offset(&clk, ofs_src, khz, &ofs), -EAGAIN);
	clk.src.flags |= KVM_CLOCK_HOST_TSC;
	assert_int_equal(platform_tsc_offset(&clk, ofs_src, 0, &ofs), -EAGAIN);
	clk.loaded = false;
	assert_int_equal(platform_tsc_offset(&clk, ofs_src, khz, &ofs), -EAGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vcpu_round_trip),
		cmocka_unit_test(test_vcpu_largest_fits_the_table),
		cmocka_unit_test(test_vcpu_every_truncation_refused),
		cmocka_unit_test(test_vcpu_each_corruption_refused),
		cmocka_unit_test(test_vcpu_padding_and_missing_section),
		cmocka_unit_test(test_msr_table),
		cmocka_unit_test(test_platform_round_trip),
		cmocka_unit_test(test_platform_refused),
		cmocka_unit_test(test_tsc_offset_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
