/* vmm/guest_mem.h: every guest address and frame number a hypercall names is
 * checked against RAM before the monitor touches it, wrap-arounds included. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest_mem.h"

/* 64 MiB of low RAM and 1 GiB above 4 GiB; no host memory is needed. */
static const struct guest_mem mem = {
	.ram_size = (64ULL << 20) + (1ULL << 30),
	.low_size = 64ULL << 20,
	.high_size = 1ULL << 30,
};

static void test_offsets(void **state)
{
	(void)state;
	assert_int_equal(gmem_offset(&mem, 0, 4096), 0);
	assert_int_equal(gmem_offset(&mem, (64ULL << 20) - 4096, 4096), (64LL << 20) - 4096);
	assert_int_equal(gmem_offset(&mem, (64ULL << 20) - 4096, 4097), -EFAULT);
	assert_int_equal(gmem_offset(&mem, LAYOUT_HIGH_BASE, 4096), 64LL << 20);
	assert_int_equal(gmem_offset(&mem, LAYOUT_HIGH_BASE + (1ULL << 30), 1), -EFAULT);
	assert_int_equal(gmem_offset(&mem, UINT64_MAX - 10, 4096), -EFAULT);
}

/* A frame number whose address does not fit 64 bits must not wrap onto
 * frame 0 (XENMEM_populate_physmap, add_to_physmap, register_vcpu_info). */
static void test_pfn(void **state)
{
	uint64_t gpa = 1;

	(void)state;
	assert_int_equal(gmem_pfn_gpa(0, &gpa), 0);
	assert_int_equal(gpa, 0);
	assert_int_equal(gmem_pfn_gpa(0xFEFFF, &gpa), 0);
	assert_int_equal(gpa, 0xFEFFF000ULL);
	assert_int_equal(gmem_pfn_gpa(UINT64_MAX >> 12, &gpa), 0);
	assert_int_equal(gmem_pfn_gpa(1ULL << 52, &gpa), -EFAULT);
	assert_int_equal(gmem_pfn_gpa(UINT64_MAX, &gpa), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_pfn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
