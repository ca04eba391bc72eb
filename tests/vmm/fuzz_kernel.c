/* libFuzzer target for the kernel loader: every input is a kernel file
 * (bzImage with any payload, or ELF) loaded into a 64 MiB guest.  Built with
 * clang only (tests/vmm/meson.build); seeds in fuzz-seeds/. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "boot/kernel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One guest for the whole run: mapping 64 MiB per input would dominate. */
	static struct guest_mem m = { .memfd = -1, .ram_size = 64u << 20, .low_size = 64u << 20 };
	struct kernel_info ki;
	char err[256];

	if (!m.hva) {
		m.hva = mmap(NULL, m.ram_size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m.hva == MAP_FAILED)
			abort();
	}
	(void)kernel_load_buf("fuzz", data, size, &m, &ki, err, sizeof(err));
	return 0;
}
