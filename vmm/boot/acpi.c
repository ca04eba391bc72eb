/* ACPI table builder (see acpi.h).
 *
 * Layouts: ACPI 6.4 §5.2.5.3 (RSDP), §5.2.6 (table header), §5.2.7 (RSDT),
 * §5.2.8 (XSDT), §5.2.9 (FADT), §5.2.10 (FACS), §5.2.12 (MADT), §5.2.3.2
 * (generic address structure); Linux include/acpi/actbl*.h agree byte for
 * byte.  Field values follow Xen's tools/libacpi/static_tables.c (PM block
 * widths, C1, 32-bit PM timer, reset register 0xCF9 = 6) and QEMU
 * hw/i386/acpi-common.c (SCI override level/high); the FADT is revision 6
 * with its full 276-byte length, which is what Linux 6.1's ACPICA expects
 * (drivers/acpi/acpica/tbfadt.c: ACPI_FADT_V6_SIZE, anything shorter is
 * padded, longer is truncated with a warning). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "acpi.h"

#define ACPI_OEM_ID "DOMUS "
#define ACPI_OEM_TABLE "DOMUSPVH"
#define ACPI_CREATOR "DOMU"

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI table header");

struct acpi_gas {
	uint8_t space_id; /* 1 = system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size; /* 0 = undefined (legacy) */
	uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "generic address structure");

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* over the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision; /* 2 = ACPI 2.0+ with XSDT */
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");

struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_waking_vector;
	uint8_t version;
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");

struct acpi_fadt {
	struct acpi_header header;
	uint32_t facs;
	uint32_t dsdt;
	uint8_t model;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_facs;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control;
	struct acpi_gas sleep_status;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT RESET_REG");
_Static_assert(offsetof(struct acpi_fadt, x_facs) == 132, "FADT X_FIRMWARE_CTRL");
_Static_assert(offsetof(struct acpi_fadt, sleep_control) == 244, "FADT SLEEP_CONTROL_REG");

/* FADT Flags (ACPI 6.4 §5.2.9, "Fixed ACPI Description Table Fixed Feature Flags"). */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5)   /* no fixed-hardware sleep button */
#define FADT_FIX_RTC (1u << 6)      /* no RTC wake status in PM1 */
#define FADT_TMR_VAL_EXT (1u << 8)  /* 32-bit PM timer */
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_USE_PLATFORM_CLOCK (1u << 15)
/* IA-PC boot architecture flags (§5.2.9.3).  No 8042 and no LEGACY_DEVICES:
 * the monitor emulates neither, and Linux then skips probing them. */
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

#define ACPI_GAS_SYSTEM_IO 1

struct acpi_madt {
	struct acpi_header header;
	uint32_t lapic_address;
	uint32_t flags; /* bit 0 PCAT_COMPAT: dual 8259s present */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");

struct madt_lapic {
	uint8_t type; /* 0 */
	uint8_t length;
	uint8_t acpi_uid;
	uint8_t apic_id;
	uint32_t flags; /* bit 0 enabled */
} __attribute__((packed));
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT processor local APIC");

struct madt_ioapic {
	uint8_t type; /* 1 */
	uint8_t length;
	uint8_t id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT I/O APIC");

struct madt_iso {
	uint8_t type; /* 2 */
	uint8_t length;
	uint8_t bus; /* 0 = ISA */
	uint8_t source;
	uint32_t gsi;
	uint16_t flags; /* MPS INTI flags */
} __attribute__((packed));
_Static_assert(sizeof(struct madt_iso) == 10, "MADT interrupt source override");

/* MPS INTI flags: polarity bits 1:0 (01 active high), trigger bits 3:2
 * (11 level).  The SCI is level-triggered, active high (as QEMU's PIIX4). */
#define MADT_INTI_SCI 0x000D

/* The DSDT's AML: just the \_S5 object, so that Linux knows the S5 sleep type
 * (ACPICA hwxface.c acpi_get_sleep_type_data) and installs acpi_power_off.
 * Encodings: ACPI 6.4 §20.2 (AML grammar).
 *   08                 NameOp
 *   5C 5F 53 35 5F     NameString: RootChar '\' + NameSeg "_S5_"
 *   12                 PackageOp
 *   08                 PkgLength: 8 bytes, this byte included
 *   04                 NumElements
 *   0A 05              BytePrefix ACPI_S5_SLP_TYP  (SLP_TYPa)
 *   0A 05              BytePrefix ACPI_S5_SLP_TYP  (SLP_TYPb)
 *   00 00              ZeroOp ZeroOp               (reserved)
 * i.e. Name (\_S5, Package (4) { 5, 5, 0, 0 }). */
static const uint8_t dsdt_aml[] = {
	0x08, 0x5C, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
	0x0A, ACPI_S5_SLP_TYP, 0x0A, ACPI_S5_SLP_TYP, 0x00, 0x00,
};

uint8_t acpi_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s += *b++;
	return s;
}

int acpi_pm1_cnt_is_s5(uint16_t value)
{
	return (value & ACPI_PM1_CNT_SLP_EN) &&
	       ((value & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT) == ACPI_S5_SLP_TYP;
}

uint32_t acpi_pm_tmr_value(uint64_t ns)
{
	/* Split so ns * HZ cannot overflow 64 bits. */
	return (uint32_t)((ns / 1000000000u) * ACPI_PM_TMR_HZ +
			  (ns % 1000000000u) * ACPI_PM_TMR_HZ / 1000000000u);
}

/* Bump allocator over the zeroed ACPI area. */
struct acpi_area {
	uint8_t *base; /* host view of LAYOUT_ACPI */
	size_t used;
};

static void *area_alloc(struct acpi_area *a, size_t len, size_t align, uint32_t *gpa)
{
	size_t off = (a->used + align - 1) & ~(align - 1);

	if (off > LAYOUT_ACPI_SIZE || len > LAYOUT_ACPI_SIZE - off)
		return NULL;
	a->used = off + len;
	*gpa = (uint32_t)(LAYOUT_ACPI + off);
	return a->base + off;
}

static void fill_header(struct acpi_header *h, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR, 4);
	h->creator_revision = 1;
}

static void checksum(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = (uint8_t)-acpi_sum(h, h->length);
}

static struct acpi_gas io_gas(uint16_t port, uint8_t bytes)
{
	return (struct acpi_gas){ .space_id = ACPI_GAS_SYSTEM_IO, .bit_width = (uint8_t)(bytes * 8),
				  .address = port };
}

static void fill_fadt(struct acpi_fadt *f, uint32_t facs, uint32_t dsdt)
{
	fill_header(&f->header, "FACP", sizeof(*f), 6);
	/* The FACS in FIRMWARE_CTRL only: with X_FIRMWARE_CTRL set as well,
	 * ACPICA installs it twice (tbfadt.c acpi_tb_parse_fadt; the guest logs
	 * two "ACPI: FACS" lines), and ACPI 6.4 §5.2.9 wants one of the two
	 * zero.  The DSDT goes in both, which ACPICA resolves to one table. */
	f->facs = facs;
	f->dsdt = dsdt;
	f->x_dsdt = dsdt;
	f->sci_int = ACPI_SCI_IRQ;
	f->smi_cmd = 0; /* no SMI command port: the system is always in ACPI mode */
	f->pm1a_evt_blk = ACPI_PM1A_EVT_PORT;
	f->pm1a_cnt_blk = ACPI_PM1A_CNT_PORT;
	f->pm_tmr_blk = ACPI_PM_TMR_PORT;
	f->pm1_evt_len = ACPI_PM1A_EVT_LEN;
	f->pm1_cnt_len = ACPI_PM1A_CNT_LEN;
	f->pm_tmr_len = ACPI_PM_TMR_LEN;
	/* The X_ blocks repeat the 32-bit ones with matching widths, or ACPICA
	 * warns "32/64X length mismatch" (tbfadt.c acpi_tb_convert_fadt). */
	f->x_pm1a_evt_blk = io_gas(ACPI_PM1A_EVT_PORT, ACPI_PM1A_EVT_LEN);
	f->x_pm1a_cnt_blk = io_gas(ACPI_PM1A_CNT_PORT, ACPI_PM1A_CNT_LEN);
	f->x_pm_tmr_blk = io_gas(ACPI_PM_TMR_PORT, ACPI_PM_TMR_LEN);
	/* C2/C3 latencies above 100/1000 us mean "not supported". */
	f->p_lvl2_lat = 0x0FFF;
	f->p_lvl3_lat = 0x0FFF;
	f->iapc_boot_arch = IAPC_VGA_NOT_PRESENT | IAPC_CMOS_RTC_NOT_PRESENT;
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC | FADT_TMR_VAL_EXT |
		   FADT_RESET_REG_SUP | FADT_USE_PLATFORM_CLOCK;
	/* Linux's acpi_reboot() writes reset_value with an 8-bit access. */
	f->reset_reg = io_gas(ACPI_RESET_PORT, 1);
	f->reset_value = ACPI_RESET_VALUE;
	f->minor_version = 0;
	checksum(&f->header);
}

static int build_madt(struct acpi_area *a, unsigned nvcpus, uint32_t *gpa)
{
	size_t len = sizeof(struct acpi_madt) + nvcpus * sizeof(struct madt_lapic) +
		     sizeof(struct madt_ioapic) + sizeof(struct madt_iso);
	uint8_t *p = area_alloc(a, len, 16, gpa);
	struct acpi_madt *madt = (struct acpi_madt *)p;
	struct madt_ioapic *io;
	struct madt_iso *iso;

	if (!p)
		return -ENOSPC;
	fill_header(&madt->header, "APIC", (uint32_t)len, 4);
	madt->lapic_address = ACPI_LAPIC_ADDR;
	madt->flags = 1; /* PCAT_COMPAT: KVM's in-kernel irqchip has the 8259s */
	p += sizeof(*madt);
	for (unsigned i = 0; i < nvcpus; i++, p += sizeof(struct madt_lapic)) {
		struct madt_lapic *l = (struct madt_lapic *)p;

		/* Xen vCPU id == ACPI UID == APIC id (xen-guest-abi.md §1, §10.1). */
		*l = (struct madt_lapic){ .type = 0, .length = sizeof(*l), .acpi_uid = (uint8_t)i,
					  .apic_id = (uint8_t)i, .flags = 1 };
	}
	io = (struct madt_ioapic *)p;
	*io = (struct madt_ioapic){ .type = 1, .length = sizeof(*io), .id = (uint8_t)nvcpus,
				    .address = ACPI_IOAPIC_ADDR, .gsi_base = 0 };
	p += sizeof(*io);
	iso = (struct madt_iso *)p;
	*iso = (struct madt_iso){ .type = 2, .length = sizeof(*iso), .bus = 0,
				  .source = ACPI_SCI_IRQ, .gsi = ACPI_SCI_IRQ, .flags = MADT_INTI_SCI };
	checksum(&madt->header);
	return 0;
}

int acpi_build(struct guest_mem *m, unsigned nvcpus, uint64_t *rsdp_gpa,
	       char *err, size_t errlen)
{
	struct acpi_area a = { .base = gmem_ptr(m, LAYOUT_ACPI, LAYOUT_ACPI_SIZE) };
	uint32_t rsdp_at, facs_at, dsdt_at, fadt_at, madt_at, rsdt_at, xsdt_at;
	struct acpi_rsdp *rsdp;
	struct acpi_facs *facs;
	struct acpi_header *dsdt, *rsdt, *xsdt;
	struct acpi_fadt *fadt;
	uint32_t tables[2];
	const size_t ntables = sizeof(tables) / sizeof(tables[0]);

	if (nvcpus == 0 || nvcpus > ACPI_MAX_VCPUS) {
		snprintf(err, errlen, "ACPI: %u vCPUs; domus supports 1 to %u", nvcpus, ACPI_MAX_VCPUS);
		return -EINVAL;
	}
	if (!a.base) {
		snprintf(err, errlen, "ACPI: guest RAM does not cover the ACPI area at 0x%llx",
			 (unsigned long long)LAYOUT_ACPI);
		return -EFAULT;
	}
	memset(a.base, 0, LAYOUT_ACPI_SIZE);

	/* RSDP first: the legacy scan wants it 16-aligned in 0xE0000-0xFFFFF.
	 * The area is 64 KiB and the tables at most ~1.5 KiB, so the -ENOSPC
	 * paths below are unreachable. */
	rsdp = area_alloc(&a, sizeof(*rsdp), 16, &rsdp_at);
	facs = area_alloc(&a, sizeof(*facs), 64, &facs_at); /* FACS is 64-aligned */
	dsdt = area_alloc(&a, sizeof(*dsdt) + sizeof(dsdt_aml), 16, &dsdt_at);
	fadt = area_alloc(&a, sizeof(*fadt), 16, &fadt_at);
	if (build_madt(&a, nvcpus, &madt_at) < 0)
		return -ENOSPC; /* unreachable with ACPI_MAX_VCPUS */
	rsdt = area_alloc(&a, sizeof(*rsdt) + ntables * 4, 16, &rsdt_at);
	xsdt = area_alloc(&a, sizeof(*xsdt) + ntables * 8, 16, &xsdt_at);
	if (!rsdp || !facs || !dsdt || !fadt || !rsdt || !xsdt)
		return -ENOSPC;

	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;

	/* Revision 2: 64-bit AML integers. */
	fill_header(dsdt, "DSDT", sizeof(*dsdt) + sizeof(dsdt_aml), 2);
	memcpy(dsdt + 1, dsdt_aml, sizeof(dsdt_aml));
	checksum(dsdt);

	fill_fadt(fadt, facs_at, dsdt_at);

	tables[0] = fadt_at;
	tables[1] = madt_at;
	fill_header(rsdt, "RSDT", (uint32_t)(sizeof(*rsdt) + ntables * 4), 1);
	fill_header(xsdt, "XSDT", (uint32_t)(sizeof(*xsdt) + ntables * 8), 1);
	for (size_t i = 0; i < ntables; i++) {
		uint64_t x = tables[i];

		memcpy((uint8_t *)(rsdt + 1) + i * 4, &tables[i], 4);
		memcpy((uint8_t *)(xsdt + 1) + i * 8, &x, 8);
	}
	checksum(rsdt);
	checksum(xsdt);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->rsdt_address = rsdt_at;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = xsdt_at;
	rsdp->checksum = (uint8_t)-acpi_sum(rsdp, 20);
	rsdp->extended_checksum = (uint8_t)-acpi_sum(rsdp, sizeof(*rsdp));

	*rsdp_gpa = rsdp_at;
	return 0;
}
