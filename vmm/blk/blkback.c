/* One blkif ring's request path (blkback.h).
 *
 * A request's life: a free slot in the in-flight table is found first (the
 * cap), then the request is copied out of the ring and checked on the copy
 * (parse), its pages are mapped (read-write for a read into the guest,
 * read-only for a write from it) and the engine runs its steps one after
 * the other: READ, WRITE, FLUSH, DISCARD, or FLUSH then WRITE for a cache
 * flush that carries data (blkback's REQ_PREFLUSH, QEMU's presync), or for
 * a barrier FLUSH, WRITE, FLUSH once everything before it has finished.
 * The last step's result becomes the response; the mappings go with it.
 *
 * Statuses follow Linux blkback: a malformed request, a bad grant, a range
 * off the disk and any write to a read-only disk get BLKIF_RSP_ERROR
 * (dispatch_rw_block_io's fail_response, xen_vbd_translate's -EACCES); an
 * operation not offered gets BLKIF_RSP_EOPNOTSUPP (dispatch_other_io), as
 * does a flush, barrier or discard the store refuses with EOPNOTSUPP. */
#include "blk/blkback.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512u
#define SECTORS_PER_PAGE (BLK_PAGE / SECTOR)
#define SEGS_PER_INDIRECT_PAGE (BLK_PAGE / sizeof(struct blkif_request_segment))
#define MAX_STEPS 3

struct breq {
	struct blkback *b;
	bool busy;
	uint64_t id;
	uint8_t rsp_op; /* echoed: the indirect_op for BLKIF_OP_INDIRECT (blkfront checks it) */
	bool barrier;
	uint8_t steps[MAX_STEPS], nsteps, step;
	uint64_t offset, len; /* bytes on the disk */
	unsigned nmaps;
	struct gnttab_mapping *maps; /* max_segs */
	struct iovec *iov;           /* max_segs */
	struct blk_io io;
};

struct blkback {
	struct blkback_config cfg;
	uint32_t ring_refs[BLK_MAX_RING_PAGES];
	struct gnttab_mapping ring_map[BLK_MAX_RING_PAGES];
	bool ring_mapped;
	struct blk_ring ring;
	struct blk_engine eng;
	unsigned max_segs, nreqs, inflight;
	struct breq *reqs;
	struct breq *barrier_wait; /* consumed, waits for the others to finish */
	bool barrier_running, closed, quiescing;
	struct blkif_request_segment *segbuf; /* an indirect request's segments */
	struct blkback_stats st;
};

static unsigned nr_ring_pages(const struct blkback *b)
{
	return 1u << b->cfg.ring_order;
}

static void unmap_ring(struct blkback *b)
{
	for (unsigned i = 0; i < nr_ring_pages(b); i++)
		if (b->ring_map[i].addr)
			(void)b->cfg.gnt.ops->unmap(b->cfg.gnt.ctx, &b->ring_map[i]);
	b->ring_mapped = false;
}

static int map_ring(struct blkback *b, RING_IDX req_cons, RING_IDX rsp_prod_pvt)
{
	void *pages[BLK_MAX_RING_PAGES];
	int rc;

	for (unsigned i = 0; i < nr_ring_pages(b); i++) {
		rc = b->cfg.gnt.ops->map(b->cfg.gnt.ctx, b->ring_refs[i], true, &b->ring_map[i]);
		if (rc < 0) {
			unmap_ring(b);
			return rc;
		}
		pages[i] = b->ring_map[i].addr;
	}
	b->ring_mapped = true;
	return blk_ring_attach(&b->ring, pages, b->cfg.ring_order, req_cons, rsp_prod_pvt);
}

/* ---- responses ---- */

static void respond(struct blkback *b, uint64_t id, uint8_t op, int16_t status)
{
	blkif_response_t rsp = { .id = id, .operation = op, .status = status };

	blk_ring_put(&b->ring, &rsp);
	b->st.requests++;
	if (status == BLKIF_RSP_ERROR)
		b->st.errors++;
	else if (status == BLKIF_RSP_EOPNOTSUPP)
		b->st.unsupported++;
}

static void push(struct blkback *b)
{
	if (b->ring_mapped && blk_ring_push(&b->ring) && b->cfg.notify) {
		b->st.notifies++;
		b->cfg.notify(b->cfg.notify_ctx);
	}
}

static void unmap_req(struct blkback *b, struct breq *r)
{
	for (unsigned i = 0; i < r->nmaps; i++)
		(void)b->cfg.gnt.ops->unmap(b->cfg.gnt.ctx, &r->maps[i]);
	r->nmaps = 0;
}

static void start_step(struct blkback *b, struct breq *r);

/* The request is done: its mappings go, its response is written, and a
 * barrier that waited for it may start. */
static void finish(struct blkback *b, struct breq *r, int16_t status)
{
	unmap_req(b, r);
	respond(b, r->id, r->rsp_op, status);
	if (r->barrier)
		b->barrier_running = false;
	r->busy = false;
	b->inflight--;
	if (b->barrier_wait && b->inflight == 1) {
		struct breq *w = b->barrier_wait;

		b->barrier_wait = NULL;
		b->barrier_running = true;
		start_step(b, w);
	}
}

static void start_step(struct blkback *b, struct breq *r)
{
	uint8_t op = r->steps[r->step];
	int rc;

	r->io = (struct blk_io){ .op = op };
	if (op == BLK_IO_READ || op == BLK_IO_WRITE || op == BLK_IO_DISCARD) {
		r->io.offset = r->offset;
		r->io.len = r->len;
	}
	if (op == BLK_IO_READ || op == BLK_IO_WRITE) {
		r->io.iov = r->iov;
		r->io.iovcnt = r->nmaps;
	}
	rc = b->eng.ops->submit(b->eng.eng, &r->io);
	if (rc < 0)
		finish(b, r, BLKIF_RSP_ERROR);
}

static void io_done(void *ctx, struct blk_io *io, int res)
{
	struct breq *r = (struct breq *)((uint8_t *)io - offsetof(struct breq, io));
	struct blkback *b = ctx;

	if (res < 0) {
		/* __end_block_io_op: a flush or barrier the store cannot do is
		 * EOPNOTSUPP; so is a discard (dispatch_discard_io). */
		bool opt = io->op == BLK_IO_FLUSH || io->op == BLK_IO_DISCARD || r->barrier;

		finish(b, r, res == -EOPNOTSUPP && opt ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR);
		return;
	}
	if (++r->step < r->nsteps)
		start_step(b, r);
	else
		finish(b, r, BLKIF_RSP_OKAY);
}

/* ---- parsing one request (on its private copy) ---- */

/* The segments of an indirect request, read once from its indirect pages
 * through grant copies (blkback's xen_blkbk_parse_indirect maps them). */
static int read_indirect(struct blkback *b, const struct blkif_request_indirect *ind, unsigned nseg)
{
	unsigned pages = (nseg + SEGS_PER_INDIRECT_PAGE - 1) / SEGS_PER_INDIRECT_PAGE;

	for (unsigned p = 0; p < pages; p++) {
		unsigned n = nseg - p * SEGS_PER_INDIRECT_PAGE;

		if (n > SEGS_PER_INDIRECT_PAGE)
			n = SEGS_PER_INDIRECT_PAGE;
		int rc = b->cfg.gnt.ops->copy_from(b->cfg.gnt.ctx, ind->indirect_grefs[p], 0,
						   b->segbuf + p * SEGS_PER_INDIRECT_PAGE,
						   n * (uint32_t)sizeof(struct blkif_request_segment));
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool writes(uint8_t op)
{
	return op != BLKIF_OP_READ;
}

/* Map the segments and lay out the iovecs: 0 or a BLKIF_RSP_* status. */
static int16_t map_segments(struct blkback *b, struct breq *r, uint8_t op, uint64_t sector,
			    const struct blkif_request_segment *seg, unsigned nseg)
{
	uint64_t nsec = 0, align = b->cfg.backend.sector_size / SECTOR - 1;

	for (unsigned i = 0; i < nseg; i++) {
		/* xen_blkbk_parse_indirect / dispatch_rw_block_io: a segment
		 * stays inside its page, first <= last. */
		if (seg[i].last_sect >= SECTORS_PER_PAGE || seg[i].last_sect < seg[i].first_sect)
			return BLKIF_RSP_ERROR;
		if ((sector | (uint64_t)(seg[i].last_sect - seg[i].first_sect + 1)) & align)
			return BLKIF_RSP_ERROR; /* "Misaligned I/O request" */
		nsec += seg[i].last_sect - seg[i].first_sect + 1;
	}
	/* xen_vbd_translate: the range inside the disk, no wrap-around; it
	 * checks only a request that has sectors, since an empty flush carries
	 * blk_rq_pos() of a flush request, (sector_t)-1 (blk_rq_init). */
	if (nsec && (sector > b->cfg.backend.sectors || nsec > b->cfg.backend.sectors - sector))
		return BLKIF_RSP_ERROR;
	for (unsigned i = 0; i < nseg; i++) {
		struct gnttab_mapping *m = &r->maps[r->nmaps];

		if (b->cfg.gnt.ops->map(b->cfg.gnt.ctx, seg[i].gref, op == BLKIF_OP_READ, m) < 0)
			return BLKIF_RSP_ERROR;
		r->iov[r->nmaps] = (struct iovec){ (uint8_t *)m->addr + seg[i].first_sect * SECTOR,
						   (size_t)(seg[i].last_sect - seg[i].first_sect + 1) * SECTOR };
		r->nmaps++;
	}
	r->offset = nsec ? sector * SECTOR : 0;
	r->len = nsec * SECTOR;
	return BLKIF_RSP_OKAY;
}

static void set_steps(struct breq *r, uint8_t a, uint8_t bb, uint8_t c, uint8_t n)
{
	r->steps[0] = a, r->steps[1] = bb, r->steps[2] = c;
	r->nsteps = n;
	r->step = 0;
}

/* Check req and prepare r: 0 when r is to run, else the status to answer. */
static int16_t parse(struct blkback *b, struct breq *r, const blkif_request_t *req)
{
	const struct blk_backend *be = &b->cfg.backend;
	uint8_t op = req->operation;
	const struct blkif_request_segment *seg = req->seg;
	unsigned nseg = req->nr_segments, features = b->cfg.features;
	int16_t st;

	r->rsp_op = op;
	switch (op) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		if (nseg == 0)
			return BLKIF_RSP_ERROR;
		break;
	case BLKIF_OP_FLUSH_DISKCACHE:
	case BLKIF_OP_WRITE_BARRIER:
		if (!(features & (op == BLKIF_OP_FLUSH_DISKCACHE ? BLKBACK_F_FLUSH : BLKBACK_F_BARRIER)))
			return BLKIF_RSP_EOPNOTSUPP;
		break; /* nseg 0: a flush alone (blkback: REQ_PREFLUSH without data) */
	case BLKIF_OP_INDIRECT: {
		const struct blkif_request_indirect *ind = (const void *)req;

		if (!b->cfg.max_indirect_segs)
			return BLKIF_RSP_EOPNOTSUPP;
		op = r->rsp_op = ind->indirect_op;
		nseg = ind->nr_segments;
		/* Only reads and writes travel indirect (dispatch_rw_block_io). */
		if ((op != BLKIF_OP_READ && op != BLKIF_OP_WRITE) || nseg == 0 ||
		    nseg > b->cfg.max_indirect_segs)
			return BLKIF_RSP_ERROR;
		if (op == BLKIF_OP_WRITE && be->readonly)
			return BLKIF_RSP_ERROR;
		if (read_indirect(b, ind, nseg) < 0)
			return BLKIF_RSP_ERROR;
		st = map_segments(b, r, op, ind->sector_number, b->segbuf, nseg);
		if (st == BLKIF_RSP_OKAY)
			set_steps(r, op == BLKIF_OP_READ ? BLK_IO_READ : BLK_IO_WRITE, 0, 0, 1);
		return st;
	}
	case BLKIF_OP_DISCARD: {
		const struct blkif_request_discard *d = (const void *)req;

		if (be->readonly)
			return BLKIF_RSP_ERROR;
		if (!(features & BLKBACK_F_DISCARD) || !be->discard)
			return BLKIF_RSP_EOPNOTSUPP;
		if (d->sector_number > be->sectors || d->nr_sectors > be->sectors - d->sector_number)
			return BLKIF_RSP_ERROR;
		r->offset = d->sector_number * SECTOR;
		r->len = d->nr_sectors * SECTOR;
		set_steps(r, BLK_IO_DISCARD, 0, 0, d->nr_sectors ? 1 : 0);
		return BLKIF_RSP_OKAY;
	}
	default:
		return BLKIF_RSP_EOPNOTSUPP;
	}
	if (nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return BLKIF_RSP_ERROR;
	if (writes(op) && be->readonly)
		return BLKIF_RSP_ERROR;
	st = map_segments(b, r, op, req->sector_number, seg, nseg);
	if (st)
		return st;
	switch (op) {
	case BLKIF_OP_READ:
		set_steps(r, BLK_IO_READ, 0, 0, 1);
		break;
	case BLKIF_OP_WRITE:
		set_steps(r, BLK_IO_WRITE, 0, 0, 1);
		break;
	case BLKIF_OP_FLUSH_DISKCACHE:
		set_steps(r, BLK_IO_FLUSH, BLK_IO_WRITE, 0, nseg ? 2 : 1);
		break;
	default: /* a barrier: earlier writes durable, then this one durable */
		r->barrier = true;
		if (nseg)
			set_steps(r, BLK_IO_FLUSH, BLK_IO_WRITE, BLK_IO_FLUSH, 3);
		else
			set_steps(r, BLK_IO_FLUSH, 0, 0, 1);
		break;
	}
	return BLKIF_RSP_OKAY;
}

/* ---- consuming ---- */

static struct breq *free_slot(struct blkback *b)
{
	for (unsigned i = 0; i < b->nreqs; i++)
		if (!b->reqs[i].busy)
			return &b->reqs[i];
	return NULL;
}

static bool blocked(const struct blkback *b)
{
	return b->closed || b->quiescing || !b->ring_mapped || b->barrier_wait || b->barrier_running ||
	       b->inflight == b->nreqs || blk_ring_cons_full(&b->ring);
}

static void handle(struct blkback *b, struct breq *r, const blkif_request_t *req)
{
	int16_t st;

	*r = (struct breq){ .b = b, .busy = true, .id = req->id, .maps = r->maps, .iov = r->iov };
	b->inflight++;
	st = parse(b, r, req);
	if (st != BLKIF_RSP_OKAY || r->nsteps == 0) {
		r->barrier = false;
		finish(b, r, st);
		return;
	}
	if (r->barrier && b->inflight > 1) {
		b->barrier_wait = r; /* blkback's xen_blk_drain_io */
		return;
	}
	if (r->barrier)
		b->barrier_running = true;
	start_step(b, r);
}

static void consume(struct blkback *b)
{
	RING_IDX prod;
	blkif_request_t req;

	if (blocked(b))
		return;
	if (blk_ring_prod(&b->ring, &prod) < 0) {
		b->closed = true;
		return;
	}
	while (b->ring.req_cons != prod && !blocked(b)) {
		blk_ring_take(&b->ring, &req);
		handle(b, free_slot(b), &req);
	}
}

static int reap(struct blkback *b)
{
	return b->eng.ops->reap(b->eng.eng, io_done, b);
}

/* Consume, run, answer, until the ring is empty with req_event armed, or
 * blocked (then a completion drives this again). */
static void process(struct blkback *b)
{
	bool sync = b->eng.ops->fd(b->eng.eng) < 0;

	for (;;) {
		consume(b);
		(void)b->eng.ops->commit(b->eng.eng);
		if (sync && reap(b) > 0)
			continue;
		push(b);
		if (blocked(b) || !blk_ring_final_check(&b->ring))
			break;
	}
}

void blkback_kick(struct blkback *b)
{
	b->st.kicks++;
	process(b);
}

void blkback_on_io(struct blkback *b)
{
	b->st.io_wakeups++;
	(void)reap(b);
	process(b);
}

int blkback_io_fd(const struct blkback *b)
{
	return b->eng.ops->fd(b->eng.eng);
}

/* ---- lifecycle ---- */

int blkback_quiesce(struct blkback *b)
{
	int rc = 0;

	b->quiescing = true;
	while (b->inflight) {
		(void)b->eng.ops->commit(b->eng.eng);
		rc = b->eng.ops->wait(b->eng.eng);
		if (rc < 0 && rc != -EINTR)
			break;
		rc = reap(b);
		if (rc < 0)
			break;
		rc = 0;
	}
	push(b);
	if (rc == 0 && b->ring_mapped)
		unmap_ring(b);
	return rc;
}

int blkback_resume(struct blkback *b)
{
	int rc;

	if (!b->ring_mapped) {
		rc = map_ring(b, b->ring.req_cons, b->ring.rsp_prod_pvt);
		if (rc < 0)
			return rc;
	}
	b->quiescing = false;
	process(b);
	return 0;
}

int blkback_save(const struct blkback *b, struct blkback_pos *pos)
{
	if (!b->quiescing || b->inflight)
		return -EBUSY;
	*pos = (struct blkback_pos){ b->ring.req_cons, b->ring.rsp_prod_pvt };
	return 0;
}

static int check_pos(const struct blkback_pos *pos)
{
	/* A quiesced ring has answered everything it consumed. */
	return pos->req_cons == pos->rsp_prod_pvt ? 0 : -EINVAL;
}

int blkback_load(struct blkback *b, const struct blkback_pos *pos)
{
	if (!b->quiescing || b->inflight || b->ring_mapped)
		return -EBUSY;
	if (check_pos(pos) < 0)
		return -EINVAL;
	b->ring.req_cons = b->ring.rsp_prod_pvt = b->ring.rsp_pushed = pos->req_cons;
	b->closed = false;
	return 0;
}

struct blkback_stats blkback_stats(const struct blkback *b)
{
	struct blkback_stats s = b->st;

	s.inflight = b->inflight;
	s.closed = b->closed;
	s.quiesced = b->quiescing && !b->ring_mapped;
	return s;
}

int blkback_engine_uring(const struct blk_backend *be, unsigned depth, void *arg, struct blk_engine *out)
{
	return blk_uring_create(be, depth, out);
}

int blkback_engine_sync(const struct blk_backend *be, unsigned depth, void *arg, struct blk_engine *out)
{
	return blk_sync_create(be, depth, out);
}

static int check_config(const struct blkback_config *c)
{
	const struct blk_backend *be = &c->backend;

	/* Linux blkback's connect_ring: no node means native; the 32-bit
	 * layouts it converts are refused here (x86_64 guests only). */
	if (c->protocol && strcmp(c->protocol, XEN_IO_PROTO_ABI_X86_64) != 0)
		return -EPROTONOSUPPORT;
	if (c->ring_order > BLK_MAX_RING_ORDER || !c->ring_refs || !c->gnt.ops || be->fd < 0)
		return -EINVAL;
	if (c->max_indirect_segs > BLKBACK_MAX_INDIRECT_SEGS || c->max_inflight > BLKBACK_MAX_INFLIGHT)
		return -EINVAL;
	if (be->sector_size < SECTOR || (be->sector_size & (be->sector_size - 1)) || be->sector_size > BLK_PAGE)
		return -EINVAL;
	if (be->sectors > INT64_MAX / SECTOR)
		return -EINVAL; /* byte offsets are off_t */
	if (c->pos && check_pos(c->pos) < 0)
		return -EINVAL;
	return 0;
}

int blkback_create(const struct blkback_config *cfg, struct blkback **out)
{
	struct blkback *b;
	RING_IDX size;
	int rc = check_config(cfg);

	if (rc < 0)
		return rc;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->cfg = *cfg;
	b->cfg.protocol = NULL; /* the caller's string; checked above */
	b->cfg.pos = NULL;
	memcpy(b->ring_refs, cfg->ring_refs, sizeof(uint32_t) * nr_ring_pages(b));
	b->cfg.ring_refs = b->ring_refs;
	size = blk_ring_size(cfg->ring_order);
	b->nreqs = cfg->max_inflight ? cfg->max_inflight : BLKBACK_DEFAULT_INFLIGHT;
	if (b->nreqs > size)
		b->nreqs = size;
	b->max_segs = cfg->max_indirect_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST ? cfg->max_indirect_segs
									     : BLKIF_MAX_SEGMENTS_PER_REQUEST;
	b->reqs = calloc(b->nreqs, sizeof(*b->reqs));
	b->segbuf = calloc(b->max_segs, sizeof(*b->segbuf));
	rc = b->reqs && b->segbuf ? 0 : -ENOMEM;
	for (unsigned i = 0; rc == 0 && i < b->nreqs; i++) {
		b->reqs[i].maps = calloc(b->max_segs, sizeof(*b->reqs[i].maps));
		b->reqs[i].iov = calloc(b->max_segs, sizeof(*b->reqs[i].iov));
		if (!b->reqs[i].maps || !b->reqs[i].iov)
			rc = -ENOMEM;
	}
	if (rc == 0)
		rc = (cfg->engine ? cfg->engine : blkback_engine_uring)(&cfg->backend, b->nreqs, cfg->engine_arg,
									 &b->eng);
	if (rc == 0) {
		rc = map_ring(b, cfg->pos ? cfg->pos->req_cons : 0, cfg->pos ? cfg->pos->rsp_prod_pvt : 0);
		if (rc < 0) {
			b->eng.ops->destroy(b->eng.eng);
			b->eng.ops = NULL;
		}
	}
	if (rc < 0) {
		blkback_destroy(b);
		return rc;
	}
	*out = b;
	return 0;
}

void blkback_destroy(struct blkback *b)
{
	if (!b)
		return;
	if (b->eng.ops) {
		if (blkback_quiesce(b) < 0)
			unmap_ring(b); /* the engine goes below: nothing runs after */
		b->eng.ops->destroy(b->eng.eng);
	}
	for (unsigned i = 0; b->reqs && i < b->nreqs; i++) {
		unmap_req(b, &b->reqs[i]);
		free(b->reqs[i].maps);
		free(b->reqs[i].iov);
	}
	free(b->reqs);
	free(b->segbuf);
	free(b);
}
