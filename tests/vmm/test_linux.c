/* vmm/boot Linux 32-bit boot protocol: the zero page a bzImage gets, where
 * the kernel and initrd go, and the errors for images it cannot boot. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <asm/bootparam.h>

#include "boot/linux.h"
#include "boot_util.h"

#define PM_OFF 1024 /* tbz_new: 1 setup sector + the boot sector */
#define PAYLOAD 20000

/* A synthetic bzImage as Linux 6.1 builds it: protocol 2.15, relocatable,
 * preferred at 16 MiB with 2 MiB alignment, init_size larger than the file. */
static uint8_t *make_kernel(size_t *len)
{
	uint8_t *payload = malloc(PAYLOAD), *bz;
	struct setup_header h;

	for (size_t i = 0; i < PAYLOAD; i++)
		payload[i] = tdata_byte(i);
	bz = tbz_new(payload, PAYLOAD, len);
	free(payload);
	memcpy(&h, bz + 0x1F1, sizeof(h));
	h.boot_flag = 0xAA55;
	h.loadflags = LOADED_HIGH;
	h.code32_start = 0x100000;
	h.initrd_addr_max = 0x7fffffff;
	h.kernel_alignment = 0x200000;
	h.relocatable_kernel = 1;
	h.pref_address = 0x1000000;
	h.init_size = 0x800000;
	memcpy(bz + 0x1F1, &h, sizeof(h));
	/* The jump's offset byte gives the header's end (boot.rst). */
	bz[0x201] = (uint8_t)(0x1F1 + sizeof(h) - 0x202);
	return bz;
}

static void set_hdr(uint8_t *bz, size_t off, const void *v, size_t n)
{
	memcpy(bz + 0x1F1 + off, v, n);
}

static void test_zero_page_and_placement(void **state)
{
	struct guest_mem *m = tmem_new(256, 0);
	char path[] = "/tmp/domus-test-initrd-XXXXXX";
	struct pvh_params p = { .cmdline = "console=hvc0", .nvcpus = 2, .initrd_path = path };
	struct linux_boot_info li;
	const struct boot_params *bp;
	char err[256] = "";
	size_t len;
	uint8_t *bz = make_kernel(&len);
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "initrd", 6), 6);
	close(fd);
	assert_int_equal(linux_boot_setup_buf("bz", bz, len, m, &p, &li, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(li.entry, 0x1000000);
	assert_int_equal(li.boot_params, LAYOUT_BOOT_INFO);
	assert_int_equal(li.load_low, 0x1000000);
	assert_int_equal(li.load_high, 0x1000000 + 0x800000);
	/* The protected-mode part is loaded as is at the entry. */
	assert_memory_equal(gmem_ptr(m, li.entry, len - PM_OFF), bz + PM_OFF, len - PM_OFF);

	bp = gmem_ptr(m, li.boot_params, sizeof(*bp));
	assert_memory_equal(&bp->hdr.header, "HdrS", 4);
	assert_int_equal(bp->hdr.boot_flag, 0xAA55);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.type_of_loader, 0xFF);
	assert_int_equal(bp->hdr.code32_start, 0x1000000);
	assert_int_equal(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	assert_string_equal((char *)gmem_ptr(m, bp->hdr.cmd_line_ptr, 1), "console=hvc0");
	assert_int_equal(bp->hdr.ramdisk_size, 6);
	assert_int_equal(bp->hdr.ramdisk_image % 4096, 0);
	assert_true(bp->hdr.ramdisk_image >= li.load_high);
	assert_memory_equal(gmem_ptr(m, bp->hdr.ramdisk_image, 6), "initrd", 6);
	assert_int_equal(bp->acpi_rsdp_addr, LAYOUT_ACPI);
	assert_int_equal(bp->e820_entries, 4);
	assert_int_equal(bp->e820_table[0].addr, 0);
	assert_int_equal(bp->e820_table[0].size, 0xA0000);
	assert_int_equal(bp->e820_table[0].type, 1);
	assert_int_equal(bp->e820_table[1].type, 3); /* ACPI */
	assert_int_equal(bp->e820_table[2].addr + bp->e820_table[2].size, 256ULL << 20);
	assert_int_equal(bp->e820_table[3].type, 2); /* special pages */
	/* The ACPI tables are there as for PVH. */
	assert_memory_equal(gmem_ptr(m, LAYOUT_ACPI, 8), "RSD PTR ", 8);
	unlink(path);
	free(bz);
	tmem_free(m);
}

static void test_initrd_below_initrd_addr_max(void **state)
{
	struct guest_mem *m = tmem_new(256, 0);
	char path[] = "/tmp/domus-test-initrd-XXXXXX";
	struct pvh_params p = { .nvcpus = 1, .initrd_path = path };
	struct linux_boot_info li;
	const struct boot_params *bp;
	char err[256] = "";
	size_t len;
	uint8_t *bz = make_kernel(&len);
	uint32_t max = (64u << 20) - 1; /* well below the top of RAM */
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	set_hdr(bz, offsetof(struct setup_header, initrd_addr_max), &max, 4);
	assert_int_equal(linux_boot_setup_buf("bz", bz, len, m, &p, &li, err, sizeof(err)), 0);
	bp = gmem_ptr(m, li.boot_params, sizeof(*bp));
	assert_true(bp->hdr.ramdisk_image + bp->hdr.ramdisk_size <= 64u << 20);
	assert_true(bp->hdr.ramdisk_image >= (64u << 20) - 4096);
	unlink(path);
	free(bz);
	tmem_free(m);
}

static void expect_error(const uint8_t *bz, size_t len, uint64_t ram_mib, int rc, const char *want)
{
	struct guest_mem *m = tmem_new(ram_mib, 0);
	struct pvh_params p = { .nvcpus = 1 };
	struct linux_boot_info li;
	char err[256] = "";

	assert_int_equal(linux_boot_setup_buf("vmlinuz", bz, len, m, &p, &li, err, sizeof(err)), rc);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	tmem_free(m);
}

static void test_errors(void **state)
{
	size_t len;
	uint8_t *bz = make_kernel(&len), *e = malloc(len);
	uint16_t v16;
	uint32_t v32;
	size_t elflen;
	uint8_t *elf = telf_new(64, &elflen);

	expect_error(elf, elflen, 64, -EINVAL, "vmlinuz: not a bzImage (no \"HdrS\" setup header)");
	free(elf);

	memcpy(e, bz, len);
	v16 = 0x0208;
	set_hdr(e, offsetof(struct setup_header, version), &v16, 2);
	expect_error(e, len, 64, -EINVAL, "Linux boot protocol 2.08 is too old (domus needs 2.10+)");

	memcpy(e, bz, len);
	e[0x1F1 + offsetof(struct setup_header, loadflags)] = 0;
	expect_error(e, len, 64, -EINVAL, "a zImage loads below 1 MiB");

	memcpy(e, bz, len);
	e[0x201] = 0xff; /* header past the end of a short file */
	expect_error(e, 0x280, 64, -EINVAL, "setup header runs past the end of the file");

	memcpy(e, bz, len);
	v32 = 0x300000;
	set_hdr(e, offsetof(struct setup_header, kernel_alignment), &v32, 4);
	expect_error(e, len, 64, -EINVAL, "kernel_alignment 0x300000 is not a power of two");

	/* init_size beyond RAM, and a kernel linked over the ACPI tables. */
	memcpy(e, bz, len);
	v32 = 0x7000000;
	set_hdr(e, offsetof(struct setup_header, init_size), &v32, 4);
	expect_error(e, len, 64, -EFAULT, "does not fit in guest RAM (64 MiB below 4 GiB)");
	memcpy(e, bz, len);
	e[0x1F1 + offsetof(struct setup_header, relocatable_kernel)] = 0;
	v32 = 0xD0000;
	set_hdr(e, offsetof(struct setup_header, code32_start), &v32, 4);
	expect_error(e, len, 64, -EFAULT, "overlaps the ACPI tables at 0xe0000");

	/* Nothing after the setup sectors. */
	expect_error(bz, PM_OFF, 64, -EINVAL, "no protected-mode kernel after 1 setup sectors");
	free(e);
	free(bz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_page_and_placement),
		cmocka_unit_test(test_initrd_below_initrd_addr_max),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
