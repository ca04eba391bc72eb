/* ACPI fixed hardware model (see acpi_pm.h).  Each access is split into
 * bytes so that every width and offset Linux or another guest may use
 * behaves like the 16- and 32-bit registers it is made of. */
#include <errno.h>

#include "acpi_pm.h"

/* Register value as read (SCI_EN always set, SLP_EN write-only). */
static uint16_t cnt_read(const struct acpi_pm *pm)
{
	return (uint16_t)((pm->cnt & ~ACPI_PM1_CNT_SLP_EN) | ACPI_PM1_CNT_SCI_EN);
}

/* One byte of a read; -1 if the port is not ours. */
static int read_byte(const struct acpi_pm *pm, uint16_t port, uint32_t tmr)
{
	if (port >= ACPI_PM1A_EVT_PORT && port < ACPI_PM1A_EVT_PORT + 2)
		return (pm->sts >> (8 * (port - ACPI_PM1A_EVT_PORT))) & 0xff;
	if (port >= ACPI_PM1A_EVT_PORT + 2 && port < ACPI_PM1A_EVT_PORT + ACPI_PM1A_EVT_LEN)
		return (pm->en >> (8 * (port - ACPI_PM1A_EVT_PORT - 2))) & 0xff;
	if (port >= ACPI_PM1A_CNT_PORT && port < ACPI_PM1A_CNT_PORT + ACPI_PM1A_CNT_LEN)
		return (cnt_read(pm) >> (8 * (port - ACPI_PM1A_CNT_PORT))) & 0xff;
	if (port >= ACPI_PM_TMR_PORT && port < ACPI_PM_TMR_PORT + ACPI_PM_TMR_LEN)
		return (tmr >> (8 * (port - ACPI_PM_TMR_PORT))) & 0xff;
	if (port == ACPI_RESET_PORT)
		return pm->reset;
	if (port == ACPI_KBD_CMD_PORT)
		return 0; /* input and output buffers empty */
	return -1;
}

/* One byte of a write: 1 if the port is ours, 0 if not. */
static int write_byte(struct acpi_pm *pm, uint16_t port, uint8_t v, int *event)
{
	unsigned shift;

	if (port >= ACPI_PM1A_EVT_PORT && port < ACPI_PM1A_EVT_PORT + 2) {
		shift = 8 * (port - ACPI_PM1A_EVT_PORT);
		pm->sts &= (uint16_t)~((unsigned)v << shift); /* write 1 to clear */
	} else if (port >= ACPI_PM1A_EVT_PORT + 2 && port < ACPI_PM1A_EVT_PORT + ACPI_PM1A_EVT_LEN) {
		shift = 8 * (port - ACPI_PM1A_EVT_PORT - 2);
		pm->en = (uint16_t)((pm->en & ~(0xffu << shift)) | (unsigned)v << shift);
	} else if (port >= ACPI_PM1A_CNT_PORT && port < ACPI_PM1A_CNT_PORT + ACPI_PM1A_CNT_LEN) {
		shift = 8 * (port - ACPI_PM1A_CNT_PORT);
		pm->cnt = (uint16_t)((pm->cnt & ~(0xffu << shift)) | (unsigned)v << shift);
		if (acpi_pm1_cnt_is_s5(pm->cnt))
			*event = ACPI_PM_POWEROFF;
		pm->cnt &= (uint16_t)~ACPI_PM1_CNT_SLP_EN;
	} else if (port >= ACPI_PM_TMR_PORT && port < ACPI_PM_TMR_PORT + ACPI_PM_TMR_LEN) {
		/* read-only */
	} else if (port == ACPI_RESET_PORT) {
		/* PIIX RCR: bit 1 SYS_RST picks hard or soft, bit 2 RST_CPU
		 * starts it (Intel 82371AB datasheet; QEMU hw/isa/piix.c). */
		pm->reset = v & 0x0f;
		if (v & 0x04)
			*event = ACPI_PM_RESET;
	} else if (port == ACPI_KBD_CMD_PORT) {
		if (v == ACPI_KBD_PULSE_RESET)
			*event = ACPI_PM_RESET;
	} else {
		return 0;
	}
	return 1;
}

int acpi_pm_io(struct acpi_pm *pm, uint16_t port, unsigned size, int is_write, uint32_t *val,
	       uint64_t now_ns)
{
	int event = ACPI_PM_NONE, ours = 0;
	uint32_t tmr = 0, out = 0;

	if (size != 1 && size != 2 && size != 4)
		return -EINVAL;
	if (!is_write && port <= ACPI_PM_TMR_PORT + ACPI_PM_TMR_LEN - 1 &&
	    port + size > ACPI_PM_TMR_PORT)
		tmr = acpi_pm_tmr_value(acpi_pm_timer_ns(pm, now_ns));
	for (unsigned i = 0; i < size; i++) {
		uint16_t p = (uint16_t)(port + i);

		if (is_write) {
			ours |= write_byte(pm, p, (uint8_t)(*val >> (8 * i)), &event);
		} else {
			int b = read_byte(pm, p, tmr);

			if (b >= 0)
				ours = 1;
			/* Bytes of no register read as all ones, as on a bus. */
			out |= (uint32_t)(b >= 0 ? b : 0xff) << (8 * i);
		}
	}
	if (!ours)
		return -ENOENT;
	if (!is_write)
		*val = out;
	return event;
}

int acpi_pm_sci(const struct acpi_pm *pm)
{
	return (pm->sts & pm->en & (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN)) != 0;
}

int acpi_pm_power_button(struct acpi_pm *pm)
{
	pm->sts |= ACPI_PM1_PWRBTN;
	return acpi_pm_sci(pm);
}

uint64_t acpi_pm_timer_ns(const struct acpi_pm *pm, uint64_t now_ns)
{
	return now_ns + pm->tmr_offset_ns; /* wraps, as the counter does */
}

void acpi_pm_set_timer_ns(struct acpi_pm *pm, uint64_t timer_ns, uint64_t now_ns)
{
	pm->tmr_offset_ns = timer_ns - now_ns;
}

int acpi_pm_save(const struct acpi_pm *pm, uint64_t now_ns, struct stream_writer *w)
{
	stream_put_u16(w, pm->sts);
	stream_put_u16(w, pm->en);
	stream_put_u16(w, pm->cnt);
	stream_put_u8(w, pm->reset);
	stream_put_u8(w, 0);
	return stream_put_u64(w, acpi_pm_timer_ns(pm, now_ns));
}

/* Only what acpi_pm_io() can leave in a register is accepted: SLP_EN is
 * write-only (cleared after each write) and 0xCF9 keeps its low 4 bits. */
int acpi_pm_load(struct acpi_pm *pm, struct stream_cursor *c, uint64_t now_ns, const char **why)
{
	struct acpi_pm n = { 0 };
	uint8_t zero;
	uint64_t tmr;

	n.sts = stream_get_u16(c);
	n.en = stream_get_u16(c);
	n.cnt = stream_get_u16(c);
	n.reset = stream_get_u8(c);
	zero = stream_get_u8(c);
	tmr = stream_get_u64(c);
	if (stream_cursor_done(c) < 0) {
		*why = "length is not 16 bytes";
		return -EBADMSG;
	}
	if (zero != 0) {
		*why = "reserved byte is not 0";
		return -EBADMSG;
	}
	if (n.cnt & ACPI_PM1_CNT_SLP_EN) {
		*why = "PM1_CNT has SLP_EN set, which no write leaves there";
		return -EBADMSG;
	}
	if (n.reset & ~0x0fu) {
		*why = "0xCF9 has bits above bit 3, which no write leaves there";
		return -EBADMSG;
	}
	acpi_pm_set_timer_ns(&n, tmr, now_ns);
	*pm = n;
	return 0;
}
