/* vmm/xenstate/gnttab_core.c: the Domain-0 half of grant table v1 (map,
 * unmap, copy) on a fake guest, with Xen's rules (xen/common/grant_table.c):
 * entries checked once, GTF_reading/GTF_writing set while held and cleared
 * with the last hold, a guest that rewrites a held entry changes nothing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xenstate/gnttab_core.h"

#define RAM_GFN 0x100 /* the fake guest's RAM: frames 0x100..0x10f */
#define RAM_PAGES 16
#define DOMU 0        /* grants name the mapper, Domain 0 */

struct fake {
	struct gnttab_core g;
	struct gnttab_mem m;
	uint8_t *frames; /* GNTTAB_MAX_FRAMES pages of entries */
	uint8_t *ram;
};

static void *fake_frame(void *ctx, uint64_t gfn)
{
	struct fake *f = ctx;

	if (gfn < RAM_GFN || gfn >= RAM_GFN + RAM_PAGES)
		return NULL;
	return f->ram + (gfn - RAM_GFN) * GNTTAB_PAGE;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->frames = calloc(GNTTAB_MAX_FRAMES, GNTTAB_PAGE);
	f->ram = calloc(RAM_PAGES, GNTTAB_PAGE);
	gnttab_core_init(&f->g, f->frames);
	f->m = (struct gnttab_mem){ fake_frame, f };
	for (int i = 0; i < RAM_PAGES; i++)
		memset(f->ram + i * GNTTAB_PAGE, 0xa0 + i, GNTTAB_PAGE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	gnttab_core_fini(&f->g);
	free(f->frames);
	free(f->ram);
	free(f);
	return 0;
}

static grant_entry_v1_t *ent(struct fake *f, uint32_t ref)
{
	return (grant_entry_v1_t *)f->frames + ref;
}

static void grant(struct fake *f, uint32_t ref, uint16_t flags, uint16_t domid, uint32_t frame)
{
	*ent(f, ref) = (grant_entry_v1_t){ .flags = flags, .domid = domid, .frame = frame };
}

/* Linux's gnttab_end_foreign_access_ref_v1: the guest takes an entry back
 * only while no one reads or writes it. */
static int guest_end_access(struct fake *f, uint32_t ref)
{
	uint16_t *pflags = &ent(f, ref)->flags;
	uint16_t flags = __atomic_load_n(pflags, __ATOMIC_SEQ_CST);

	do {
		if (flags & (GTF_reading | GTF_writing))
			return 0;
	} while (!__atomic_compare_exchange_n(pflags, &flags, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	return 1;
}

static void test_bad_refs(void **state)
{
	struct fake *f = *state;
	struct gnttab_mapping map;

	grant(f, 511, GTF_permit_access, DOMU, RAM_GFN);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 511, false, &map), 0);
	/* Before the guest places a frame the table is one frame long. */
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 512, false, &map), -EINVAL);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, UINT32_MAX, false, &map), -EINVAL);
	gnttab_core_set_place(&f->g, 1, 0x10000000);
	grant(f, 1023, GTF_permit_access, DOMU, RAM_GFN);
	assert_int_equal(gnttab_core_nr_entries(&f->g), 1024);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 1023, false, &map), 0);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 1024, false, &map), -EINVAL);
	assert_int_equal(gnttab_core_copy_from(&f->g, &f->m, DOMU, 1024, 0, &map, 1), -EINVAL);
}

static void test_wrong_domid_and_flags(void **state)
{
	struct fake *f = *state;
	struct gnttab_mapping map;

	grant(f, 2, GTF_permit_access, 3, RAM_GFN); /* granted to domain 3 */
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 2, false, &map), -EPERM);
	assert_int_equal(ent(f, 2)->flags, GTF_permit_access); /* untouched */
	grant(f, 3, 0, DOMU, RAM_GFN); /* not granted */
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 3, false, &map), -EPERM);
	grant(f, 4, GTF_accept_transfer, DOMU, RAM_GFN);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 4, false, &map), -EPERM);
	grant(f, 5, GTF_permit_access | GTF_sub_page, DOMU, RAM_GFN);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 5, false, &map), -EPERM);
	/* A held entry is held for its first mapper only, whatever the guest
	 * writes into it meanwhile. */
	grant(f, 6, GTF_permit_access, DOMU, RAM_GFN);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 6, false, &map), 0);
	ent(f, 6)->domid = 9;
	assert_int_equal(gnttab_core_map(&f->g, &f->m, 9, 6, false, &map), -EPERM);
}

static void test_readonly(void **state)
{
	struct fake *f = *state;
	struct gnttab_mapping ro, rw;
	uint8_t b = 1;

	grant(f, 7, GTF_permit_access | GTF_readonly, DOMU, RAM_GFN + 1);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 7, true, &rw), -EPERM);
	assert_int_equal(ent(f, 7)->flags, GTF_permit_access | GTF_readonly);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 7, false, &ro), 0);
	assert_ptr_equal(ro.addr, f->ram + GNTTAB_PAGE);
	assert_int_equal(ent(f, 7)->flags, GTF_permit_access | GTF_readonly | GTF_reading);
	/* Held read-only, still not writable. */
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 7, true, &rw), -EPERM);
	assert_int_equal(gnttab_core_copy_to(&f->g, &f->m, DOMU, 7, 0, &b, 1), -EPERM);
	assert_int_equal(ent(f, 7)->flags, GTF_permit_access | GTF_readonly | GTF_reading);
	assert_int_equal(gnttab_core_unmap(&f->g, &ro), 0);
	assert_int_equal(ent(f, 7)->flags, GTF_permit_access | GTF_readonly);
}

static void test_counts_clear_flags(void **state)
{
	struct fake *f = *state;
	struct gnttab_mapping r1, r2, w1;

	grant(f, 8, GTF_permit_access, DOMU, RAM_GFN + 2);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 8, false, &r1), 0);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 8, false, &r2), 0);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 8, true, &w1), 0);
	assert_ptr_equal(w1.addr, r1.addr);
	assert_int_equal(ent(f, 8)->flags, GTF_permit_access | GTF_reading | GTF_writing);
	assert_int_equal(f->g.holds, 3);
	assert_int_equal(gnttab_core_unmap(&f->g, &w1), 0);
	assert_int_equal(ent(f, 8)->flags, GTF_permit_access | GTF_reading); /* no writer left */
	assert_int_equal(gnttab_core_unmap(&f->g, &w1), -EINVAL);       /* a second unmap */
	assert_int_equal(gnttab_core_unmap(&f->g, &r1), 0);
	assert_int_equal(ent(f, 8)->flags, GTF_permit_access | GTF_reading); /* r2 still reads */
	assert_int_equal(guest_end_access(f, 8), 0);
	assert_int_equal(gnttab_core_unmap(&f->g, &r2), 0);
	assert_int_equal(ent(f, 8)->flags, GTF_permit_access); /* count 0: both bits gone */
	assert_int_equal(f->g.holds, 0);
	assert_int_equal(guest_end_access(f, 8), 1);
	assert_int_equal(gnttab_core_unmap(&f->g, &r2), -EINVAL);
	/* Re-use: the guest grants ref 8 to someone else; the old rules are gone. */
	grant(f, 8, GTF_permit_access, 4, RAM_GFN);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 8, false, &r1), -EPERM);
}

/* The guest cannot take back, re-point or re-grant an entry a back end
 * holds: an honest guest sees GTF_reading/GTF_writing and waits; a hostile
 * one that overwrites the entry anyway changes nothing the back end sees. */
static void test_revoked_while_mapped(void **state)
{
	struct fake *f = *state;
	struct gnttab_mapping a, b;

	grant(f, 9, GTF_permit_access, DOMU, RAM_GFN + 3);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 9, true, &a), 0);
	assert_int_equal(guest_end_access(f, 9), 0); /* refused: the entry is in use */
	assert_int_equal(ent(f, 9)->flags, GTF_permit_access | GTF_reading | GTF_writing);
	/* Hostile: revoke, re-point at another frame, make read-only. */
	grant(f, 9, GTF_readonly, DOMU, RAM_GFN + 4);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 9, false, &b), 0);
	assert_ptr_equal(b.addr, a.addr); /* the frame read at the first map */
	assert_ptr_equal(a.addr, f->ram + 3 * GNTTAB_PAGE);
	assert_int_equal(gnttab_core_unmap(&f->g, &a), 0);
	assert_int_equal(gnttab_core_unmap(&f->g, &b), 0);
	/* Nothing held: the guest's (bad) entry is judged afresh. */
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 9, false, &b), -EPERM);
	assert_int_equal(ent(f, 9)->flags, GTF_readonly);
}

static void test_frame_outside_ram(void **state)
{
	struct fake *f = *state;
	struct gnttab_mapping map, r;
	uint8_t buf[8];

	grant(f, 10, GTF_permit_access, DOMU, RAM_GFN + RAM_PAGES);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 10, true, &map), -EFAULT);
	assert_int_equal(ent(f, 10)->flags, GTF_permit_access); /* nothing left set */
	grant(f, 11, GTF_permit_access, DOMU, 0xffffffff);
	assert_int_equal(gnttab_core_copy_from(&f->g, &f->m, DOMU, 11, 0, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(ent(f, 11)->flags, GTF_permit_access);
	assert_int_equal(f->g.holds, 0);
	/* A failed write map leaves a read hold's bit alone. */
	grant(f, 12, GTF_permit_access, DOMU, RAM_GFN);
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 12, false, &r), 0);
	assert_int_equal(gnttab_core_unmap(&f->g, &(struct gnttab_mapping){ .addr = r.addr, .ref = 12, .writable = true }),
			 -EINVAL);
	assert_int_equal(ent(f, 12)->flags, GTF_permit_access | GTF_reading);
}

static void test_copy(void **state)
{
	struct fake *f = *state;
	struct gnttab_mapping map;
	uint8_t buf[GNTTAB_PAGE + 1];

	grant(f, 13, GTF_permit_access, DOMU, RAM_GFN + 5);
	/* One page: [offset, offset+len) within 4096, wrap-around refused. */
	assert_int_equal(gnttab_core_copy_from(&f->g, &f->m, DOMU, 13, 4096, buf, 1), -EINVAL);
	assert_int_equal(gnttab_core_copy_from(&f->g, &f->m, DOMU, 13, 4000, buf, 97), -EINVAL);
	assert_int_equal(gnttab_core_copy_from(&f->g, &f->m, DOMU, 13, 0, buf, 4097), -EINVAL);
	assert_int_equal(gnttab_core_copy_from(&f->g, &f->m, DOMU, 13, UINT32_MAX, buf, 2), -EINVAL);
	assert_int_equal(gnttab_core_copy_to(&f->g, &f->m, DOMU, 13, 1, buf, UINT32_MAX), -EINVAL);
	assert_int_equal(ent(f, 13)->flags, GTF_permit_access);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(gnttab_core_copy_from(&f->g, &f->m, DOMU, 13, 4000, buf, 96), 0);
	assert_int_equal(buf[0], 0xa5);
	assert_int_equal(buf[95], 0xa5);
	assert_int_equal(buf[96], 0);
	assert_int_equal(ent(f, 13)->flags, GTF_permit_access); /* held for the copy only */
	memset(buf, 0x5a, 16);
	assert_int_equal(gnttab_core_copy_to(&f->g, &f->m, DOMU, 13, 4080, buf, 16), 0);
	assert_int_equal(f->ram[5 * GNTTAB_PAGE + 4079], 0xa5);
	assert_int_equal(f->ram[5 * GNTTAB_PAGE + 4080], 0x5a);
	assert_int_equal(f->ram[5 * GNTTAB_PAGE + 4095], 0x5a);
	assert_int_equal(f->ram[6 * GNTTAB_PAGE], 0xa6);
	/* A copy beside a mapping leaves the mapping's bits. */
	assert_int_equal(gnttab_core_map(&f->g, &f->m, DOMU, 13, false, &map), 0);
	assert_int_equal(gnttab_core_copy_to(&f->g, &f->m, DOMU, 13, 0, buf, 1), 0);
	assert_int_equal(ent(f, 13)->flags, GTF_permit_access | GTF_reading);
	assert_int_equal(gnttab_core_copy_from(&f->g, &f->m, 5, 13, 0, buf, 1), -EPERM);
	assert_int_equal(f->g.holds, 1);
}

static void test_placement(void **state)
{
	const struct guest_mem mem = { .ram_size = 64 << 20, .low_size = 64 << 20 };
	uint64_t gpa = 0;

	(void)state;
	assert_int_equal(gnttab_core_check_place(&mem, 0, 0x10000, &gpa), 0);
	assert_int_equal(gpa, 0x10000000);
	assert_int_equal(gnttab_core_check_place(&mem, 0, 0x100, &gpa), -EINVAL); /* RAM */
	assert_int_equal(gnttab_core_check_place(&mem, 0, LAYOUT_XENSTORE_PFN, &gpa), -EINVAL);
	assert_int_equal(gnttab_core_check_place(&mem, GNTTAB_MAX_FRAMES, 0x10000, &gpa), -EINVAL);
	assert_int_equal(gnttab_core_check_place(&mem, XENMAPIDX_grant_table_status, 0x10000, &gpa), -EINVAL);
	assert_int_equal(gnttab_core_check_place(&mem, 0, 1ULL << 40, &gpa), -EINVAL);
	assert_int_equal(gnttab_core_check_place(&mem, 0, UINT64_MAX, &gpa), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_refs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_domid_and_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_clear_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_while_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test(test_placement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
