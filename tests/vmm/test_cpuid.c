/* The guest's CPUID table (vmm/cpuid_leaves.c cpuid_filter) from a KVM
 * table made up here: KVM's own leaves gone, Xen's at 0x40000000, this
 * vCPU's ids, and no nested virtualisation (VMX, SVM and SVM's leaf), as
 * Xen's xl.cfg(5) nestedhvm default. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <linux/kvm.h>

#include "cpuid_leaves.h"

#define MAX 64

struct tables {
	struct kvm_cpuid2 *host, *out;
};

static void add(struct kvm_cpuid2 *t, uint32_t fn, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	t->entries[t->nent++] = (struct kvm_cpuid_entry2){ .function = fn, .eax = a, .ebx = b, .ecx = c, .edx = d };
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid2 *t, uint32_t fn)
{
	for (uint32_t i = 0; i < t->nent; i++)
		if (t->entries[i].function == fn)
			return &t->entries[i];
	return NULL;
}

static int setup(void **state)
{
	struct tables *t = calloc(1, sizeof(*t));
	size_t sz = sizeof(struct kvm_cpuid2) + MAX * sizeof(struct kvm_cpuid_entry2);

	t->host = calloc(1, sz);
	t->out = calloc(1, sz);
	/* A nested=1 host: VMX in leaf 1, SVM in 0x80000001, SVM's leaf, and
	 * KVM's signature leaves. */
	add(t->host, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65);
	add(t->host, 1, 0x00a00f11, 0x00020800, 0x7ed8320b | (1u << 5), 0x178bfbff);
	add(t->host, 0xb, 0, 1, 0x100, 7);
	add(t->host, 0x40000000, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);
	add(t->host, 0x40000001, 0x1, 0, 0, 0);
	add(t->host, 0x80000001, 0x00a00f11, 0, 0x75c237fb | (1u << 2), 0x2fd3fbff);
	add(t->host, 0x8000000a, 1, 0x8000, 0, 0x1ebfbcff);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tables *t = *state;

	free(t->host);
	free(t->out);
	free(t);
	return 0;
}

static void no_nested_virtualisation(void **state)
{
	struct tables *t = *state;

	cpuid_filter(t->host, t->out, MAX, 4, 2);
	assert_non_null(leaf(t->out, 1));
	assert_int_equal(leaf(t->out, 1)->ecx & (1u << 5), 0);
	assert_int_equal(leaf(t->out, 0x80000001)->ecx & (1u << 2), 0);
	assert_null(leaf(t->out, 0x8000000a));
	/* The rest of those leaves as the host has them. */
	assert_int_equal(leaf(t->out, 1)->edx, 0x178bfbff);
	assert_int_equal(leaf(t->out, 0x80000001)->ecx, 0x75c237fb);
	assert_int_equal(leaf(t->out, 0x80000001)->edx, 0x2fd3fbff);
}

static void xen_leaves_and_ids(void **state)
{
	struct tables *t = *state;
	const struct kvm_cpuid_entry2 *e;

	cpuid_filter(t->host, t->out, MAX, 4, 2);
	e = leaf(t->out, 0x40000000);
	assert_non_null(e);
	assert_int_equal(e->ebx, 0x566e6558); /* "XenV", not KVM's "KVMK" */
	assert_int_equal(e->eax, 0x40000005);
	assert_int_equal(leaf(t->out, 0x40000004)->ebx, 2);
	e = leaf(t->out, 1);
	assert_int_equal(e->ecx >> 31, 1);
	assert_int_equal((e->ebx >> 16) & 0xff, 4);
	assert_int_equal(e->ebx >> 24, 2);
	assert_int_equal(leaf(t->out, 0xb)->edx, 2);
}

static void bounded_by_room(void **state)
{
	struct tables *t = *state;

	cpuid_filter(t->host, t->out, 8, 1, 0);
	assert_true(t->out->nent <= 8);
	assert_non_null(leaf(t->out, 0x40000005));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(no_nested_virtualisation, setup, teardown),
		cmocka_unit_test_setup_teardown(xen_leaves_and_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(bounded_by_room, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
