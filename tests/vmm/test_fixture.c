/* Integration: the lab fixture's Debian kernel (lab/fixture DIR writes
 * DIR/vmlinuz, DIR/initrd.img and DIR/kernel-version) loads at its PVH entry
 * with its initrd, and through the Linux boot protocol too.  Exits 77
 * (meson: skipped) when the fixture is absent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <asm/bootparam.h>

#include "boot/kernel.h"
#include "boot/linux.h"
#include "boot/pvh.h"

/* xen-guest-abi.md §11: measured in the lab for this build. */
#define KNOWN_VERSION "6.1.0-56-cloud-amd64"
#define KNOWN_ENTRY 0x1000850u

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); goto out; } while (0)

int main(int argc, char **argv)
{
	char kernel[4096], initrd[4096], verpath[4096], version[128] = "";
	struct guest_mem m = { .memfd = -1, .ram_size = 512u << 20, .low_size = 512u << 20 };
	struct kernel_info ki;
	struct pvh_params p = { .cmdline = "console=hvc0", .nvcpus = 2 };
	struct hvm_start_info si;
	uint32_t si_gpa;
	char err[256] = "";
	FILE *f;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
		return 2;
	}
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", argv[1]);
	snprintf(initrd, sizeof(initrd), "%s/initrd.img", argv[1]);
	snprintf(verpath, sizeof(verpath), "%s/kernel-version", argv[1]);
	if (access(kernel, R_OK) != 0) {
		printf("SKIP: no %s (build it with lab/fixture)\n", kernel);
		return 77;
	}
	f = fopen(verpath, "r");
	if (f) {
		if (fgets(version, sizeof(version), f))
			version[strcspn(version, "\n")] = '\0';
		fclose(f);
	}
	m.hva = mmap(NULL, m.ram_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m.hva == MAP_FAILED)
		FAIL("mmap: %s", strerror(errno));

	if (kernel_load(kernel, &m, &ki, err, sizeof(err)) < 0)
		FAIL("kernel_load: %s", err);
	printf("%s (%s, %s): entry 0x%x, loaded [0x%llx, 0x%llx)\n", kernel, version, ki.format,
	       ki.entry, (unsigned long long)ki.load_low, (unsigned long long)ki.load_high);
	if (ki.load_low != LAYOUT_KERNEL_MIN)
		FAIL("kernel loaded at 0x%llx, not at 16 MiB", (unsigned long long)ki.load_low);
	if (ki.entry < ki.load_low || ki.entry >= ki.load_high)
		FAIL("entry outside the loaded range");
	if (!strcmp(version, KNOWN_VERSION) && ki.entry != KNOWN_ENTRY)
		FAIL("entry 0x%x, the lab measured 0x%x for %s", ki.entry, KNOWN_ENTRY, version);

	p.kernel_end = ki.load_high;
	p.initrd_path = access(initrd, R_OK) == 0 ? initrd : NULL;
	if (pvh_setup(&m, &p, &si_gpa, err, sizeof(err)) < 0)
		FAIL("pvh_setup: %s", err);
	if (gmem_read(&m, si_gpa, &si, sizeof(si)) < 0 || si.magic != XEN_HVM_START_MAGIC_VALUE)
		FAIL("no start info at 0x%x", si_gpa);
	if (p.initrd_path && si.nr_modules != 1)
		FAIL("initrd not passed as module 0");
	printf("start info at 0x%x: %u module(s), %u memmap entries, RSDP 0x%llx\n", si_gpa,
	       si.nr_modules, si.memmap_entries, (unsigned long long)si.rsdp_paddr);

	/* type = "hvm": the same kernel through the 32-bit boot protocol. */
	{
		struct linux_boot_info li;
		const struct boot_params *bp;

		memset(m.hva, 0, 1u << 20);
		if (linux_boot_setup(kernel, &m, &p, &li, err, sizeof(err)) < 0)
			FAIL("linux_boot_setup: %s", err);
		bp = gmem_ptr(&m, li.boot_params, sizeof(*bp));
		if (!bp || memcmp(&bp->hdr.header, "HdrS", 4) || bp->hdr.ramdisk_size == 0)
			FAIL("no setup header in the zero page");
		if (li.entry != LAYOUT_KERNEL_MIN)
			FAIL("Linux boot protocol entry 0x%x, expected the 16 MiB pref_address", li.entry);
		printf("Linux boot protocol: entry 0x%x, boot_params 0x%x, reserved [0x%llx, 0x%llx)\n",
		       li.entry, li.boot_params, (unsigned long long)li.load_low,
		       (unsigned long long)li.load_high);
	}
	rc = 0;
out:
	if (m.hva && m.hva != MAP_FAILED)
		munmap(m.hva, m.ram_size);
	return rc;
}
