/* vmm/boot PVH start info: hvm_start_info v1 fields, memory map, command
 * line and initrd placement, and their error messages. */
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

#include "boot/acpi.h"
#include "boot/pvh.h"
#include "boot_util.h"

static struct hvm_start_info read_si(const struct guest_mem *m, uint32_t gpa)
{
	struct hvm_start_info si;

	assert_int_equal(gmem_read(m, gpa, &si, sizeof(si)), 0);
	return si;
}

/* A temporary file of size bytes of a known pattern; path filled in. */
static void make_file(char *path, size_t size)
{
	int fd = mkstemp(path);
	uint8_t *b = malloc(size ? size : 1);

	assert_true(fd >= 0);
	for (size_t i = 0; i < size; i++)
		b[i] = tdata_byte(i);
	assert_int_equal(write(fd, b, size), (ssize_t)size);
	close(fd);
	free(b);
}

static void test_start_info_without_initrd(void **state)
{
	struct guest_mem *m = tmem_new(256, 0);
	struct pvh_params p = { .cmdline = "console=hvc0 root=/dev/xvda1", .nvcpus = 2,
				.kernel_end = 0x3e00000 };
	struct hvm_memmap_table_entry e[5];
	struct hvm_start_info si;
	uint32_t gpa = 0;
	char err[256] = "";

	assert_int_equal(pvh_setup(m, &p, &gpa, err, sizeof(err)), 0);
	assert_int_equal(gpa, LAYOUT_BOOT_INFO);
	si = read_si(m, gpa);
	assert_int_equal(si.magic, 0x336ec578);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.flags, 0); /* never SIF_INITDOMAIN */
	assert_int_equal(si.nr_modules, 0);
	assert_int_equal(si.modlist_paddr, 0);
	assert_int_equal(si.rsdp_paddr, LAYOUT_ACPI);
	assert_int_equal(si.cmdline_paddr, LAYOUT_CMDLINE);
	assert_string_equal((char *)gmem_ptr(m, si.cmdline_paddr, 1), "console=hvc0 root=/dev/xvda1");
	assert_int_equal(si.reserved, 0);
	/* Everything Linux reads through __va() at the PVH entry is below 1 GiB. */
	assert_true(si.memmap_paddr + 5 * sizeof(e[0]) < LAYOUT_INITRD_MAX);

	assert_int_equal(si.memmap_entries, 4);
	assert_int_equal(gmem_read(m, si.memmap_paddr, e, 4 * sizeof(e[0])), 0);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, 0xA0000);
	assert_int_equal(e[0].type, XEN_HVM_MEMMAP_TYPE_RAM);
	assert_int_equal(e[1].addr, LAYOUT_ACPI);
	assert_int_equal(e[1].size, LAYOUT_ACPI_SIZE);
	assert_int_equal(e[1].type, XEN_HVM_MEMMAP_TYPE_ACPI);
	assert_int_equal(e[2].addr, 0x100000);
	assert_int_equal(e[2].addr + e[2].size, 256ULL << 20);
	assert_int_equal(e[2].type, XEN_HVM_MEMMAP_TYPE_RAM);
	assert_int_equal(e[3].addr, 0xFEFF8000);
	assert_int_equal(e[3].size, 8 * 4096);
	assert_int_equal(e[3].type, XEN_HVM_MEMMAP_TYPE_RESERVED);
	for (int i = 0; i < 4; i++)
		assert_int_equal(e[i].reserved, 0);
	tmem_free(m);
}

static void test_memmap_with_high_ram(void **state)
{
	struct guest_mem *m = tmem_new(64, 32);
	struct hvm_memmap_table_entry e[PVH_MEMMAP_MAX];
	unsigned n = pvh_memmap(m, e, PVH_MEMMAP_MAX);

	assert_int_equal(n, 5);
	assert_int_equal(e[4].addr, LAYOUT_HIGH_BASE);
	assert_int_equal(e[4].size, 32ULL << 20);
	assert_int_equal(e[4].type, XEN_HVM_MEMMAP_TYPE_RAM);
	/* Sorted, non-overlapping, and the ACPI area is outside every RAM entry. */
	for (unsigned i = 1; i < n; i++)
		assert_true(e[i - 1].addr + e[i - 1].size <= e[i].addr);
	for (unsigned i = 0; i < n; i++)
		if (e[i].type == XEN_HVM_MEMMAP_TYPE_RAM)
			assert_true(e[i].addr + e[i].size <= LAYOUT_ACPI ||
				    e[i].addr >= LAYOUT_ACPI + LAYOUT_ACPI_SIZE);
	/* The caller's bound is honoured. */
	assert_int_equal(pvh_memmap(m, e, 2), 2);
	tmem_free(m);
}

static void test_initrd_at_top_of_low_ram(void **state)
{
	struct guest_mem *m = tmem_new(128, 0);
	char path[] = "/tmp/domus-test-initrd-XXXXXX";
	struct pvh_params p = { .nvcpus = 1, .kernel_end = 0x3e00000, .initrd_path = path };
	struct hvm_modlist_entry mod;
	struct hvm_start_info si;
	const size_t size = 1000000;
	uint32_t gpa;
	char err[256] = "";
	const uint8_t *g;

	make_file(path, size);
	assert_int_equal(pvh_setup(m, &p, &gpa, err, sizeof(err)), 0);
	si = read_si(m, gpa);
	assert_int_equal(si.nr_modules, 1);
	assert_int_equal(si.cmdline_paddr, LAYOUT_CMDLINE);
	assert_string_equal((char *)gmem_ptr(m, LAYOUT_CMDLINE, 1), ""); /* NULL cmdline */
	assert_int_equal(gmem_read(m, si.modlist_paddr, &mod, sizeof(mod)), 0);
	assert_int_equal(mod.size, size);
	assert_int_equal(mod.paddr % 4096, 0);
	assert_true(mod.paddr + mod.size <= 128ULL << 20);
	assert_true(mod.paddr + mod.size > (128ULL << 20) - 4096);
	assert_true(mod.paddr >= p.kernel_end);
	assert_int_equal(mod.cmdline_paddr, 0);
	assert_int_equal(mod.reserved, 0);
	g = gmem_ptr(m, mod.paddr, size);
	for (size_t i = 0; i < size; i++)
		if (g[i] != tdata_byte(i))
			fail_msg("initrd byte %zu differs", i);
	unlink(path);
	tmem_free(m);
}

static void test_initrd_errors(void **state)
{
	struct guest_mem *m = tmem_new(64, 0);
	char path[] = "/tmp/domus-test-initrd-XXXXXX";
	struct pvh_params p = { .nvcpus = 1, .kernel_end = 0x3e00000,
				.initrd_path = "/nonexistent/initrd.img" };
	uint32_t gpa;
	char err[256] = "";

	assert_int_equal(pvh_setup(m, &p, &gpa, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "ramdisk /nonexistent/initrd.img: No such file or directory");

	/* 64 MiB of RAM, a kernel up to 62 MiB: a 4 MiB initrd does not fit. */
	make_file(path, 4u << 20);
	p.initrd_path = path;
	assert_int_equal(pvh_setup(m, &p, &gpa, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, ": 4096 KiB do not fit in guest RAM"));
	assert_int_equal(strncmp(err, "ramdisk /tmp/", 13), 0);
	assert_null(strchr(err, '\n'));
	unlink(path);

	strcpy(path, "/tmp/domus-test-initrd-XXXXXX");
	make_file(path, 0);
	assert_int_equal(pvh_setup(m, &p, &gpa, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ": empty file"));
	unlink(path);
	tmem_free(m);
}

static void test_cmdline_limit(void **state)
{
	struct guest_mem *m = tmem_new(64, 0);
	struct pvh_params p = { .nvcpus = 1 };
	char *cmd = malloc(LAYOUT_CMDLINE_MAX + 1);
	uint32_t gpa;
	char err[256] = "";

	memset(cmd, 'x', LAYOUT_CMDLINE_MAX);
	cmd[LAYOUT_CMDLINE_MAX - 1] = '\0'; /* 2047 characters + NUL: fits */
	p.cmdline = cmd;
	assert_int_equal(pvh_setup(m, &p, &gpa, err, sizeof(err)), 0);
	assert_int_equal(strlen(gmem_ptr(m, LAYOUT_CMDLINE, 1)), LAYOUT_CMDLINE_MAX - 1);
	cmd[LAYOUT_CMDLINE_MAX - 1] = 'x';
	cmd[LAYOUT_CMDLINE_MAX] = '\0'; /* one more: too long */
	assert_int_equal(pvh_setup(m, &p, &gpa, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "kernel command line is 2048 bytes; the limit is 2047");
	free(cmd);
	tmem_free(m);
}

static void test_bad_vcpus_and_tiny_ram(void **state)
{
	struct guest_mem *m = tmem_new(64, 0);
	struct pvh_params p = { .nvcpus = 0 };
	uint32_t gpa;
	char err[256] = "";

	assert_int_equal(pvh_setup(m, &p, &gpa, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "0 vCPUs"));
	tmem_free(m);

	/* RAM too small for the boot info page: refused, nothing written. */
	m = tmem_new(1, 0);
	m->low_size = m->ram_size = 0x6000;
	p.nvcpus = 1;
	assert_int_equal(pvh_setup(m, &p, &gpa, err, sizeof(err)), -EFAULT);
	assert_non_null(strstr(err, "does not cover the boot information"));
	m->low_size = m->ram_size = 1 << 20;
	tmem_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_info_without_initrd),
		cmocka_unit_test(test_memmap_with_high_ram),
		cmocka_unit_test(test_initrd_at_top_of_low_ram),
		cmocka_unit_test(test_initrd_errors),
		cmocka_unit_test(test_cmdline_limit),
		cmocka_unit_test(test_bad_vcpus_and_tiny_ram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
