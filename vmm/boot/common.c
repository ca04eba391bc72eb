/* See common.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acpi.h"
#include "common.h"
#include "file.h"

#define ONE_MIB 0x100000ULL

/* Guest areas the monitor writes after the kernel is loaded (layout.h). */
static const struct {
	uint64_t base, size;
	const char *what;
} boot_areas[] = {
	{ LAYOUT_BOOT_INFO, LAYOUT_CMDLINE + LAYOUT_CMDLINE_MAX - LAYOUT_BOOT_INFO,
	  "the start info and command line" },
	{ LAYOUT_ACPI, LAYOUT_ACPI_SIZE, "the ACPI tables" },
};

const char *boot_area_overlap(uint64_t base, uint64_t size, uint64_t *at)
{
	for (size_t i = 0; i < sizeof(boot_areas) / sizeof(boot_areas[0]); i++)
		if (base < boot_areas[i].base + boot_areas[i].size &&
		    boot_areas[i].base < base + size) {
			*at = boot_areas[i].base;
			return boot_areas[i].what;
		}
	return NULL;
}

int boot_cmdline_write(struct guest_mem *m, const char *cmdline, char *err, size_t errlen)
{
	char *cmd = gmem_ptr(m, LAYOUT_CMDLINE, LAYOUT_CMDLINE_MAX);
	size_t len;

	if (!cmdline)
		cmdline = "";
	len = strlen(cmdline) + 1;
	if (!cmd) {
		snprintf(err, errlen, "guest RAM (%llu KiB) does not cover the command line at 0x%llx",
			 (unsigned long long)(m->low_size >> 10), (unsigned long long)LAYOUT_CMDLINE);
		return -EFAULT;
	}
	if (len > LAYOUT_CMDLINE_MAX) {
		snprintf(err, errlen, "kernel command line is %zu bytes; the limit is %llu", len - 1,
			 LAYOUT_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	memset(cmd, 0, LAYOUT_CMDLINE_MAX);
	memcpy(cmd, cmdline, len);
	return 0;
}

int boot_initrd_load(struct guest_mem *m, const char *path, uint64_t floor, uint64_t top,
		     uint64_t *addr, uint64_t *size, char *err, size_t errlen)
{
	uint64_t n, at, kernel_end = floor;
	char why[256];
	void *dst;
	int fd, rc;

	floor = (floor + LAYOUT_PAGE - 1) & ~(LAYOUT_PAGE - 1);
	if (floor < ONE_MIB)
		floor = ONE_MIB;
	rc = boot_file_open(path, LAYOUT_INITRD_MAX, &fd, &n, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "ramdisk %s", why);
		return rc;
	}
	if (n == 0) {
		snprintf(err, errlen, "ramdisk %s: empty file", path);
		rc = -EINVAL;
		goto out;
	}
	if (n > top || ((top - n) & ~(LAYOUT_PAGE - 1)) < floor) {
		snprintf(err, errlen,
			 "ramdisk %s: %llu KiB do not fit in guest RAM between the kernel "
			 "(ends at 0x%llx) and 0x%llx; give the domain more memory",
			 path, (unsigned long long)(n >> 10), (unsigned long long)kernel_end,
			 (unsigned long long)top);
		rc = -ENOSPC;
		goto out;
	}
	at = (top - n) & ~(LAYOUT_PAGE - 1);
	dst = gmem_ptr(m, at, n);
	if (!dst) { /* only if top was above RAM: callers clamp it to low_size */
		rc = -EFAULT;
		snprintf(err, errlen, "ramdisk %s: 0x%llx is not in guest RAM", path,
			 (unsigned long long)at);
		goto out;
	}
	rc = boot_file_read(fd, dst, n);
	if (rc < 0) {
		snprintf(err, errlen, "ramdisk %s: read: %s", path, strerror(-rc));
		goto out;
	}
	*addr = at;
	*size = n;
out:
	close(fd);
	return rc;
}

int boot_prepare(struct guest_mem *m, const char *cmdline, unsigned nvcpus, void **page,
		 uint64_t *rsdp, char *err, size_t errlen)
{
	void *pg = gmem_ptr(m, LAYOUT_BOOT_INFO, LAYOUT_PAGE);
	int rc;

	if (!pg) {
		snprintf(err, errlen, "guest RAM (%llu KiB) does not cover the boot information at 0x%llx",
			 (unsigned long long)(m->low_size >> 10), (unsigned long long)LAYOUT_BOOT_INFO);
		return -EFAULT;
	}
	rc = boot_cmdline_write(m, cmdline, err, errlen);
	if (rc < 0)
		return rc;
	rc = acpi_build(m, nvcpus, rsdp, err, errlen);
	if (rc < 0)
		return rc;
	memset(pg, 0, LAYOUT_PAGE);
	*page = pg;
	return 0;
}
