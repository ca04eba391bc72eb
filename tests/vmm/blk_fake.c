/* The fake guest of blk_fake.h. */
#include "blk_fake.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first ring page's ref; data pages are granted by the tests. */
#define RING_REF_BASE 400
#define RING_PAGE_BASE 480

static void *frame(void *ctx, uint64_t gfn)
{
	struct fake_guest *f = ctx;

	if (gfn < FAKE_RAM_GFN || gfn >= FAKE_RAM_GFN + FAKE_RAM_PAGES)
		return NULL;
	return f->ram + (gfn - FAKE_RAM_GFN) * BLK_PAGE;
}

uint8_t *fake_page(struct fake_guest *f, unsigned page)
{
	return f->ram + (size_t)page * BLK_PAGE;
}

void fake_grant(struct fake_guest *f, uint32_t ref, unsigned page, bool ro)
{
	grant_entry_v1_t *e = (grant_entry_v1_t *)f->frames + ref;

	*e = (grant_entry_v1_t){ .flags = GTF_permit_access | (ro ? GTF_readonly : 0), .domid = 0,
				 .frame = FAKE_RAM_GFN + page };
}

int fake_init(struct fake_guest *f, unsigned order, bool scrambled, bool with_file)
{
	*f = (struct fake_guest){ .fd = -1, .order = order, .size = blk_ring_size(order) };
	f->ram = aligned_alloc(BLK_PAGE, (size_t)FAKE_RAM_PAGES * BLK_PAGE);
	f->frames = aligned_alloc(BLK_PAGE, (size_t)GNTTAB_MAX_FRAMES * BLK_PAGE);
	if (!f->ram || !f->frames)
		return -ENOMEM;
	memset(f->ram, 0, (size_t)FAKE_RAM_PAGES * BLK_PAGE);
	memset(f->frames, 0, (size_t)GNTTAB_MAX_FRAMES * BLK_PAGE);
	gnttab_core_init(&f->core, f->frames);
	f->mem = (struct gnttab_mem){ frame, f };
	f->gcore = (struct blk_gnt_core){ &f->core, &f->mem, 0 };
	blk_gnt_from_core(&f->gcore, &f->gnt);
	for (unsigned i = 0; i < (1u << order); i++) {
		unsigned page = RING_PAGE_BASE + (scrambled ? (1u << order) - 1 - i : i);

		f->ring_refs[i] = RING_REF_BASE + i;
		fake_grant(f, f->ring_refs[i], page, false);
		f->rpage[i] = fake_page(f, page);
	}
	/* SHARED_RING_INIT: the frontend wants to hear of the first response. */
	fake_sring(f)->req_event = 1;
	fake_sring(f)->rsp_event = 1;
	if (with_file) {
		strcpy(f->path, "/tmp/blkback-test-XXXXXX");
		f->fd = mkstemp(f->path);
		if (f->fd < 0 || ftruncate(f->fd, (off_t)FAKE_DISK_SECTORS * 512) < 0)
			return -errno;
	}
	return 0;
}

void fake_fini(struct fake_guest *f)
{
	if (f->fd >= 0) {
		close(f->fd);
		unlink(f->path);
	}
	gnttab_core_fini(&f->core);
	free(f->ram);
	free(f->frames);
}

static void ring_rw(struct fake_guest *f, size_t off, void *buf, size_t len, bool write)
{
	uint8_t *b = buf;

	while (len) {
		size_t in = off % BLK_PAGE, n = BLK_PAGE - in < len ? BLK_PAGE - in : len;

		if (write)
			memcpy(f->rpage[off / BLK_PAGE] + in, b, n);
		else
			memcpy(b, f->rpage[off / BLK_PAGE] + in, n);
		b += n, off += n, len -= n;
	}
}

static size_t slot(struct fake_guest *f, RING_IDX i)
{
	return offsetof(struct blkif_sring, ring) + (size_t)(i & (f->size - 1)) * sizeof(union blkif_sring_entry);
}

void fake_put_req(struct fake_guest *f, RING_IDX i, const void *req)
{
	ring_rw(f, slot(f, i), (void *)req, sizeof(blkif_request_t), true);
}

struct blkif_sring *fake_sring(struct fake_guest *f)
{
	return (struct blkif_sring *)(void *)f->rpage[0];
}

void fake_push(struct fake_guest *f, RING_IDX prod)
{
	f->req_prod = prod;
	__atomic_store_n(&fake_sring(f)->req_prod, prod, __ATOMIC_RELEASE);
}

void fake_get_rsp(struct fake_guest *f, RING_IDX i, blkif_response_t *rsp)
{
	ring_rw(f, slot(f, i), rsp, sizeof(*rsp), false);
}

RING_IDX fake_rsp_prod(struct fake_guest *f)
{
	return __atomic_load_n(&fake_sring(f)->rsp_prod, __ATOMIC_ACQUIRE);
}

void fake_notify(void *ctx)
{
	((struct fake_guest *)ctx)->notified++;
}

struct blkback_config fake_config(struct fake_guest *f)
{
	return (struct blkback_config){
		.protocol = XEN_IO_PROTO_ABI_X86_64,
		.ring_order = f->order,
		.ring_refs = f->ring_refs,
		.features = BLKBACK_F_FLUSH | BLKBACK_F_BARRIER | BLKBACK_F_DISCARD,
		.max_indirect_segs = BLKBACK_MAX_INDIRECT_SEGS,
		.backend = { .fd = f->fd, .sectors = FAKE_DISK_SECTORS, .sector_size = 512, .discard = true },
		.gnt = f->gnt,
		.notify = fake_notify,
		.notify_ctx = f,
	};
}

int fake_loop_attach(int backing_fd, char *dev, size_t len)
{
	struct loop_config lc = { .fd = (uint32_t)backing_fd, .block_size = 512,
				  .info = { .lo_flags = LO_FLAGS_AUTOCLEAR } };
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int nr = ctl < 0 ? -1 : ioctl(ctl, LOOP_CTL_GET_FREE), fd = -1;

	if (ctl >= 0)
		close(ctl);
	if (nr < 0)
		return -1;
	snprintf(dev, len, "/dev/loop%d", nr);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && ioctl(fd, LOOP_CONFIGURE, &lc) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}
