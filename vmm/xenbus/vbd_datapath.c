/* The vbd's data path (the seam of vbd.h): the backing store, and per
 * queue one blkif ring served by vmm/blk/ (docs/blkback.md "What the vbd
 * device must do"), its frontend's event channel bound to an eventfd, both
 * descriptors on the monitor's event loop.
 *
 * Lifetimes: the ring pages are mapped from connect (or resume) to
 * disconnect (or quiesce), by blkback; data pages per request, by blkback.
 * The ports stay bound across a quiesce, so a save that goes on resumes
 * without the guest noticing.  Everything here runs on the loop thread. */
#include "vbd.h"
#include "vbd_datapath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <xen/io/protocols.h>

#include "be_dp.h"
#include "domus/log.h"
#include "evloop.h"

struct vbd_dp;

struct vbd_dpq {
	struct vbd_dp *dp;
	unsigned q;
	struct be_port ev;
	struct blkback *bb;
	struct evl_src *kick_src, *io_src;
	struct blkback_stats told; /* what the log has said */
};

struct vbd_dp {
	struct vbd_host h;
	int fd;
	struct blk_backend be;
	unsigned nq;
	bool quiesced;
	char name[64];
	struct log_ratelimit rl;
	struct vbd_dpq q[VBD_MAX_QUEUES];
};

void vbd_datapath_limits(struct vbd_limits *lim)
{
	/* One queue: blkfront 6.1 then uses one ring (multi-queue is a later
	 * step); the largest ring and indirect requests blkback offers. */
	*lim = (struct vbd_limits){ .max_queues = 1,
				    .max_ring_page_order = BLK_MAX_RING_ORDER,
				    .max_indirect_segs = BLKBACK_MAX_INDIRECT_SEGS };
}

/* ---- the backing store ---- */

/* A block device discards when its queue says it can (blkback's
 * xen_blkbk_discard: bdev_max_discard_sectors). */
static bool blockdev_discards(dev_t rdev)
{
	char path[96], v[32] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/discard_max_bytes", major(rdev), minor(rdev));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, v, sizeof(v) - 1);
	close(fd);
	return n > 0 && strtoull(v, NULL, 10) != 0;
}

/* A regular file discards when its filesystem punches holes: asked with a
 * hole at the end of the file, which changes nothing (KEEP_SIZE). */
static bool file_discards(int fd, off_t size)
{
	off_t at = (size + 4095) & ~(off_t)4095;

	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, at, 4096) == 0;
}

/* BLKGETSIZE64 in bytes, the logical and physical block sizes. */
static int blockdev_geometry(int fd, struct blk_backend *be, unsigned *phys)
{
	uint64_t bytes = 0;
	int lbs = 512;
	unsigned int pbs = 512;

	if (ioctl(fd, BLKGETSIZE64, &bytes) < 0 || ioctl(fd, BLKSSZGET, &lbs) < 0)
		return -errno;
	if (ioctl(fd, BLKPBSZGET, &pbs) < 0)
		pbs = (unsigned)lbs;
	be->sectors = bytes / 512;
	be->sector_size = (uint32_t)lbs;
	*phys = pbs;
	return 0;
}

static int open_backing(const struct vbd_cfg *cfg, struct blk_backend *be, unsigned *phys, char *why, size_t wl)
{
	bool ro = !cfg->readwrite || cfg->cdrom;
	/* qcow2, vhd: the raw view qemu-storage-daemon exports (vbd.h). */
	const bool view = strcmp(cfg->format, "qcow2") == 0 || strcmp(cfg->format, "vhd") == 0;
	const char *path = view ? cfg->store : cfg->path;
	struct stat st;
	int fd, rc = 0;

	if (strcmp(cfg->format, "raw") != 0 && !(view && cfg->store[0])) {
		snprintf(why, wl, "%s: the %s format is not supported (raw files and block devices only)",
			 cfg->path[0] ? cfg->path : "(empty drive)", cfg->format);
		return -EOPNOTSUPP;
	}
	/* The view buffered, never O_DIRECT: with concurrent O_DIRECT writes,
	 * QEMU 7.2's FUSE export puts one write's data at another's offset
	 * (fio --direct=1 --iodepth=32 --verify=crc32c on the view fails in
	 * seconds, a guest read a wrong file back in the lab; buffered and
	 * --iodepth=1 pass): tests/vmm/test_qsd.c test_concurrent_writes. */
	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, wl, "%s: %s", cfg->path, strerror(-rc));
		return rc;
	}
	*be = (struct blk_backend){ .fd = fd, .sector_size = 512, .readonly = ro };
	*phys = 512;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
	} else if (S_ISREG(st.st_mode)) {
		be->sectors = (uint64_t)st.st_size / 512;
		be->discard = !ro && file_discards(fd, st.st_size);
	} else if (S_ISBLK(st.st_mode)) {
		rc = blockdev_geometry(fd, be, phys);
		be->is_blockdev = true;
		be->discard = !ro && blockdev_discards(st.st_rdev);
	} else {
		snprintf(why, wl, "%s: not a regular file or block device", cfg->path);
		close(fd);
		return -EINVAL;
	}
	if (rc < 0) {
		snprintf(why, wl, "%s: %s", cfg->path, strerror(-rc));
		close(fd);
	}
	return rc;
}

/* ---- one queue ---- */

static void report(struct vbd_dpq *q)
{
	struct blkback_stats s = blkback_stats(q->bb);
	struct vbd_dp *dp = q->dp;

	/* Guest-caused: rate-limited, and once per change. */
	if (s.closed && !q->told.closed)
		log_guest(&dp->rl, dp->name, "queue %u: the frontend's req_prod claims more than the ring holds: "
			  "ring closed until it reconnects", q->q);
	if (s.errors != q->told.errors)
		log_guest(&dp->rl, dp->name, "queue %u: %llu requests answered with an error so far", q->q,
			  (unsigned long long)s.errors);
	q->told = s;
}

static void on_kick(void *ctx, int fd, uint32_t events)
{
	struct vbd_dpq *q = ctx;
	uint64_t v;

	(void)events;
	(void)!read(fd, &v, sizeof(v));
	blkback_kick(q->bb);
	report(q);
}

static void on_io(void *ctx, int fd, uint32_t events)
{
	struct vbd_dpq *q = ctx;

	(void)fd;
	(void)events;
	blkback_on_io(q->bb);
	report(q);
}

static void notify(void *ctx)
{
	struct vbd_dpq *q = ctx;

	q->dp->h.evtchn->notify(q->dp->h.evtchn_ctx, q->ev.port);
}

static void unlisten(void *p)
{
	struct vbd_dpq *q = p;
	struct evl *l = q->dp->h.loop;

	evl_del(l, q->kick_src);
	evl_del(l, q->io_src);
	q->kick_src = q->io_src = NULL;
}

static int listen_q(void *p)
{
	struct vbd_dpq *q = p;
	struct evl *l = q->dp->h.loop;
	int rc = evl_add_fd(l, q->ev.kick_fd, EPOLLIN, on_kick, q, &q->kick_src);

	if (rc == 0 && blkback_io_fd(q->bb) >= 0)
		rc = evl_add_fd(l, blkback_io_fd(q->bb), EPOLLIN, on_io, q, &q->io_src);
	if (rc < 0)
		unlisten(q);
	return rc;
}

static bool listening(const void *p)
{
	const struct vbd_dpq *q = p;

	return q->kick_src != NULL;
}

static int quiesce_q(void *p)
{
	struct vbd_dpq *q = p;
	int rc = blkback_quiesce(q->bb);

	if (rc < 0)
		log_err(q->dp->name, "queue %u: I/O did not finish: %s", q->q, strerror(-rc));
	return rc;
}

static int resume_q(void *p)
{
	return blkback_resume(((struct vbd_dpq *)p)->bb);
}

static const struct be_queue_ops queue_ops = {
	.rings = "ring", .quiesce = quiesce_q, .resume = resume_q,
	.listening = listening, .listen = listen_q, .unlisten = unlisten,
};

static void close_q(struct vbd_dpq *q)
{
	unlisten(q);
	if (q->bb) {
		struct blkback_stats s = blkback_stats(q->bb);

		log_info(q->dp->name, "queue %u: %llu requests (%llu errors) on %llu kicks and %llu engine wake-ups, "
			 "%llu notifications", q->q, (unsigned long long)s.requests, (unsigned long long)s.errors,
			 (unsigned long long)s.kicks, (unsigned long long)s.io_wakeups,
			 (unsigned long long)s.notifies);
		(void)quiesce_q(q);
		blkback_destroy(q->bb);
		q->bb = NULL;
	}
	be_port_close(&q->ev, q->dp->h.evtchn, q->dp->h.evtchn_ctx);
}

static unsigned order_of(unsigned pages)
{
	unsigned o = 0;

	while ((1u << o) < pages)
		o++;
	return o;
}

static int open_q(struct vbd_dp *dp, unsigned i, const struct vbd_front *fe, const struct vbd_pos *pos, char *why,
		  size_t wl)
{
	struct vbd_dpq *q = &dp->q[i];
	struct blkback_pos bpos;
	struct blkback_config c = {
		.protocol = fe->protocol == VBD_PROTO_X86_32 ? XEN_IO_PROTO_ABI_X86_32 : XEN_IO_PROTO_ABI_X86_64,
		.ring_order = order_of(fe->nr_ring_pages),
		.ring_refs = fe->rings[i].ref,
		.features = (dp->be.readonly ? 0 : BLKBACK_F_FLUSH) | (dp->be.discard ? BLKBACK_F_DISCARD : 0),
		.max_indirect_segs = BLKBACK_MAX_INDIRECT_SEGS,
		.backend = dp->be,
		.gnt = dp->h.gnt,
		.engine = dp->h.engine,
		.notify = notify,
		.notify_ctx = q,
	};
	int rc;

	*q = (struct vbd_dpq){ .dp = dp, .q = i };
	be_port_init(&q->ev, fe->rings[i].evtchn);
	/* blkback's xen_blkif_map: the event channel, then the ring. */
	rc = be_port_open(&q->ev, dp->h.evtchn, dp->h.evtchn_ctx, pos != NULL, why, wl);
	if (rc < 0)
		return rc;
	if (pos) {
		bpos = (struct blkback_pos){ pos[i].req_cons, pos[i].rsp_prod_pvt };
		c.pos = &bpos;
	}
	rc = blkback_create(&c, &q->bb);
	if (rc == -EPROTONOSUPPORT)
		snprintf(why, wl, "the x86_32 blkif protocol is not supported");
	else if (rc == -ENOSYS)
		snprintf(why, wl, "queue %u: this kernel cannot restrict an io_uring ring to the disk's "
			 "operations (IORING_SETUP_R_DISABLED, Linux 5.10 and later): no ring is made", i);
	else if (rc < 0)
		snprintf(why, wl, "mapping the ring of queue %u (ring-ref %u...): %s", i, fe->rings[i].ref[0],
			 strerror(-rc));
	if (rc == 0)
		rc = be_queue_listen(&queue_ops, q, why, wl);
	return rc;
}

/* ---- the seam ---- */

static void dp_free(struct vbd_dp *dp)
{
	for (unsigned i = 0; i < dp->nq; i++)
		close_q(&dp->q[i]);
	if (dp->fd >= 0)
		close(dp->fd);
	free(dp);
}

int vbd_datapath_connect(void *host, const struct vbd_cfg *cfg, const struct vbd_front *fe,
			 const struct vbd_pos *pos, void **out, struct vbd_disk_info *info, char *why, size_t wl)
{
	const struct vbd_host *h = host;
	struct vbd_dp *dp;
	unsigned phys = 512;
	int rc;

	*out = NULL;
	if (!h || fe->nr_queues == 0 || fe->nr_queues > VBD_MAX_QUEUES) {
		snprintf(why, wl, "no data path for %u queues", fe->nr_queues);
		return -EINVAL;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->h = *h;
	dp->fd = -1;
	dp->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5, 10);
	snprintf(dp->name, sizeof(dp->name), "%s/vbd%u", h->name ? h->name : "vbd", cfg->devid);
	rc = open_backing(cfg, &dp->be, &phys, why, wl);
	if (rc == 0)
		dp->fd = dp->be.fd;
	for (unsigned i = 0; rc == 0 && i < fe->nr_queues; i++) {
		dp->nq = i + 1;
		rc = open_q(dp, i, fe, pos, why, wl);
	}
	if (rc < 0) {
		dp_free(dp);
		return rc;
	}
	/* Whatever the guest pushed before (or while no one served, after a
	 * restore) is picked up now; later pushes notify. */
	for (unsigned i = 0; i < dp->nq; i++) {
		blkback_kick(dp->q[i].bb);
		report(&dp->q[i]);
	}
	*info = (struct vbd_disk_info){ .sectors = dp->be.sectors, .sector_size = dp->be.sector_size,
					.physical_sector_size = phys, .flush_cache = !dp->be.readonly,
					.discard = dp->be.discard };
	log_info(dp->name, "connected: %s, %llu sectors%s, %u queue(s) of %u page(s)%s", cfg->path,
		 (unsigned long long)dp->be.sectors, dp->be.readonly ? ", read-only" : "", dp->nq, fe->nr_ring_pages,
		 pos ? ", resumed" : "");
	*out = dp;
	return 0;
}

int vbd_datapath_quiesce(void *p)
{
	struct vbd_dp *dp = p;
	int rc = be_queues_quiesce(&queue_ops, dp->q, sizeof(dp->q[0]), dp->nq);

	/* What the guest was told is written must be in the image before the
	 * save ends, flushed or not: the guest goes on believing it, maybe from
	 * another monitor (a restore) or another host, and a qcow2/vhd
	 * daemon's metadata cache dies with this monitor (vmm/blk/qsd.h). */
	if (rc == 0 && dp->fd >= 0 && fdatasync(dp->fd) < 0 && errno != EINVAL) {
		rc = -errno;
		log_err(dp->name, "flushing the image for the save: %s", strerror(-rc));
	}
	dp->quiesced = true;
	return rc;
}

int vbd_datapath_resume(void *p, char *why, size_t wl)
{
	struct vbd_dp *dp = p;
	int rc = be_queues_resume(&queue_ops, dp->q, sizeof(dp->q[0]), dp->nq, why, wl);

	if (rc == 0)
		dp->quiesced = false;
	return rc;
}

int vbd_datapath_save(void *p, struct vbd_pos pos[VBD_MAX_QUEUES])
{
	struct vbd_dp *dp = p;

	for (unsigned i = 0; i < dp->nq; i++) {
		struct blkback_pos b;
		int rc = blkback_save(dp->q[i].bb, &b);

		if (rc < 0)
			return rc;
		pos[i] = (struct vbd_pos){ b.req_cons, b.rsp_prod_pvt };
	}
	return 0;
}

void vbd_datapath_disconnect(void *p)
{
	struct vbd_dp *dp = p;

	if (!dp)
		return;
	log_info(dp->name, "disconnected");
	dp_free(dp);
}
