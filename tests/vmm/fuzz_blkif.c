/* libFuzzer target for the blkif request path (vmm/blk): each input is a
 * frontend: the ring's configuration, 64 grant entries, two indirect pages
 * and the ring's slots, then up to four req_prod values, each followed by a
 * kick; optionally a quiesce, save, load and resume in between.  The I/O
 * engine is the synchronous one over a 1 MiB memfd.  After each input every
 * grant mapping must be released and nothing be in flight.  Built with
 * clang only (tests/vmm/meson.build); seeds in fuzz-seeds/blkif/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blk/blkback.h"

#define RAM_GFN 0x100
#define RAM_PAGES 64
#define RING_PAGE 48 /* ring pages 48..63, granted as refs 100.. */
#define RING_REF 100
#define NR_GRANTS 64
#define DISK_SECTORS 2048

struct hdr {
	uint8_t order, flags, max_inflight, rounds;
	uint32_t prod[4];
	uint32_t start, rsp_event;
};

enum { F_RO = 1, F_FLUSH = 2, F_BARRIER = 4, F_DISCARD = 8, F_INDIRECT = 16, F_SAVE = 32, F_4K = 64 };

struct world {
	uint8_t *ram, *frames;
	int fd;
};

static void *frame(void *ctx, uint64_t gfn)
{
	struct world *w = ctx;

	if (gfn < RAM_GFN || gfn >= RAM_GFN + RAM_PAGES)
		return NULL;
	return w->ram + (gfn - RAM_GFN) * BLK_PAGE;
}

static struct world *world(void)
{
	static struct world w;

	if (!w.ram) {
		w.ram = aligned_alloc(BLK_PAGE, RAM_PAGES * BLK_PAGE);
		w.frames = aligned_alloc(BLK_PAGE, GNTTAB_MAX_FRAMES * BLK_PAGE);
		w.fd = memfd_create("fuzz-blkif-disk", MFD_CLOEXEC);
		if (!w.ram || !w.frames || w.fd < 0 || ftruncate(w.fd, DISK_SECTORS * 512) < 0)
			abort();
	}
	return &w;
}

static void notify(void *ctx)
{
	(*(unsigned *)ctx)++;
}

static size_t take(const uint8_t **data, size_t *size, void *out, size_t want)
{
	size_t n = *size < want ? *size : want;

	memset(out, 0, want);
	memcpy(out, *data, n);
	*data += n, *size -= n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world *w = world();
	struct gnttab_core core;
	struct gnttab_mem mem = { frame, w };
	struct blk_gnt_core gc = { &core, &mem, 0 };
	uint32_t refs[BLK_MAX_RING_PAGES];
	struct blkback_pos pos;
	struct blkback *b;
	unsigned notified = 0, order, npages;
	RING_IDX rsize;
	struct hdr h;
	struct blkif_sring *sr;

	take(&data, &size, &h, sizeof(h));
	order = h.order % (BLK_MAX_RING_ORDER + 1);
	npages = 1u << order;
	rsize = blk_ring_size(order);
	memset(w->ram, 0, RAM_PAGES * BLK_PAGE);
	memset(w->frames, 0, BLK_PAGE);
	gnttab_core_init(&core, w->frames);

	/* The guest's grants: raw flags and domid; frames mostly in RAM, a
	 * few just outside it. */
	for (unsigned i = 0; i < NR_GRANTS; i++) {
		grant_entry_v1_t e;

		take(&data, &size, &e, sizeof(e));
		e.frame = RAM_GFN + e.frame % (RAM_PAGES + 2);
		((grant_entry_v1_t *)(void *)w->frames)[i] = e;
	}
	for (unsigned i = 0; i < npages; i++) {
		refs[i] = RING_REF + i;
		((grant_entry_v1_t *)(void *)w->frames)[refs[i]] =
			(grant_entry_v1_t){ .flags = GTF_permit_access, .frame = RAM_GFN + RING_PAGE + i };
	}
	/* Indirect pages: RAM pages 1 and 2 (granted if the entries say so). */
	take(&data, &size, w->ram + BLK_PAGE, 1024);
	take(&data, &size, w->ram + 2 * BLK_PAGE, 1024);
	/* The ring's slots from the start position on, across its pages. */
	sr = (struct blkif_sring *)(void *)(w->ram + RING_PAGE * BLK_PAGE);
	{
		size_t base = offsetof(struct blkif_sring, ring), room = (size_t)rsize * sizeof(union blkif_sring_entry);
		size_t first = (size_t)(h.start & (rsize - 1)) * sizeof(union blkif_sring_entry);
		uint8_t *ring = (uint8_t *)sr + base; /* the ring pages are contiguous in this RAM */
		size_t n = size < room ? size : room, head = room - first < n ? room - first : n;

		memcpy(ring + first, data, head);
		memcpy(ring, data + head, n - head);
	}
	sr->req_prod = h.start;
	sr->rsp_prod = h.start;
	sr->rsp_event = h.rsp_event;

	pos = (struct blkback_pos){ h.start, h.start };
	struct blkback_config cfg = {
		.protocol = XEN_IO_PROTO_ABI_X86_64,
		.ring_order = order,
		.ring_refs = refs,
		.features = (h.flags & F_FLUSH ? BLKBACK_F_FLUSH : 0) | (h.flags & F_BARRIER ? BLKBACK_F_BARRIER : 0) |
			    (h.flags & F_DISCARD ? BLKBACK_F_DISCARD : 0),
		.max_indirect_segs = h.flags & F_INDIRECT ? BLKBACK_MAX_INDIRECT_SEGS : 0,
		.max_inflight = h.max_inflight % (BLKBACK_MAX_INFLIGHT + 1),
		.backend = { .fd = w->fd, .sectors = DISK_SECTORS, .sector_size = h.flags & F_4K ? 4096 : 512,
			     .readonly = h.flags & F_RO, .discard = true },
		.gnt = { 0 },
		.engine = blkback_engine_sync,
		.pos = &pos,
		.notify = notify,
		.notify_ctx = &notified,
	};
	blk_gnt_from_core(&gc, &cfg.gnt);
	if (blkback_create(&cfg, &b) < 0)
		abort(); /* the config above is always valid */

	for (unsigned r = 0; r < 1 + h.rounds % 4; r++) {
		uint32_t v = h.prod[r];
		RING_IDX prod = v & 0x80000000u ? v : h.start + v % (2 * rsize + 2);

		__atomic_store_n(&sr->req_prod, prod, __ATOMIC_RELEASE);
		blkback_kick(b);
		if (blkback_stats(b).inflight)
			abort(); /* the synchronous engine finishes everything */
		if ((h.flags & F_SAVE) && r == 0) {
			if (blkback_quiesce(b) < 0 || core.holds || blkback_save(b, &pos) < 0 ||
			    blkback_load(b, &pos) < 0 || blkback_resume(b) < 0)
				abort();
		}
	}
	if (blkback_quiesce(b) < 0 || core.holds != 0)
		abort();
	blkback_destroy(b);
	if (core.holds != 0)
		abort();
	gnttab_core_fini(&core);
	return 0;
}
