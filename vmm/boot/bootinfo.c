/* domus-bootinfo: load a kernel (and initrd) into a scratch guest memory the
 * way domus-vmm would, and print the entry point, the loaded range and the
 * start info it would hand the guest.  A debugging aid for the monitor and
 * the tests; it needs no KVM. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "acpi.h"
#include <asm/bootparam.h>

#include "kernel.h"
#include "linux.h"
#include "pvh.h"

static const char *type_name(uint32_t t)
{
	switch (t) {
	case XEN_HVM_MEMMAP_TYPE_RAM:
		return "RAM";
	case XEN_HVM_MEMMAP_TYPE_RESERVED:
		return "reserved";
	case XEN_HVM_MEMMAP_TYPE_ACPI:
		return "ACPI";
	default:
		return "other";
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: domus-bootinfo [-L] [-m MIB] [-c CMDLINE] [-n VCPUS] [-a DIR] KERNEL [INITRD]\n"
		   "  -L      Linux 32-bit boot protocol (type=hvm) instead of the PVH entry\n"
		   "  -a DIR  also write each ACPI table to DIR/SIG.dat (for iasl -d, acpiexec)\n");
}

static int dump_one(const struct guest_mem *m, const char *dir, uint64_t gpa)
{
	const uint8_t *h = gmem_ptr(m, gpa, 36);
	uint32_t len;
	char path[4096];
	FILE *f;

	if (!h)
		return -EFAULT;
	memcpy(&len, h + 4, 4);
	if (!memcmp(h, "FACS", 4) || len < 36 || !gmem_ptr(m, gpa, len))
		len = 64; /* the FACS has no standard header */
	snprintf(path, sizeof(path), "%s/%.4s.dat", dir, (const char *)h);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fwrite(h, 1, len, f);
	return fclose(f) ? -errno : 0;
}

/* Writes every table reachable from the RSDP's XSDT, plus the FADT's DSDT
 * and FACS. */
static int dump_acpi(const struct guest_mem *m, uint64_t rsdp_gpa, const char *dir)
{
	const uint8_t *rsdp = gmem_ptr(m, rsdp_gpa, 36), *xsdt, *t;
	uint64_t xsdt_gpa, gpa;
	uint32_t len;
	int rc;

	if (!rsdp)
		return -EFAULT;
	memcpy(&xsdt_gpa, rsdp + 24, 8);
	xsdt = gmem_ptr(m, xsdt_gpa, 36);
	if (!xsdt)
		return -EFAULT;
	memcpy(&len, xsdt + 4, 4);
	rc = dump_one(m, dir, xsdt_gpa);
	for (uint32_t off = 36; rc == 0 && off + 8 <= len; off += 8) {
		memcpy(&gpa, xsdt + off, 8);
		rc = dump_one(m, dir, gpa);
		t = gmem_ptr(m, gpa, 148);
		if (rc == 0 && t && !memcmp(t, "FACP", 4)) {
			uint64_t x;

			memcpy(&x, t + 140, 8); /* X_DSDT */
			rc = dump_one(m, dir, x);
			x = 0;
			memcpy(&x, t + 36, 4); /* FIRMWARE_CTRL */
			if (rc == 0)
				rc = dump_one(m, dir, x);
		}
	}
	return rc;
}

static void print_e820(uint32_t i, uint64_t addr, uint64_t size, uint32_t type)
{
	printf("memmap %u: [0x%010llx, 0x%010llx) %s\n", i, (unsigned long long)addr,
	       (unsigned long long)(addr + size), type_name(type));
}

static int print_boot_params(const struct guest_mem *m, uint32_t gpa, uint64_t *rsdp)
{
	const struct boot_params *bp = gmem_ptr(m, gpa, sizeof(*bp));

	if (!bp)
		return -EFAULT;
	printf("boot_params 0x%x: protocol %u.%02u code32_start 0x%x cmdline 0x%x rsdp 0x%llx\n", gpa,
	       bp->hdr.version >> 8, bp->hdr.version & 0xff, bp->hdr.code32_start,
	       bp->hdr.cmd_line_ptr, (unsigned long long)bp->acpi_rsdp_addr);
	if (bp->hdr.ramdisk_size)
		printf("ramdisk: [0x%x, 0x%llx) %u bytes\n", bp->hdr.ramdisk_image,
		       (unsigned long long)bp->hdr.ramdisk_image + bp->hdr.ramdisk_size,
		       bp->hdr.ramdisk_size);
	for (uint32_t i = 0; i < bp->e820_entries && i < E820_MAX_ENTRIES_ZEROPAGE; i++)
		print_e820(i, bp->e820_table[i].addr, bp->e820_table[i].size, bp->e820_table[i].type);
	*rsdp = bp->acpi_rsdp_addr ? bp->acpi_rsdp_addr : LAYOUT_ACPI;
	return 0;
}

static int print_start_info(const struct guest_mem *m, uint32_t gpa, uint64_t *rsdp)
{
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_table_entry e;

	if (gmem_read(m, gpa, &si, sizeof(si)) < 0)
		return -EFAULT;
	printf("start_info 0x%x: magic 0x%x version %u flags 0x%x rsdp 0x%llx cmdline 0x%llx\n", gpa,
	       si.magic, si.version, si.flags, (unsigned long long)si.rsdp_paddr,
	       (unsigned long long)si.cmdline_paddr);
	for (uint32_t i = 0; i < si.nr_modules; i++) {
		if (gmem_read(m, si.modlist_paddr + i * sizeof(mod), &mod, sizeof(mod)) < 0)
			return -EFAULT;
		printf("module %u: [0x%llx, 0x%llx) %llu bytes\n", i, (unsigned long long)mod.paddr,
		       (unsigned long long)(mod.paddr + mod.size), (unsigned long long)mod.size);
	}
	for (uint32_t i = 0; i < si.memmap_entries; i++) {
		if (gmem_read(m, si.memmap_paddr + i * sizeof(e), &e, sizeof(e)) < 0)
			return -EFAULT;
		print_e820(i, e.addr, e.size, e.type);
	}
	*rsdp = si.rsdp_paddr;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long mib = 512;
	struct pvh_params p = { .nvcpus = 1, .cmdline = "console=hvc0" };
	struct guest_mem m = { .memfd = -1 };
	struct kernel_info ki;
	uint32_t si_gpa;
	char err[256] = "";
	const char *acpi_dir = NULL;
	int opt, rc, lbp = 0;
	uint64_t rsdp = 0;

	while ((opt = getopt(argc, argv, "Lm:c:n:a:h")) != -1) {
		switch (opt) {
		case 'L':
			lbp = 1;
			break;
		case 'a':
			acpi_dir = optarg;
			break;
		case 'm':
			mib = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			p.cmdline = optarg;
			break;
		case 'n':
			p.nvcpus = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || argc - optind > 2 || mib < 2 || mib > (LAYOUT_LOW_MAX >> 20)) {
		usage(stderr);
		return 2;
	}
	p.initrd_path = argc - optind == 2 ? argv[optind + 1] : NULL;

	/* Untouched pages of the scratch RAM cost nothing. */
	m.ram_size = m.low_size = mib << 20;
	m.hva = mmap(NULL, m.ram_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m.hva == MAP_FAILED) {
		fprintf(stderr, "domus-bootinfo: mmap %llu MiB: %s\n", mib, strerror(errno));
		return 1;
	}
	if (lbp) {
		struct linux_boot_info li;

		rc = linux_boot_setup(argv[optind], &m, &p, &li, err, sizeof(err));
		if (rc == 0) {
			printf("kernel %s (Linux boot protocol): entry 0x%x loaded [0x%llx, 0x%llx)\n",
			       argv[optind], li.entry, (unsigned long long)li.load_low,
			       (unsigned long long)li.load_high);
			rc = print_boot_params(&m, li.boot_params, &rsdp);
		}
	} else {
		rc = kernel_load(argv[optind], &m, &ki, err, sizeof(err));
		if (rc == 0) {
			printf("kernel %s (%s): entry 0x%x loaded [0x%llx, 0x%llx)\n", argv[optind],
			       ki.format, ki.entry, (unsigned long long)ki.load_low,
			       (unsigned long long)ki.load_high);
			p.kernel_end = ki.load_high;
			rc = pvh_setup(&m, &p, &si_gpa, err, sizeof(err));
		}
		if (rc == 0)
			rc = print_start_info(&m, si_gpa, &rsdp);
	}
	if (rc == 0 && acpi_dir) {
		rc = dump_acpi(&m, rsdp, acpi_dir);
		if (rc < 0)
			snprintf(err, sizeof(err), "ACPI tables to %s: %s", acpi_dir, strerror(-rc));
	}
	if (rc < 0) {
		if (rc == -EFAULT && !err[0])
			snprintf(err, sizeof(err), "start info outside guest RAM");
		fprintf(stderr, "domus-bootinfo: %s\n", err);
	}
	munmap(m.hva, m.ram_size);
	return rc < 0 ? 1 : 0;
}
