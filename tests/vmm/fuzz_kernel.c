/* libFuzzer target for the kernel loaders: every input is a kernel file
 * (bzImage with any payload, or ELF) loaded into a 64 MiB guest, at its PVH
 * entry and through the Linux boot protocol.  Built with
 * clang only (tests/vmm/meson.build); seeds in fuzz-seeds/kernel/. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "boot/kernel.h"
#include "boot/linux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One guest for the whole run: mapping 64 MiB per input would dominate. */
	static struct guest_mem m = { .memfd = -1, .ram_size = 64u << 20, .low_size = 64u << 20 };
	const struct pvh_params p = { .cmdline = "console=hvc0", .nvcpus = 2 };
	struct linux_boot_info li;
	struct kernel_info ki;
	char err[256];

	if (!m.hva) {
		m.hva = mmap(NULL, m.ram_size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m.hva == MAP_FAILED)
			abort();
	}
	(void)kernel_load_buf("fuzz", data, size, &m, &ki, err, sizeof(err));
	(void)linux_boot_setup_buf("fuzz", data, size, &m, &p, &li, err, sizeof(err));
	return 0;
}
