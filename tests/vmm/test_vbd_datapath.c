/* The vbd's data path (vmm/xenbus/vbd_datapath.c) on a real event loop,
 * io_uring and a sparse file, with a fake guest (blk_fake.c: RAM, a grant
 * table core, a ring written as blkfront would) and a fake event channel
 * that records the binding: connect maps the ring and binds the port; the
 * guest's kick (a write to the bound eventfd, what KVM does in kernel)
 * gets requests served on the loop thread; quiesce releases every grant;
 * resume and a restored connect go on at the saved positions; read-only
 * disks refuse writes; every failure leaves nothing held or bound. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "blk/qsd.h"
#include "blk_fake.h"
#include "evloop.h"
#include "xenbus/vbd.h"
#include "xenbus/vbd_datapath.h"

#define PORT 9
#define DATA_REF 10 /* refs DATA_REF.. name RAM pages 10.. */

struct fake_ev {
	int binds, unbinds, notifies;
	bool restored;
	int fd;           /* the bound kick eventfd, -1 if none */
	uint32_t port;
	int refuse;       /* bind answers this */
};

static int ev_bind(void *ctx, uint32_t port, int kick_fd, bool restored)
{
	struct fake_ev *e = ctx;

	if (e->refuse)
		return e->refuse;
	if (e->fd >= 0)
		return -EBUSY;
	e->binds++;
	e->fd = kick_fd;
	e->port = port;
	e->restored = restored;
	return 0;
}

static void ev_unbind(void *ctx, uint32_t port, int kick_fd)
{
	struct fake_ev *e = ctx;

	assert_int_equal(port, e->port);
	assert_int_equal(kick_fd, e->fd);
	e->unbinds++;
	e->fd = -1;
}

static void ev_notify(void *ctx, uint32_t port)
{
	struct fake_ev *e = ctx;

	assert_int_equal(port, e->port);
	__atomic_fetch_add(&e->notifies, 1, __ATOMIC_SEQ_CST);
}

static const struct be_evtchn_ops ev_ops = { ev_bind, ev_unbind, ev_notify, NULL };

struct t {
	struct fake_guest f;
	struct fake_ev ev;
	struct evl *loop;
	struct vbd_host host;
	struct vbd_cfg cfg;
	struct vbd_front fe;
	void *dp;
	struct vbd_disk_info info;
	char why[256];
	const struct vbd_pos *pos;
	int rc;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(fake_init(&t->f, 0, false, true), 0);
	assert_int_equal(evl_create(&t->loop, 16), 0);
	assert_int_equal(evl_start(t->loop), 0);
	t->ev.fd = -1;
	t->host = (struct vbd_host){ .loop = t->loop, .gnt = t->f.gnt, .evtchn = &ev_ops, .evtchn_ctx = &t->ev,
				     .name = "test" };
	t->fe = (struct vbd_front){ .nr_queues = 1, .nr_ring_pages = 1,
				    .rings = { { .evtchn = PORT, .ref = { t->f.ring_refs[0] } } } };
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	evl_stop(t->loop);
	evl_destroy(t->loop);
	fake_fini(&t->f);
	free(t);
	return 0;
}

static void cfg(struct t *t, const char *fmt, const char *mode, const char *path)
{
	char arg[256];

	snprintf(arg, sizeof(arg), "51712,vbd,%s,%s,disk,%s", fmt, mode, path);
	assert_int_equal(vbd_parse_arg(arg, &t->cfg, t->why, sizeof(t->why)), 0);
}

/* The seam runs on the loop thread, as the xenbus binding calls it. */
static int connect_here(void *arg)
{
	struct t *t = arg;

	t->why[0] = '\0';
	return vbd_datapath_connect(&t->host, &t->cfg, &t->fe, t->pos, &t->dp, &t->info, t->why, sizeof(t->why));
}

static int quiesce_here(void *arg)
{
	return vbd_datapath_quiesce(((struct t *)arg)->dp);
}

static int resume_here(void *arg)
{
	struct t *t = arg;

	return vbd_datapath_resume(t->dp, t->why, sizeof(t->why));
}

static int disconnect_here(void *arg)
{
	struct t *t = arg;

	vbd_datapath_disconnect(t->dp);
	t->dp = NULL;
	return 0;
}

static int holds_here(void *arg)
{
	return (int)((struct t *)arg)->f.core.holds;
}

static int do_connect(struct t *t)
{
	return evl_sync(t->loop, connect_here, t);
}

/* The loop answers when io_uring completes: wait (5 s at most). */
static void wait_rsp(struct t *t, RING_IDX prod)
{
	for (int n = 0; n < 500 && fake_rsp_prod(&t->f) != prod; n++)
		usleep(10 * 1000);
	assert_int_equal(fake_rsp_prod(&t->f), prod);
}

/* One request of one page at sector, data page `page`, pushed at index i,
 * and the guest's notification; waits for its response. */
static blkif_response_t rw(struct t *t, RING_IDX i, uint8_t op, uint64_t sector, unsigned page)
{
	blkif_request_t req = { .operation = op, .nr_segments = 1, .id = 0x100 + i, .sector_number = sector };
	blkif_response_t rsp = { 0 };
	uint64_t one = 1;

	fake_grant(&t->f, DATA_REF + page, page, op == BLKIF_OP_WRITE);
	req.seg[0] = (struct blkif_request_segment){ .gref = DATA_REF + page, .first_sect = 0, .last_sect = 7 };
	fake_put_req(&t->f, i, &req);
	fake_push(&t->f, i + 1);
	assert_int_equal(write(t->ev.fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	wait_rsp(t, i + 1);
	fake_get_rsp(&t->f, i, &rsp);
	assert_int_equal(rsp.id, 0x100 + i);
	assert_int_equal(rsp.operation, op);
	return rsp;
}

static void fill(struct t *t, unsigned page, uint8_t seed)
{
	uint8_t *p = fake_page(&t->f, page);

	for (unsigned i = 0; i < BLK_PAGE; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void test_connect_serve_quiesce_resume(void **state)
{
	struct t *t = *state;
	uint8_t disk[BLK_PAGE];
	struct vbd_pos pos[VBD_MAX_QUEUES];

	cfg(t, "raw", "w", t->f.path);
	assert_int_equal(do_connect(t), 0);
	assert_int_equal(t->info.sectors, FAKE_DISK_SECTORS);
	assert_int_equal(t->info.sector_size, 512);
	assert_true(t->info.flush_cache);
	assert_int_equal(t->ev.binds, 1);
	assert_int_equal(t->ev.port, PORT);
	assert_false(t->ev.restored);
	/* the ring stays mapped while connected: one hold */
	assert_int_equal(evl_sync(t->loop, holds_here, t), 1);

	fill(t, 20, 3);
	assert_int_equal(rw(t, 0, BLKIF_OP_WRITE, 64, 20).status, BLKIF_RSP_OKAY);
	assert_int_equal(pread(t->f.fd, disk, sizeof(disk), 64 * 512), (ssize_t)sizeof(disk));
	assert_memory_equal(disk, fake_page(&t->f, 20), sizeof(disk));
	assert_int_equal(rw(t, 1, BLKIF_OP_READ, 64, 21).status, BLKIF_RSP_OKAY);
	assert_memory_equal(fake_page(&t->f, 21), disk, sizeof(disk));
	/* past the end: an error, the ring goes on */
	assert_int_equal(rw(t, 2, BLKIF_OP_READ, FAKE_DISK_SECTORS - 4, 22).status, BLKIF_RSP_ERROR);
	assert_int_equal(evl_sync(t->loop, holds_here, t), 1);

	/* a save: nothing held, the port stays bound, positions 3/3 */
	assert_int_equal(evl_sync(t->loop, quiesce_here, t), 0);
	/* the guest asked (rsp_event) and was told, through its port */
	assert_true(__atomic_load_n(&t->ev.notifies, __ATOMIC_SEQ_CST) >= 1);
	assert_int_equal(evl_sync(t->loop, holds_here, t), 0);
	assert_int_equal(t->ev.unbinds, 0);
	assert_int_equal(vbd_datapath_save(t->dp, pos), 0);
	assert_int_equal(pos[0].req_cons, 3);
	assert_int_equal(pos[0].rsp_prod_pvt, 3);
	/* that goes on */
	assert_int_equal(evl_sync(t->loop, resume_here, t), 0);
	assert_int_equal(evl_sync(t->loop, holds_here, t), 1);
	fill(t, 23, 9);
	assert_int_equal(rw(t, 3, BLKIF_OP_WRITE, 0, 23).status, BLKIF_RSP_OKAY);

	assert_int_equal(evl_sync(t->loop, disconnect_here, t), 0);
	assert_int_equal(t->ev.unbinds, 1);
	assert_int_equal(t->f.core.holds, 0);
}

/* A restore: a new data path at the saved positions, on the port the
 * loaded table has; what the guest pushed meanwhile is served at once. */
static void test_restored_connect(void **state)
{
	struct t *t = *state;
	struct vbd_pos pos[VBD_MAX_QUEUES] = { { 5, 5 } };
	blkif_request_t req = { .operation = BLKIF_OP_READ, .nr_segments = 1, .id = 0x55, .sector_number = 0 };
	blkif_response_t rsp;

	cfg(t, "raw", "w", t->f.path);
	/* the guest's ring as the save left it, one request pushed since */
	fake_sring(&t->f)->rsp_prod = 5;
	fake_grant(&t->f, DATA_REF, 0, false);
	req.seg[0] = (struct blkif_request_segment){ .gref = DATA_REF, .first_sect = 0, .last_sect = 7 };
	fake_put_req(&t->f, 5, &req);
	fake_push(&t->f, 6);
	t->pos = pos;
	assert_int_equal(do_connect(t), 0);
	assert_true(t->ev.restored);
	wait_rsp(t, 6); /* no kick: the connect itself looked */
	fake_get_rsp(&t->f, 5, &rsp);
	assert_int_equal(rsp.id, 0x55);
	assert_int_equal(rsp.status, BLKIF_RSP_OKAY);
	assert_int_equal(rw(t, 6, BLKIF_OP_READ, 8, 1).status, BLKIF_RSP_OKAY);
	assert_int_equal(evl_sync(t->loop, disconnect_here, t), 0);
	assert_int_equal(t->f.core.holds, 0);
}

/* mode r: no flush offered, every write refused, the file unchanged. */
static void test_readonly(void **state)
{
	struct t *t = *state;
	uint8_t before[BLK_PAGE], after[BLK_PAGE];

	assert_int_equal(pwrite(t->f.fd, "domus", 5, 0), 5);
	assert_int_equal(pread(t->f.fd, before, sizeof(before), 0), (ssize_t)sizeof(before));
	cfg(t, "raw", "r", t->f.path);
	assert_int_equal(do_connect(t), 0);
	assert_false(t->info.flush_cache);
	assert_false(t->info.discard);
	fill(t, 30, 1);
	assert_int_equal(rw(t, 0, BLKIF_OP_WRITE, 0, 30).status, BLKIF_RSP_ERROR);
	assert_int_equal(rw(t, 1, BLKIF_OP_FLUSH_DISKCACHE, 0, 31).status, BLKIF_RSP_EOPNOTSUPP);
	assert_int_equal(rw(t, 2, BLKIF_OP_READ, 0, 32).status, BLKIF_RSP_OKAY);
	assert_memory_equal(fake_page(&t->f, 32), before, sizeof(before));
	assert_int_equal(evl_sync(t->loop, disconnect_here, t), 0);
	assert_int_equal(pread(t->f.fd, after, sizeof(after), 0), (ssize_t)sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
}

/* A block device (a loop device over the test's file; skipped where none
 * can be had): its size from BLKGETSIZE64, I/O through it reaches the file. */
static void test_blockdev(void **state)
{
	struct t *t = *state;
	uint8_t disk[BLK_PAGE];
	char dev[32];
	int fd;

	fd = fake_loop_attach(t->f.fd, dev, sizeof(dev));
	if (fd < 0) {
		skip();
		return;
	}
	cfg(t, "raw", "w", dev);
	assert_int_equal(do_connect(t), 0);
	assert_int_equal(t->info.sectors, FAKE_DISK_SECTORS);
	assert_int_equal(t->info.sector_size, 512);
	fill(t, 40, 5);
	assert_int_equal(rw(t, 0, BLKIF_OP_WRITE, 16, 40).status, BLKIF_RSP_OKAY);
	assert_int_equal(rw(t, 1, BLKIF_OP_FLUSH_DISKCACHE, 16, 40).status, BLKIF_RSP_OKAY);
	assert_int_equal(evl_sync(t->loop, disconnect_here, t), 0);
	(void)ioctl(fd, LOOP_CLR_FD, 0);
	close(fd);
	assert_int_equal(pread(t->f.fd, disk, sizeof(disk), 16 * 512), (ssize_t)sizeof(disk));
	assert_memory_equal(disk, fake_page(&t->f, 40), sizeof(disk));
	assert_int_equal(t->f.core.holds, 0);
}

static uint64_t used(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/* A qcow2 disk (qemu-storage-daemon's raw view, vmm/blk/qsd.h) served as
 * the monitor serves it: size, flush and discard offered, writes read
 * back through the ring, a discard frees the cluster in the image, which
 * checks clean once the daemon is gone.  Skipped without the daemon,
 * qemu-img, /dev/fuse or root. */
static void test_qcow2(void **state)
{
	struct t *t = *state;
	char dir[] = "/tmp/vbd-qcow2-XXXXXX", img[64], cmd[256];
	struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .id = 0x200, .sector_number = 2048,
					   .nr_sectors = 128 };
	struct qsd_cfg qc = { .format = "qcow2", .name = "qsd-51712" };
	blkif_response_t rsp;
	uint64_t one = 1, full, trimmed;
	struct qsd *q = NULL;
	RING_IDX i = 0;
	pid_t pid;

	if (geteuid() != 0 || access("/dev/fuse", W_OK) < 0 ||
	    system("command -v qemu-storage-daemon >/dev/null && command -v qemu-img >/dev/null") != 0) {
		skip();
		return;
	}
	assert_non_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/d.qcow2", dir);
	snprintf(cmd, sizeof(cmd), "qemu-img create -q -f qcow2 %s %u", img, FAKE_DISK_SECTORS * 512);
	assert_int_equal(system(cmd), 0);
	qc.image = img;
	qc.dir = dir;
	assert_int_equal(qsd_start(&qc, &q, t->why, sizeof(t->why)), 0);
	pid = qsd_pid(q);
	cfg(t, "qcow2", "w", img);
	snprintf(t->cfg.store, sizeof(t->cfg.store), "%s", qsd_path(q));
	assert_int_equal(do_connect(t), 0);
	assert_int_equal(t->info.sectors, FAKE_DISK_SECTORS);
	assert_true(t->info.flush_cache);
	assert_true(t->info.discard);

	/* one 64 KiB cluster at 1 MiB, page by page, then a flush */
	for (unsigned p = 0; p < 16; p++, i++) {
		fill(t, 20 + p, (uint8_t)p);
		assert_int_equal(rw(t, i, BLKIF_OP_WRITE, 2048 + p * 8, 20 + p).status, BLKIF_RSP_OKAY);
	}
	assert_int_equal(rw(t, i, BLKIF_OP_FLUSH_DISKCACHE, 0, 40).status, BLKIF_RSP_OKAY);
	i++;
	assert_int_equal(rw(t, i, BLKIF_OP_READ, 2048 + 5 * 8, 41).status, BLKIF_RSP_OKAY);
	i++;
	assert_memory_equal(fake_page(&t->f, 41), fake_page(&t->f, 25), BLK_PAGE);
	/* xl save -c: quiesced, nothing held, the daemon untouched; it goes on */
	assert_int_equal(evl_sync(t->loop, quiesce_here, t), 0);
	assert_int_equal(evl_sync(t->loop, holds_here, t), 0);
	assert_int_equal(evl_sync(t->loop, resume_here, t), 0);
	full = used(img);

	fake_put_req(&t->f, i, &d);
	fake_push(&t->f, i + 1);
	assert_int_equal(write(t->ev.fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	wait_rsp(t, i + 1);
	fake_get_rsp(&t->f, i, &rsp);
	assert_int_equal(rsp.status, BLKIF_RSP_OKAY);
	i++;
	assert_int_equal(rw(t, i, BLKIF_OP_FLUSH_DISKCACHE, 0, 40).status, BLKIF_RSP_OKAY);
	i++;
	trimmed = used(img);
	assert_true(full - trimmed >= 64 * 1024);
	assert_int_equal(rw(t, i, BLKIF_OP_READ, 2048, 42).status, BLKIF_RSP_OKAY);
	for (unsigned b = 0; b < BLK_PAGE; b++)
		assert_int_equal(fake_page(&t->f, 42)[b], 0);

	assert_int_equal(evl_sync(t->loop, disconnect_here, t), 0);
	assert_int_equal(t->f.core.holds, 0);
	qsd_stop(q);
	assert_int_equal(kill(pid, 0), -1);
	snprintf(cmd, sizeof(cmd), "qemu-img check -q %s && rm -rf %s", img, dir);
	assert_int_equal(system(cmd), 0);
}

/* A read-only qcow2 (the daemon and the view read-only): no flush or
 * discard offered, writes refused, reads served, the image unchanged. */
static void test_qcow2_readonly(void **state)
{
	struct t *t = *state;
	char dir[] = "/tmp/vbd-qcow2-XXXXXX", img[64], cmd[256];
	struct qsd_cfg qc = { .format = "qcow2", .readonly = true, .name = "qsd-51712" };
	struct qsd *q = NULL;

	if (geteuid() != 0 || access("/dev/fuse", W_OK) < 0 ||
	    system("command -v qemu-storage-daemon >/dev/null && command -v qemu-img >/dev/null") != 0) {
		skip();
		return;
	}
	assert_non_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/d.qcow2", dir);
	snprintf(cmd, sizeof(cmd), "qemu-img create -q -f qcow2 %s %u && cp %s %s.orig", img,
		 FAKE_DISK_SECTORS * 512, img, img);
	assert_int_equal(system(cmd), 0);
	qc.image = img;
	qc.dir = dir;
	assert_int_equal(qsd_start(&qc, &q, t->why, sizeof(t->why)), 0);
	cfg(t, "qcow2", "r", img);
	snprintf(t->cfg.store, sizeof(t->cfg.store), "%s", qsd_path(q));
	assert_int_equal(do_connect(t), 0);
	assert_int_equal(t->info.sectors, FAKE_DISK_SECTORS);
	assert_false(t->info.flush_cache);
	assert_false(t->info.discard);
	fill(t, 30, 1);
	assert_int_equal(rw(t, 0, BLKIF_OP_WRITE, 0, 30).status, BLKIF_RSP_ERROR);
	assert_int_equal(rw(t, 1, BLKIF_OP_READ, 0, 31).status, BLKIF_RSP_OKAY);
	for (unsigned b = 0; b < BLK_PAGE; b++)
		assert_int_equal(fake_page(&t->f, 31)[b], 0);
	assert_int_equal(evl_sync(t->loop, disconnect_here, t), 0);
	qsd_stop(q);
	snprintf(cmd, sizeof(cmd), "cmp -s %s %s.orig && rm -rf %s", img, img, dir);
	assert_int_equal(system(cmd), 0);
}

/* Each refusal says why and leaves nothing mapped, bound or open. */
static void test_refusals(void **state)
{
	struct t *t = *state;
	char dir[] = "/tmp/vbd-dp-XXXXXX";

	assert_non_null(mkdtemp(dir));
	cfg(t, "qcow2", "w", t->f.path);
	assert_int_equal(do_connect(t), -EOPNOTSUPP);
	assert_non_null(strstr(t->why, "qcow2 format is not supported"));
	cfg(t, "raw", "w", "/nonexistent/disk.img");
	assert_int_equal(do_connect(t), -ENOENT);
	assert_non_null(strstr(t->why, "/nonexistent/disk.img"));
	cfg(t, "raw", "r", dir);
	assert_int_equal(do_connect(t), -EINVAL);
	assert_non_null(strstr(t->why, "not a regular file or block device"));
	assert_int_equal(t->ev.binds, 0);

	cfg(t, "raw", "w", t->f.path);
	t->ev.refuse = -EINVAL;
	assert_int_equal(do_connect(t), -EINVAL);
	assert_string_equal(t->why, "binding event-channel 9");
	t->ev.refuse = 0;
	/* a ring ref the guest never granted: the port is let go again */
	t->fe.rings[0].ref[0] = 7;
	assert_true(do_connect(t) < 0);
	assert_non_null(strstr(t->why, "(ring-ref 7...)"));
	assert_int_equal(t->ev.binds, 1);
	assert_int_equal(t->ev.unbinds, 1);
	t->fe.rings[0].ref[0] = t->f.ring_refs[0];
	t->fe.protocol = VBD_PROTO_X86_32;
	assert_int_equal(do_connect(t), -EPROTONOSUPPORT);
	assert_string_equal(t->why, "the x86_32 blkif protocol is not supported");
	assert_int_equal(t->ev.unbinds, 2);
	assert_null(t->dp);
	assert_int_equal(t->f.core.holds, 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_serve_quiesce_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restored_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blockdev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qcow2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qcow2_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
