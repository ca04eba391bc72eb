/* VM-wide KVM state records (platform_rec.h).  Every field is written one by
 * one, little-endian, and padding is written as 0 and must read back as 0:
 * the record layout is ours, not the compiler's. */
#include "platform_rec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CLOCK_FLAGS (KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC)
#define PIT_FLAGS (KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON)

__attribute__((format(printf, 3, 4)))
static int bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int short_or_long(const struct stream_cursor *c, char *why, size_t len, uint32_t want)
{
	if (stream_cursor_done(c) < 0)
		return bad(why, len, "length %zu, expected %u", c->len, want);
	return 0;
}

/* ---- CLOCK: u64 clock, u32 flags, u32 0, u64 realtime, u64 host_tsc ---- */

int platform_rec_encode_clock(const struct kvm_clock_data *c, struct stream_writer *w)
{
	stream_put_u64(w, c->clock);
	stream_put_u32(w, c->flags);
	stream_put_u32(w, 0);
	stream_put_u64(w, c->realtime);
	return stream_put_u64(w, c->host_tsc);
}

int platform_rec_decode_clock(const struct stream_record *rec, struct kvm_clock_data *out, char *why, size_t len)
{
	struct kvm_clock_data c = { 0 };
	struct stream_cursor cur;
	uint32_t zero;

	stream_cursor_init(&cur, rec);
	c.clock = stream_get_u64(&cur);
	c.flags = stream_get_u32(&cur);
	zero = stream_get_u32(&cur);
	c.realtime = stream_get_u64(&cur);
	c.host_tsc = stream_get_u64(&cur);
	if (short_or_long(&cur, why, len, PLATFORM_REC_CLOCK_LEN) < 0)
		return -EBADMSG;
	if (zero != 0)
		return bad(why, len, "reserved word is %#x, expected 0", zero);
	if (c.flags & ~CLOCK_FLAGS)
		return bad(why, len, "flags %#x has bits KVM_GET_CLOCK never sets", c.flags);
	/* The saver stamps the realtime itself when KVM does not: without it
	 * a load could not tell how long the domain was away. */
	if (!(c.flags & KVM_CLOCK_REALTIME) || c.realtime == 0)
		return bad(why, len, "no CLOCK_REALTIME of the save");
	if (!(c.flags & KVM_CLOCK_HOST_TSC) && c.host_tsc != 0)
		return bad(why, len, "a host TSC without KVM_CLOCK_HOST_TSC");
	*out = c;
	return 0;
}

/* ---- IRQCHIP: PIC master, PIC slave (16 bytes each), IOAPIC ---- */

static void put_pic(struct stream_writer *w, const struct kvm_pic_state *p)
{
	const uint8_t v[16] = {
		p->last_irr, p->irr, p->imr, p->isr, p->priority_add, p->irq_base, p->read_reg_select,
		p->poll, p->special_mask, p->init_state, p->auto_eoi, p->rotate_on_auto_eoi,
		p->special_fully_nested_mode, p->init4, p->elcr, p->elcr_mask,
	};

	stream_put_bytes(w, v, sizeof(v));
}

static void get_pic(struct stream_cursor *c, struct kvm_pic_state *p)
{
	uint8_t *const f[16] = {
		&p->last_irr, &p->irr, &p->imr, &p->isr, &p->priority_add, &p->irq_base, &p->read_reg_select,
		&p->poll, &p->special_mask, &p->init_state, &p->auto_eoi, &p->rotate_on_auto_eoi,
		&p->special_fully_nested_mode, &p->init4, &p->elcr, &p->elcr_mask,
	};

	for (int i = 0; i < 16; i++)
		*f[i] = stream_get_u8(c);
}

/* What KVM's 8259 model (arch/x86/kvm/i8259.c) can hold: flags are 0 or 1,
 * init_state counts ICW2..ICW4, priority_add is an IRQ number, the vector
 * base has its low 3 bits clear. */
static int check_pic(const struct kvm_pic_state *p, const char *name, char *why, size_t len)
{
	const uint8_t flags[] = { p->read_reg_select, p->poll, p->special_mask, p->auto_eoi,
				  p->rotate_on_auto_eoi, p->special_fully_nested_mode, p->init4 };

	for (size_t i = 0; i < sizeof(flags); i++) {
		if (flags[i] > 1)
			return bad(why, len, "%s: a mode flag is %u, expected 0 or 1", name, flags[i]);
	}
	if (p->init_state > 3 || p->priority_add > 7 || (p->irq_base & 7))
		return bad(why, len, "%s: init_state %u, priority_add %u or irq_base %#x out of range", name,
			   p->init_state, p->priority_add, p->irq_base);
	return 0;
}

int platform_rec_encode_irqchip(const struct platform_irqchip *ic, struct stream_writer *w)
{
	const struct kvm_ioapic_state *io = &ic->chip[KVM_IRQCHIP_IOAPIC].chip.ioapic;

	put_pic(w, &ic->chip[KVM_IRQCHIP_PIC_MASTER].chip.pic);
	put_pic(w, &ic->chip[KVM_IRQCHIP_PIC_SLAVE].chip.pic);
	stream_put_u64(w, io->base_address);
	stream_put_u32(w, io->ioregsel);
	stream_put_u32(w, io->id);
	stream_put_u32(w, io->irr);
	stream_put_u32(w, 0);
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		stream_put_u64(w, io->redirtbl[i].bits);
	return w->error;
}

int platform_rec_decode_irqchip(const struct stream_record *rec, struct platform_irqchip *out, char *why,
				size_t len)
{
	struct platform_irqchip ic;
	struct kvm_ioapic_state *io = &ic.chip[KVM_IRQCHIP_IOAPIC].chip.ioapic;
	struct stream_cursor c;
	uint32_t pad;

	memset(&ic, 0, sizeof(ic));
	for (uint32_t i = 0; i < 3; i++)
		ic.chip[i].chip_id = i;
	stream_cursor_init(&c, rec);
	get_pic(&c, &ic.chip[KVM_IRQCHIP_PIC_MASTER].chip.pic);
	get_pic(&c, &ic.chip[KVM_IRQCHIP_PIC_SLAVE].chip.pic);
	io->base_address = stream_get_u64(&c);
	io->ioregsel = stream_get_u32(&c);
	io->id = stream_get_u32(&c);
	io->irr = stream_get_u32(&c);
	pad = stream_get_u32(&c);
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		io->redirtbl[i].bits = stream_get_u64(&c);
	if (short_or_long(&c, why, len, PLATFORM_REC_IRQCHIP_LEN) < 0)
		return -EBADMSG;
	if (check_pic(&ic.chip[KVM_IRQCHIP_PIC_MASTER].chip.pic, "PIC master", why, len) < 0 ||
	    check_pic(&ic.chip[KVM_IRQCHIP_PIC_SLAVE].chip.pic, "PIC slave", why, len) < 0)
		return -EBADMSG;
	if (pad != 0)
		return bad(why, len, "IOAPIC: reserved word is %#x, expected 0", pad);
	/* KVM matches MMIO against base_address: a moved IOAPIC would take
	 * some other page's accesses. */
	if (io->base_address != PLATFORM_IOAPIC_BASE)
		return bad(why, len, "IOAPIC: base %#llx, expected %#llx", (unsigned long long)io->base_address,
			   PLATFORM_IOAPIC_BASE);
	*out = ic;
	return 0;
}

/* ---- PIT: 3 channels of 24 bytes, u32 flags, u32 0 ---- */

int platform_rec_encode_pit(const struct kvm_pit_state2 *pit, struct stream_writer *w)
{
	for (int i = 0; i < 3; i++) {
		const struct kvm_pit_channel_state *ch = &pit->channels[i];
		const uint8_t b[10] = { ch->count_latched, ch->status_latched, ch->status, ch->read_state,
					ch->write_state, ch->write_latch, ch->rw_mode, ch->mode, ch->bcd,
					ch->gate };

		stream_put_u32(w, ch->count);
		stream_put_u16(w, ch->latched_count);
		stream_put_bytes(w, b, sizeof(b));
		stream_put_u64(w, (uint64_t)ch->count_load_time);
	}
	stream_put_u32(w, pit->flags);
	return stream_put_u32(w, 0);
}

/* What KVM's 8254 (arch/x86/kvm/i8254.c) can hold: a count of at most
 * 0x10000, modes 0-5 or 0xff (kvm_pit_reset leaves an unprogrammed channel
 * at 0xff, and the HPET legacy mode sets channel 0 to it: "disable
 * timer"), the RW_STATE_* values 0-4, flags 0 or 1. */
static int check_channel(const struct kvm_pit_channel_state *ch, int i, char *why, size_t len)
{
	if (ch->count > 0x10000)
		return bad(why, len, "channel %d: count %u, expected at most 0x10000", i, ch->count);
	if ((ch->mode > 5 && ch->mode != 0xff) || ch->rw_mode > 4 || ch->read_state > 4 || ch->write_state > 4 || ch->count_latched > 4)
		return bad(why, len, "channel %d: mode %u or an access state out of range", i, ch->mode);
	if (ch->bcd > 1 || ch->gate > 1 || ch->status_latched > 1)
		return bad(why, len, "channel %d: bcd, gate or status_latched not 0 or 1", i);
	return 0;
}

int platform_rec_decode_pit(const struct stream_record *rec, struct kvm_pit_state2 *out, char *why, size_t len)
{
	struct kvm_pit_state2 pit;
	struct stream_cursor c;
	uint32_t pad;

	memset(&pit, 0, sizeof(pit));
	stream_cursor_init(&c, rec);
	for (int i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *ch = &pit.channels[i];
		uint8_t *const f[10] = { &ch->count_latched, &ch->status_latched, &ch->status, &ch->read_state,
					 &ch->write_state, &ch->write_latch, &ch->rw_mode, &ch->mode, &ch->bcd,
					 &ch->gate };

		ch->count = stream_get_u32(&c);
		ch->latched_count = stream_get_u16(&c);
		for (int j = 0; j < 10; j++)
			*f[j] = stream_get_u8(&c);
		ch->count_load_time = (int64_t)stream_get_u64(&c);
	}
	pit.flags = stream_get_u32(&c);
	pad = stream_get_u32(&c);
	if (short_or_long(&c, why, len, PLATFORM_REC_PIT_LEN) < 0)
		return -EBADMSG;
	for (int i = 0; i < 3; i++) {
		if (check_channel(&pit.channels[i], i, why, len) < 0)
			return -EBADMSG;
	}
	if (pit.flags & ~PIT_FLAGS)
		return bad(why, len, "flags %#x has bits KVM_GET_PIT2 never sets", pit.flags);
	if (pad != 0)
		return bad(why, len, "reserved word is %#x, expected 0", pad);
	*out = pit;
	return 0;
}

int platform_tsc_offset(const struct platform_clock *clk, uint64_t ofs_src, uint32_t tsc_khz, uint64_t *ofs_dst)
{
	__int128 ticks;

	if (!clk->loaded || tsc_khz == 0 || !(clk->src.flags & KVM_CLOCK_HOST_TSC) ||
	    !(clk->dst.flags & KVM_CLOCK_HOST_TSC))
		return -EAGAIN;
	/* kvmclock ns the domain moved on, in guest TSC ticks (kHz = ticks/ms). */
	ticks = (__int128)(int64_t)(clk->dst.clock - clk->src.clock) * tsc_khz / 1000000;
	*ofs_dst = ofs_src + (uint64_t)(int64_t)ticks + (clk->src.host_tsc - clk->dst.host_tsc);
	return 0;
}
