/* vmm/boot ACPI tables, read back the way a guest finds them: from the RSDP
 * through the XSDT (and RSDT) to each table, checking checksums, the FADT's
 * power-off and reset fields, the DSDT's \_S5 and the MADT entries. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/acpi.h"
#include "boot/acpi_pm.h"
#include "boot_util.h"

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* The table at gpa, checked: signature, in RAM, checksum 0. */
static const uint8_t *table(const struct guest_mem *m, uint64_t gpa, const char *sig)
{
	const uint8_t *h = gmem_ptr(m, gpa, 36);
	uint32_t len;

	assert_non_null(h);
	assert_memory_equal(h, sig, 4);
	len = rd32(h + 4);
	assert_true(len >= 36);
	assert_non_null(gmem_ptr(m, gpa, len));
	assert_true(gpa >= LAYOUT_ACPI && gpa + len <= LAYOUT_ACPI + LAYOUT_ACPI_SIZE);
	if (acpi_sum(h, len) != 0)
		fail_msg("%.4s checksum is off by %u", sig, acpi_sum(h, len));
	return h;
}

/* The XSDT entry with signature sig. */
static const uint8_t *find(const struct guest_mem *m, const uint8_t *xsdt, const char *sig)
{
	uint32_t n = (rd32(xsdt + 4) - 36) / 8;

	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *h = gmem_ptr(m, rd64(xsdt + 36 + 8 * i), 36);

		if (h && !memcmp(h, sig, 4))
			return table(m, rd64(xsdt + 36 + 8 * i), sig);
	}
	fail_msg("%s not in the XSDT", sig);
	return NULL;
}

static const uint8_t *build(struct guest_mem *m, unsigned nvcpus)
{
	uint64_t rsdp_gpa = 0;
	char err[256] = "";
	const uint8_t *rsdp;

	assert_int_equal(acpi_build(m, nvcpus, &rsdp_gpa, err, sizeof(err)), 0);
	/* Found by Linux's legacy scan too: 16-aligned in 0xE0000-0xFFFFF. */
	assert_int_equal(rsdp_gpa % 16, 0);
	assert_true(rsdp_gpa >= 0xE0000 && rsdp_gpa < 0x100000);
	rsdp = gmem_ptr(m, rsdp_gpa, 36);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(acpi_sum(rsdp, 20), 0);
	assert_int_equal(acpi_sum(rsdp, 36), 0);
	assert_int_equal(rsdp[15], 2);          /* revision */
	assert_int_equal(rd32(rsdp + 20), 36);  /* length */
	return rsdp;
}

/* The FADT of tables built for nvcpus, found from the RSDP. */
static const uint8_t *fadt_of(struct guest_mem *m, unsigned nvcpus)
{
	const uint8_t *rsdp = build(m, nvcpus);

	return find(m, table(m, rd64(rsdp + 24), "XSDT"), "FACP");
}

static void test_checksums_and_table_list(void **state)
{
	struct guest_mem *m = tmem_new(16, 0);
	const uint8_t *rsdp = build(m, 4);
	const uint8_t *xsdt = table(m, rd64(rsdp + 24), "XSDT");
	const uint8_t *rsdt = table(m, rd32(rsdp + 16), "RSDT");
	const uint8_t *fadt;

	/* RSDT and XSDT list the same tables. */
	assert_int_equal((rd32(rsdt + 4) - 36) / 4, 2);
	assert_int_equal((rd32(xsdt + 4) - 36) / 8, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(rd32(rsdt + 36 + 4 * i), rd64(xsdt + 36 + 8 * i));
	fadt = find(m, xsdt, "FACP");
	(void)find(m, xsdt, "APIC");
	/* DSDT through the FADT, 32- and 64-bit pointers equal; the FACS in the
	 * 32-bit field only, or Linux installs it twice. */
	assert_int_equal(rd32(fadt + 40), rd64(fadt + 140));
	assert_int_equal(rd64(fadt + 132), 0);
	(void)table(m, rd64(fadt + 140), "DSDT");
	{
		const uint8_t *facs = gmem_ptr(m, rd32(fadt + 36), 64);

		assert_memory_equal(facs, "FACS", 4);
		assert_int_equal(rd32(facs + 4), 64);
		assert_int_equal(rd32(fadt + 36) % 64, 0);
	}
	tmem_free(m);
}

static void test_fadt_poweroff_and_reset(void **state)
{
	struct guest_mem *m = tmem_new(16, 0);
	const uint8_t *f = fadt_of(m, 1);
	uint32_t flags = rd32(f + 112);

	/* Revision 6 at full length: what Linux 6.1's ACPICA takes silently. */
	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(f[8], 6);
	assert_int_equal(rd16(f + 46), ACPI_SCI_IRQ);
	assert_int_equal(rd32(f + 48), 0); /* SMI_CMD: already in ACPI mode */
	assert_int_equal(rd32(f + 56), ACPI_PM1A_EVT_PORT);
	assert_int_equal(rd32(f + 64), ACPI_PM1A_CNT_PORT);
	assert_int_equal(rd32(f + 76), ACPI_PM_TMR_PORT);
	assert_int_equal(f[88], 4);
	assert_int_equal(f[89], 2);
	assert_int_equal(f[91], 4);
	/* X_ blocks: system I/O, same port, width = 8 * legacy length. */
	assert_int_equal(f[148], 1);
	assert_int_equal(f[149], 32);
	assert_int_equal(rd64(f + 152), ACPI_PM1A_EVT_PORT);
	assert_int_equal(f[172], 1);
	assert_int_equal(f[173], 16);
	assert_int_equal(rd64(f + 176), ACPI_PM1A_CNT_PORT);
	assert_int_equal(f[208], 1);
	assert_int_equal(f[209], 32);
	assert_int_equal(rd64(f + 212), ACPI_PM_TMR_PORT);
	/* Reset register: I/O 0xCF9, 8 bits, value 6, RESET_REG_SUP. */
	assert_true(flags & (1u << 10));
	assert_int_equal(f[116], 1);
	assert_int_equal(f[117], 8);
	assert_int_equal(rd64(f + 120), 0xCF9);
	assert_int_equal(f[128], 0x06);
	/* Not hardware-reduced: Linux must use PM1a_CNT for S5. */
	assert_false(flags & (1u << 20));
	assert_true(flags & (1u << 8)); /* 32-bit PM timer */
	/* IA-PC boot flags: no VGA, no CMOS RTC, no 8042. */
	assert_int_equal(rd16(f + 109), (1u << 2) | (1u << 5));
	tmem_free(m);
}

static void test_dsdt_s5_matches_decoder(void **state)
{
	struct guest_mem *m = tmem_new(16, 0);
	const uint8_t *fadt = fadt_of(m, 1);
	const uint8_t *d = table(m, rd64(fadt + 140), "DSDT");
	const uint8_t want[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				 0x0A, ACPI_S5_SLP_TYP, 0x0A, ACPI_S5_SLP_TYP, 0x00, 0x00 };
	uint16_t s5 = (uint16_t)(ACPI_S5_SLP_TYP << 10 | 1u << 13);

	assert_int_equal(rd32(d + 4), 36 + sizeof(want));
	assert_memory_equal(d + 36, want, sizeof(want));
	/* What ACPICA's acpi_hw_legacy_sleep writes: first SLP_TYP alone, then
	 * SLP_TYP | SLP_EN (with SCI_EN preserved). */
	assert_false(acpi_pm1_cnt_is_s5((uint16_t)(ACPI_S5_SLP_TYP << 10)));
	assert_true(acpi_pm1_cnt_is_s5(s5));
	assert_true(acpi_pm1_cnt_is_s5(s5 | ACPI_PM1_CNT_SCI_EN));
	assert_false(acpi_pm1_cnt_is_s5(1u << 13));                 /* S0 + SLP_EN */
	assert_false(acpi_pm1_cnt_is_s5((uint16_t)(3u << 10 | 1u << 13))); /* another type */
	assert_false(acpi_pm1_cnt_is_s5(ACPI_PM1_CNT_SCI_EN));
	tmem_free(m);
}

static void check_madt(unsigned nvcpus)
{
	struct guest_mem *m = tmem_new(16, 0);
	const uint8_t *rsdp = build(m, nvcpus);
	const uint8_t *xsdt = table(m, rd64(rsdp + 24), "XSDT");
	const uint8_t *madt = find(m, xsdt, "APIC");
	uint32_t len = rd32(madt + 4), off = 44;
	unsigned lapics = 0, ioapics = 0, isos = 0;

	assert_int_equal(rd32(madt + 36), 0xFEE00000);
	while (off < len) {
		const uint8_t *e = madt + off;

		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			/* UID == APIC id == vCPU index, enabled. */
			assert_int_equal(e[2], lapics);
			assert_int_equal(e[3], lapics);
			assert_int_equal(rd32(e + 4), 1);
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], nvcpus); /* id after the CPUs */
			assert_int_equal(rd32(e + 4), 0xFEC00000);
			assert_int_equal(rd32(e + 8), 0);
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);
			assert_int_equal(e[3], ACPI_SCI_IRQ);
			assert_int_equal(rd32(e + 4), ACPI_SCI_IRQ);
			assert_int_equal(rd16(e + 8), 0x000D); /* level, active high */
			isos++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
		off += e[1];
	}
	assert_int_equal(off, len);
	assert_int_equal(lapics, nvcpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
	tmem_free(m);
}

static void test_madt_one_lapic_per_vcpu(void **state)
{
	check_madt(1);
	check_madt(2);
	check_madt(8);
	check_madt(ACPI_MAX_VCPUS);
}

static void test_bad_vcpu_counts_and_small_ram(void **state)
{
	struct guest_mem *m = tmem_new(16, 0);
	uint64_t gpa = 0;
	char err[256] = "";

	assert_int_equal(acpi_build(m, 0, &gpa, err, sizeof(err)), -EINVAL);
	assert_int_equal(acpi_build(m, ACPI_MAX_VCPUS + 1, &gpa, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "ACPI: 129 vCPUs; domus supports 1 to 128");
	m->low_size = m->ram_size = 0xE0000 + 0x1000; /* the area is not all RAM */
	assert_int_equal(acpi_build(m, 1, &gpa, err, sizeof(err)), -EFAULT);
	m->low_size = m->ram_size = 16 << 20;
	tmem_free(m);
}

static void test_pm_timer(void **state)
{
	assert_int_equal(acpi_pm_tmr_value(0), 0);
	assert_int_equal(acpi_pm_tmr_value(1000000000ull), ACPI_PM_TMR_HZ);
	assert_int_equal(acpi_pm_tmr_value(1000), 3); /* 3.58 ticks per us */
	/* Days of uptime: no 64-bit overflow in the multiplication, just the
	 * 32-bit wrap of the counter. */
	assert_int_equal(acpi_pm_tmr_value(86400ull * 1000000000ull * 10),
			 (uint32_t)(86400ull * 10 * ACPI_PM_TMR_HZ));
}

static uint32_t pm_in(struct acpi_pm *pm, uint16_t port, unsigned size, uint64_t ns)
{
	uint32_t v = 0xdeadbeef;

	assert_true(acpi_pm_io(pm, port, size, 0, &v, ns) >= 0);
	return v;
}

static int pm_out(struct acpi_pm *pm, uint16_t port, unsigned size, uint32_t v)
{
	return acpi_pm_io(pm, port, size, 1, &v, 0);
}

/* The writes ACPICA's acpi_hw_legacy_sleep(S5) makes: read PM1_CNT, write
 * SLP_TYP, then SLP_TYP | SLP_EN; only the last is the power-off. */
static void test_pm_poweroff_sequence(void **state)
{
	struct acpi_pm pm = { 0 };
	uint16_t cnt = (uint16_t)pm_in(&pm, ACPI_PM1A_CNT_PORT, 2, 0);

	assert_int_equal(cnt, ACPI_PM1_CNT_SCI_EN); /* always in ACPI mode */
	cnt |= ACPI_S5_SLP_TYP << ACPI_PM1_CNT_SLP_TYP_SHIFT;
	assert_int_equal(pm_out(&pm, ACPI_PM1A_CNT_PORT, 2, cnt), ACPI_PM_NONE);
	assert_int_equal(pm_out(&pm, ACPI_PM1A_CNT_PORT, 2, cnt | ACPI_PM1_CNT_SLP_EN),
			 ACPI_PM_POWEROFF);
	/* SLP_EN is write-only. */
	assert_int_equal(pm_in(&pm, ACPI_PM1A_CNT_PORT, 2, 0), cnt);
	/* The same as two byte writes: the high byte completes it. */
	pm = (struct acpi_pm){ 0 };
	cnt |= ACPI_PM1_CNT_SLP_EN;
	assert_int_equal(pm_out(&pm, ACPI_PM1A_CNT_PORT, 1, cnt & 0xff), ACPI_PM_NONE);
	assert_int_equal(pm_out(&pm, ACPI_PM1A_CNT_PORT + 1, 1, cnt >> 8), ACPI_PM_POWEROFF);
	/* Another sleep type with SLP_EN is not a power-off. */
	assert_int_equal(pm_out(&pm, ACPI_PM1A_CNT_PORT, 2, 1u << 10 | ACPI_PM1_CNT_SLP_EN),
			 ACPI_PM_NONE);
}

static void test_pm_status_enable_and_sci(void **state)
{
	struct acpi_pm pm = { 0 };

	/* PM1_EN is read/write: ACPICA checks that GBL_EN sticks. */
	assert_int_equal(pm_out(&pm, ACPI_PM1A_EVT_PORT + 2, 2, ACPI_PM1_GBL), ACPI_PM_NONE);
	assert_int_equal(pm_in(&pm, ACPI_PM1A_EVT_PORT + 2, 2, 0), ACPI_PM1_GBL);
	/* A 4-byte access covers STS (low half) and EN (high half). */
	assert_int_equal(pm_in(&pm, ACPI_PM1A_EVT_PORT, 4, 0), (uint32_t)ACPI_PM1_GBL << 16);
	/* The power button: status set, SCI only once enabled, write 1 clears. */
	assert_int_equal(acpi_pm_power_button(&pm), 0);
	assert_int_equal(pm_in(&pm, ACPI_PM1A_EVT_PORT, 2, 0), ACPI_PM1_PWRBTN);
	assert_int_equal(pm_out(&pm, ACPI_PM1A_EVT_PORT + 2, 2, ACPI_PM1_GBL | ACPI_PM1_PWRBTN), 0);
	assert_true(acpi_pm_sci(&pm));
	assert_int_equal(pm_out(&pm, ACPI_PM1A_EVT_PORT, 2, ACPI_PM1_GBL), 0); /* other bit: no-op */
	assert_true(acpi_pm_sci(&pm));
	assert_int_equal(pm_out(&pm, ACPI_PM1A_EVT_PORT, 2, ACPI_PM1_PWRBTN), 0);
	assert_false(acpi_pm_sci(&pm));
	assert_int_equal(pm_in(&pm, ACPI_PM1A_EVT_PORT, 2, 0), 0);
}

static void test_pm_timer_port(void **state)
{
	struct acpi_pm pm = { 0 };
	uint64_t ns = 2000000000ull; /* 2 s: 7159090 = 0x6D3D32 */

	assert_int_equal(pm_in(&pm, ACPI_PM_TMR_PORT, 4, ns), 7159090);
	assert_int_equal(pm_in(&pm, ACPI_PM_TMR_PORT + 2, 2, ns), 0x6D);
	assert_int_equal(pm_in(&pm, ACPI_PM_TMR_PORT, 1, ns), 0x32);
	assert_int_equal(pm_out(&pm, ACPI_PM_TMR_PORT, 4, 0), ACPI_PM_NONE); /* read-only */
	assert_int_equal(pm_in(&pm, ACPI_PM_TMR_PORT, 4, ns), 7159090);
}

static void test_pm_reset_paths(void **state)
{
	struct acpi_pm pm = { 0 };

	/* Linux's reboot=pci writes 0x02 then 0x06; the FADT register 0x06. */
	assert_int_equal(pm_out(&pm, ACPI_RESET_PORT, 1, 0x02), ACPI_PM_NONE);
	assert_int_equal(pm_in(&pm, ACPI_RESET_PORT, 1, 0), 0x02);
	assert_int_equal(pm_out(&pm, ACPI_RESET_PORT, 1, ACPI_RESET_VALUE), ACPI_PM_RESET);
	/* Keyboard controller: status reads 0 (kb_wait does not spin), 0xFE resets. */
	assert_int_equal(pm_in(&pm, ACPI_KBD_CMD_PORT, 1, 0), 0);
	assert_int_equal(pm_out(&pm, ACPI_KBD_CMD_PORT, 1, 0xAD), ACPI_PM_NONE);
	assert_int_equal(pm_out(&pm, ACPI_KBD_CMD_PORT, 1, ACPI_KBD_PULSE_RESET), ACPI_PM_RESET);
}

static void test_pm_foreign_ports_and_sizes(void **state)
{
	struct acpi_pm pm = { 0 };
	uint32_t v = 0;

	assert_int_equal(acpi_pm_io(&pm, 0x70, 1, 0, &v, 0), -ENOENT);
	assert_int_equal(acpi_pm_io(&pm, 0x3f8, 1, 1, &v, 0), -ENOENT);
	assert_int_equal(acpi_pm_io(&pm, ACPI_PM1A_CNT_PORT, 3, 0, &v, 0), -EINVAL);
	/* Straddling the end of PM1_CNT into the timer: ours, foreign bytes 0xff. */
	assert_int_equal(acpi_pm_io(&pm, ACPI_PM1A_CNT_PORT + 2, 4, 0, &v, 1000000000ull), 0);
	assert_int_equal(v, 0xffffu | (ACPI_PM_TMR_HZ & 0xffff) << 16);
}

/* One ACPI_PM payload through acpi_pm_load(): -EBADMSG or 0. */
static int pm_load_bytes(struct acpi_pm *pm, const uint8_t *p, size_t len, uint64_t now_ns, const char **why)
{
	struct stream_record rec = { .type = STREAM_REC_ACPI_PM, .len = (uint32_t)len, .data = p };
	struct stream_cursor c;

	stream_cursor_init(&c, &rec);
	return acpi_pm_load(pm, &c, now_ns, why);
}

/* Registers and the timer survive a save and a load at another clock; the
 * payload saved again is the same bytes. */
static void test_pm_save_load_round_trip(void **state)
{
	struct acpi_pm pm = { 0 }, back = { 0 };
	struct stream_writer w, w2;
	const char *why = NULL;
	uint64_t saved_at = 5000000000ull, loaded_at = 123000000000ull;

	assert_int_equal(pm_out(&pm, ACPI_PM1A_EVT_PORT + 2, 2, ACPI_PM1_GBL | ACPI_PM1_PWRBTN), 0);
	acpi_pm_power_button(&pm);
	assert_int_equal(pm_out(&pm, ACPI_PM1A_CNT_PORT, 2, 1u << 10), ACPI_PM_NONE);
	assert_int_equal(pm_out(&pm, ACPI_RESET_PORT, 1, 0x02), ACPI_PM_NONE);
	stream_writer_init_mem(&w);
	assert_int_equal(acpi_pm_save(&pm, saved_at, &w), 0);
	assert_int_equal(w.len, stream_rec_max_len(STREAM_REC_ACPI_PM));
	assert_int_equal(pm_load_bytes(&back, w.buf, w.len, loaded_at, &why), 0);
	assert_int_equal(back.sts, pm.sts);
	assert_int_equal(back.en, pm.en);
	assert_int_equal(back.cnt, pm.cnt);
	assert_int_equal(back.reset, pm.reset);
	assert_true(acpi_pm_sci(&back));
	/* The timer reads at load time what it read at save time, and counts on. */
	assert_int_equal(pm_in(&back, ACPI_PM_TMR_PORT, 4, loaded_at), pm_in(&pm, ACPI_PM_TMR_PORT, 4, saved_at));
	assert_int_equal(pm_in(&back, ACPI_PM_TMR_PORT, 4, loaded_at + 1000000000ull),
			 pm_in(&pm, ACPI_PM_TMR_PORT, 4, saved_at + 1000000000ull));
	stream_writer_init_mem(&w2);
	assert_int_equal(acpi_pm_save(&back, loaded_at, &w2), 0);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.buf, w.buf, w.len);
	stream_writer_fini(&w);
	stream_writer_fini(&w2);
}

/* Every truncation, a longer payload and each value no register can hold
 * are refused, and the model is left as it was. */
static void test_pm_load_refuses(void **state)
{
	struct acpi_pm pm = { 0 }, keep = { .sts = 1, .en = 2, .cnt = 3, .reset = 4, .tmr_offset_ns = 5 };
	struct stream_writer w;
	const char *why = NULL;
	uint8_t buf[32];

	stream_writer_init_mem(&w);
	assert_int_equal(acpi_pm_save(&pm, 0, &w), 0);
	memcpy(buf, w.buf, w.len);
	for (size_t len = 0; len < w.len; len++) {
		pm = keep;
		assert_int_equal(pm_load_bytes(&pm, buf, len, 0, &why), -EBADMSG);
		assert_string_equal(why, "length is not 16 bytes");
		assert_memory_equal(&pm, &keep, sizeof(pm));
	}
	pm = keep;
	assert_int_equal(pm_load_bytes(&pm, buf, w.len + 1, 0, &why), -EBADMSG);
	buf[7] = 1; /* reserved */
	assert_int_equal(pm_load_bytes(&pm, buf, w.len, 0, &why), -EBADMSG);
	assert_string_equal(why, "reserved byte is not 0");
	buf[7] = 0;
	buf[5] = ACPI_PM1_CNT_SLP_EN >> 8; /* PM1_CNT high byte */
	assert_int_equal(pm_load_bytes(&pm, buf, w.len, 0, &why), -EBADMSG);
	assert_string_equal(why, "PM1_CNT has SLP_EN set, which no write leaves there");
	buf[5] = 0;
	buf[6] = 0x10; /* 0xCF9 */
	assert_int_equal(pm_load_bytes(&pm, buf, w.len, 0, &why), -EBADMSG);
	assert_string_equal(why, "0xCF9 has bits above bit 3, which no write leaves there");
	assert_memory_equal(&pm, &keep, sizeof(pm));
	stream_writer_fini(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksums_and_table_list),
		cmocka_unit_test(test_fadt_poweroff_and_reset),
		cmocka_unit_test(test_dsdt_s5_matches_decoder),
		cmocka_unit_test(test_madt_one_lapic_per_vcpu),
		cmocka_unit_test(test_bad_vcpu_counts_and_small_ram),
		cmocka_unit_test(test_pm_timer),
		cmocka_unit_test(test_pm_poweroff_sequence),
		cmocka_unit_test(test_pm_status_enable_and_sci),
		cmocka_unit_test(test_pm_timer_port),
		cmocka_unit_test(test_pm_reset_paths),
		cmocka_unit_test(test_pm_foreign_ports_and_sizes),
		cmocka_unit_test(test_pm_save_load_round_trip),
		cmocka_unit_test(test_pm_load_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
