/* Grant-table v1 placement and the Domain-0 half: map, unmap, copy
 * (gnttab_core.h).  The rules follow Xen's xen/common/grant_table.c
 * (map_grant_ref, _set_status_v1, unmap_common_complete, gnttab_copy). */
#include "gnttab_core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Xen retries the swap this many times, then decides the guest is
 * misbehaving (_set_status_v1: "Shared grant entry is unstable"). */
#define SET_STATUS_TRIES 5

void gnttab_core_init(struct gnttab_core *g, uint8_t *frames)
{
	*g = (struct gnttab_core){ .frames = frames };
}

void gnttab_core_fini(struct gnttab_core *g)
{
	free(g->active);
	g->active = NULL;
}

uint32_t gnttab_core_nr_entries(const struct gnttab_core *g)
{
	return (g->nr_frames ? g->nr_frames : 1) * (uint32_t)GNTTAB_ENTRIES_PER_FRAME;
}

int gnttab_core_check_place(const struct guest_mem *m, uint64_t idx, uint64_t gpfn, uint64_t *gpa)
{
	uint64_t a = gpfn << 12;

	if (idx & XENMAPIDX_grant_table_status)
		return -EINVAL; /* status frames are v2 */
	if (idx >= GNTTAB_MAX_FRAMES || gpfn >= (1ULL << 40))
		return -EINVAL;
	if (gmem_offset(m, a, GNTTAB_PAGE) >= 0 ||
	    (a >= LAYOUT_SPECIAL_BASE && a < LAYOUT_SPECIAL_BASE + LAYOUT_SPECIAL_PAGES * GNTTAB_PAGE))
		return -EINVAL;
	*gpa = a;
	return 0;
}

void gnttab_core_set_place(struct gnttab_core *g, uint64_t idx, uint64_t gpa)
{
	g->frame_gpa[idx] = gpa;
	if (gpa && idx + 1 > g->nr_frames)
		g->nr_frames = (uint32_t)idx + 1;
}

static grant_entry_v1_t *entry(const struct gnttab_core *g, uint32_t ref)
{
	return (grant_entry_v1_t *)g->frames + ref;
}

/* The flags and domid of a v1 entry as one 32-bit word (flags in the low
 * half on x86), so both are read, and swapped, in one access. */
static uint32_t *flags_domid(grant_entry_v1_t *e)
{
	_Static_assert(offsetof(grant_entry_v1_t, flags) == 0 && offsetof(grant_entry_v1_t, domid) == 2,
		       "flags and domid share the entry's first 32-bit word");
	return (uint32_t *)(void *)e;
}

/* Set GTF_reading (and GTF_writing for a write hold) in the guest's entry,
 * as Xen's _set_status_v1: the word is read once; while the entry is not
 * held yet it must be GTF_permit_access for `mapper` (without
 * GTF_sub_page when mapping); a write hold needs no GTF_readonly in the
 * word being swapped; a guest racing the swap gets SET_STATUS_TRIES tries. */
static int set_status(grant_entry_v1_t *e, bool held, domid_t mapper, bool writable, bool mapflag)
{
	uint32_t *word = flags_domid(e);
	uint16_t mask = GTF_type_mask | (mapflag ? GTF_sub_page : 0);
	uint32_t old = __atomic_load_n(word, __ATOMIC_SEQ_CST);

	for (int tries = 0; tries < SET_STATUS_TRIES; tries++) {
		uint16_t flags = (uint16_t)old, domid = (uint16_t)(old >> 16);
		uint32_t new = old | GTF_reading | (writable ? GTF_writing : 0);

		if (!held && ((flags & mask) != GTF_permit_access || domid != mapper))
			return -EPERM;
		if (writable && (flags & GTF_readonly))
			return -EPERM;
		/* On failure `old` becomes what the guest wrote meanwhile. */
		if (__atomic_compare_exchange_n(word, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return 0;
	}
	return -EBUSY;
}

/* Clear what the entry's remaining holds no longer need (Xen's
 * unmap_common_complete: GTF_writing with the last write hold, GTF_reading
 * with the last hold).  The guest owns the other bits: clear only ours. */
static void clear_status(grant_entry_v1_t *e, const struct gnttab_active *act)
{
	uint16_t bits = 0;

	if (act->writers == 0)
		bits |= GTF_writing;
	if (act->readers == 0 && act->writers == 0)
		bits |= GTF_reading;
	if (bits)
		__atomic_fetch_and(&e->flags, (uint16_t)~bits, __ATOMIC_SEQ_CST);
}

static int hold(struct gnttab_core *g, const struct gnttab_mem *m, domid_t mapper, uint32_t ref, bool writable,
		bool mapflag, struct gnttab_mapping *out)
{
	struct gnttab_active *act;
	grant_entry_v1_t *e;
	bool held;
	void *page;
	int rc;

	if (!g->frames || ref >= gnttab_core_nr_entries(g))
		return -EINVAL;
	if (!g->active) {
		g->active = calloc(GNTTAB_MAX_ENTRIES, sizeof(*g->active));
		if (!g->active)
			return -ENOMEM;
	}
	act = &g->active[ref];
	e = entry(g, ref);
	held = act->readers || act->writers;
	/* An entry held already is held for one domain, by what it said then
	 * (Xen: "Bad domain" when act->domid differs); counts must not wrap. */
	if (held && act->domid != mapper)
		return -EPERM;
	if (act->readers == UINT16_MAX || act->writers == UINT16_MAX)
		return -EBUSY;
	/* The guest's entry is consulted when the entry is not held yet, or a
	 * first write hold joins read-only ones (map_grant_ref). */
	if (!held || (writable && act->writers == 0)) {
		rc = set_status(e, held, mapper, writable, mapflag);
		if (rc < 0)
			return rc;
	}
	if (!held) {
		/* The frame is read once, after the swap, and kept: from now on
		 * the guest may not change the entry, and if it does anyway
		 * every hold keeps the frame read here (map_grant_ref reads
		 * shared_entry_v1().frame into act->frame the same way). */
		act->frame = __atomic_load_n(&e->frame, __ATOMIC_SEQ_CST);
		act->domid = mapper;
	}
	page = m->frame(m->ctx, act->frame);
	if (!page) {
		clear_status(e, act); /* undo what this call set, keep the others' */
		return -EFAULT;
	}
	if (writable)
		act->writers++;
	else
		act->readers++;
	g->holds++;
	*out = (struct gnttab_mapping){ .addr = page, .ref = ref, .domid = mapper, .writable = writable };
	return 0;
}

int gnttab_core_map(struct gnttab_core *g, const struct gnttab_mem *m, domid_t mapper, uint32_t ref,
		    bool writable, struct gnttab_mapping *out)
{
	return hold(g, m, mapper, ref, writable, true, out);
}

int gnttab_core_unmap(struct gnttab_core *g, struct gnttab_mapping *map)
{
	struct gnttab_active *act;

	if (!map->addr || !g->active || map->ref >= GNTTAB_MAX_ENTRIES)
		return -EINVAL;
	act = &g->active[map->ref];
	if (act->domid != map->domid || (map->writable ? act->writers : act->readers) == 0)
		return -EINVAL;
	if (map->writable)
		act->writers--;
	else
		act->readers--;
	g->holds--;
	clear_status(entry(g, map->ref), act);
	map->addr = NULL;
	return 0;
}

/* Xen: "copy beyond page area" (gnttab_copy_buf, GNTST_bad_copy_arg). */
static int check_copy(uint32_t offset, uint32_t len)
{
	return offset > GNTTAB_PAGE || len > GNTTAB_PAGE - offset ? -EINVAL : 0;
}

int gnttab_core_copy_from(struct gnttab_core *g, const struct gnttab_mem *m, domid_t mapper, uint32_t ref,
			  uint32_t offset, void *buf, uint32_t len)
{
	struct gnttab_mapping h;
	int rc = check_copy(offset, len);

	if (rc == 0)
		rc = hold(g, m, mapper, ref, false, false, &h);
	if (rc < 0)
		return rc;
	memcpy(buf, (uint8_t *)h.addr + offset, len);
	return gnttab_core_unmap(g, &h);
}

int gnttab_core_copy_to(struct gnttab_core *g, const struct gnttab_mem *m, domid_t mapper, uint32_t ref,
			uint32_t offset, const void *buf, uint32_t len)
{
	struct gnttab_mapping h;
	int rc = check_copy(offset, len);

	if (rc == 0)
		rc = hold(g, m, mapper, ref, true, false, &h);
	if (rc < 0)
		return rc;
	memcpy((uint8_t *)h.addr + offset, buf, len);
	return gnttab_core_unmap(g, &h);
}
