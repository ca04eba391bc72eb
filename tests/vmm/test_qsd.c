/* qcow2 and vhd images through qemu-storage-daemon (vmm/blk/qsd.c): the
 * export is a raw file of the image's virtual size; what is written reaches
 * the image, which grows by about that much, stays clean for qemu-img check
 * and reads back the same as a raw copy (qemu-img compare); a discard frees
 * clusters; a flush reaches the image; read-only refuses writes; the daemon
 * is gone after stop, when its parent is killed with SIGKILL, and after a
 * failed start, which says QEMU's reason for a corrupt image.
 *
 * Needs qemu-storage-daemon and qemu-img (Debian's qemu-system-common and
 * qemu-utils), /dev/fuse and the right to mount (root): skipped without. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <liburing.h>

#include "blk/qsd.h"

#define MiB (1024u * 1024u)

struct t {
	char dir[64];
	char img[128], raw[128];
};

static bool have_tools(void)
{
	return geteuid() == 0 && access("/dev/fuse", R_OK | W_OK) == 0 &&
	       system("command -v qemu-storage-daemon >/dev/null && command -v qemu-img >/dev/null") == 0;
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/test-qsd-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->img, sizeof(t->img), "%s/d.img", t->dir);
	snprintf(t->raw, sizeof(t->raw), "%s/ref.raw", t->dir);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static uint64_t used(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

static bool alive(pid_t pid)
{
	return kill(pid, 0) == 0;
}

static struct qsd *start(struct t *t, const char *fmt, bool ro)
{
	struct qsd_cfg c = { .image = t->img, .format = fmt, .readonly = ro, .dir = t->dir, .name = "qsd-51712" };
	struct qsd *q = NULL;
	char why[256] = "";

	if (qsd_start(&c, &q, why, sizeof(why)) < 0)
		fail_msg("qsd_start: %s", why);
	return q;
}

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 12));
}

/* Writes 4 MiB at 16 MiB through the export, and the same into a raw file. */
static void write_both(struct t *t, int fd)
{
	static uint8_t buf[4 * MiB];
	int rfd = open(t->raw, O_RDWR | O_CREAT, 0600);

	assert_true(rfd >= 0);
	assert_int_equal(ftruncate(rfd, 64 * MiB), 0);
	pattern(buf, sizeof(buf), 1);
	assert_int_equal(pwrite(fd, buf, sizeof(buf), 16 * MiB), (ssize_t)sizeof(buf));
	assert_int_equal(pwrite(rfd, buf, sizeof(buf), 16 * MiB), (ssize_t)sizeof(buf));
	close(rfd);
}

/* The qcow2 grows by what was written (its clusters are 64 KiB: 4 MiB and
 * some metadata), reads back, checks clean and compares equal to the raw
 * copy; the daemon and its file are gone after stop. */
static void test_qcow2_grows_as_written(void **state)
{
	struct t *t = *state;
	static uint8_t back[4 * MiB], want[4 * MiB];
	uint64_t before, after;
	struct qsd *q;
	struct stat st;
	char path[512];
	pid_t pid;
	int fd;

	if (!have_tools()) {
		skip();
		return;
	}
	assert_int_equal(sh("qemu-img create -q -f qcow2 %s 64M", t->img), 0);
	before = used(t->img);
	q = start(t, "qcow2", false);
	pid = qsd_pid(q);
	snprintf(path, sizeof(path), "%s", qsd_path(q));
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 64 * MiB);
	write_both(t, fd);
	assert_int_equal(fdatasync(fd), 0);
	pattern(want, sizeof(want), 1);
	assert_int_equal(pread(fd, back, sizeof(back), 16 * MiB), (ssize_t)sizeof(back));
	assert_memory_equal(back, want, sizeof(back));
	/* past the end: nothing */
	assert_int_equal(pread(fd, back, 512, 64 * MiB), 0);
	close(fd);
	qsd_stop(q);
	assert_false(alive(pid));
	assert_int_equal(access(path, F_OK), -1);

	after = used(t->img);
	assert_true(after - before >= 4 * MiB);
	assert_true(after - before <= 4 * MiB + 1 * MiB);
	assert_int_equal(sh("qemu-img check -q %s", t->img), 0);
	assert_int_equal(sh("qemu-img compare -q -f qcow2 -F raw %s %s", t->img, t->raw), 0);
}

/* A discard through the export (what blk_uring's fallocate does for a
 * guest's BLKIF_OP_DISCARD) frees the clusters in the image. */
/* Many writes in flight at once through the view, opened as the vbd's data
 * path opens it (vbd_datapath.c open_backing: buffered), each read back.
 * With O_DIRECT, QEMU 7.2's FUSE export put concurrent writes' data at
 * each other's offsets (fio --direct=1 --iodepth=32 --verify=crc32c on the
 * view fails in seconds; --iodepth=1 or buffered passes): this is the test
 * that the data path's way does not. */
static void test_concurrent_writes(void **state)
{
	enum { SLOTS = 32, ROUNDS = 8, SLOT = 128 * 1024 };
	struct t *t = *state;
	static uint8_t buf[SLOTS][SLOT], back[SLOT];
	struct io_uring ring;
	struct qsd *q;
	unsigned len[ROUNDS][SLOTS];
	int fd;

	if (!have_tools())
		skip();
	assert_int_equal(sh("qemu-img create -q -f qcow2 %s 64M", t->img), 0);
	q = start(t, "qcow2", false);
	fd = open(qsd_path(q), O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(io_uring_queue_init(SLOTS, &ring, 0), 0);
	for (unsigned r = 0; r < ROUNDS; r++) {
		for (unsigned i = 0; i < SLOTS; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			len[r][i] = 4096u * (1 + (r * 7 + i * 13) % 32);
			pattern(buf[i], len[r][i], r * SLOTS + i + 1);
			io_uring_prep_write(sqe, fd, buf[i], len[r][i], (uint64_t)(r * SLOTS + i) * SLOT);
		}
		assert_int_equal(io_uring_submit(&ring), SLOTS);
		for (unsigned i = 0; i < SLOTS; i++) {
			struct io_uring_cqe *cqe;

			assert_int_equal(io_uring_wait_cqe(&ring, &cqe), 0);
			assert_true(cqe->res > 0);
			io_uring_cqe_seen(&ring, cqe);
		}
	}
	assert_int_equal(fdatasync(fd), 0);
	for (unsigned r = 0; r < ROUNDS; r++)
		for (unsigned i = 0; i < SLOTS; i++) {
			pattern(buf[0], len[r][i], r * SLOTS + i + 1);
			assert_int_equal(pread(fd, back, len[r][i], (off_t)(r * SLOTS + i) * SLOT), (ssize_t)len[r][i]);
			if (memcmp(back, buf[0], len[r][i]) != 0)
				fail_msg("round %u slot %u (%u bytes at %u KiB) does not read back", r, i, len[r][i],
					 (r * SLOTS + i) * SLOT / 1024);
		}
	io_uring_queue_exit(&ring);
	close(fd);
	qsd_stop(q);
	assert_int_equal(sh("qemu-img check -q %s", t->img), 0);
}

static void test_qcow2_discard_frees(void **state)
{
	struct t *t = *state;
	uint8_t buf[64 * 1024];
	uint64_t full, trimmed;
	struct qsd *q;
	int fd;

	if (!have_tools()) {
		skip();
		return;
	}
	assert_int_equal(sh("qemu-img create -q -f qcow2 %s 64M", t->img), 0);
	q = start(t, "qcow2", false);
	fd = open(qsd_path(q), O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	pattern(buf, sizeof(buf), 2);
	for (unsigned off = 0; off < 8 * MiB; off += sizeof(buf))
		assert_int_equal(pwrite(fd, buf, sizeof(buf), 8 * MiB + off), (ssize_t)sizeof(buf));
	assert_int_equal(fdatasync(fd), 0);
	full = used(t->img);
	assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8 * MiB, 8 * MiB), 0);
	assert_int_equal(fdatasync(fd), 0);
	trimmed = used(t->img);
	assert_true(full - trimmed >= 7 * MiB);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(pread(fd, buf, sizeof(buf), 12 * MiB), (ssize_t)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	close(fd);
	qsd_stop(q);
	assert_int_equal(sh("qemu-img check -q %s", t->img), 0);
}

/* vhd (QEMU's vpc driver) the same way. */
static void test_vhd(void **state)
{
	struct t *t = *state;
	struct qsd *q;
	int fd;

	if (!have_tools()) {
		skip();
		return;
	}
	assert_int_equal(sh("qemu-img create -q -f vpc -o subformat=dynamic,force_size=on %s 64M", t->img), 0);
	q = start(t, "vhd", false);
	fd = open(qsd_path(q), O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	write_both(t, fd);
	assert_int_equal(fsync(fd), 0);
	close(fd);
	qsd_stop(q);
	assert_int_equal(sh("qemu-img compare -q -f vpc -F raw %s %s", t->img, t->raw), 0);
}

/* Read-only: writes and discards through the export fail, the image is
 * unchanged (same bytes). */
static void test_readonly(void **state)
{
	struct t *t = *state;
	struct stat a, b;
	struct qsd *q;
	int fd;

	if (!have_tools()) {
		skip();
		return;
	}
	assert_int_equal(sh("qemu-img create -q -f qcow2 %s 64M", t->img), 0);
	assert_int_equal(sh("cp %s %s.orig", t->img, t->img), 0);
	assert_int_equal(stat(t->img, &a), 0);
	q = start(t, "qcow2", true);
	/* root may open the 0444 export for writing; the write fails */
	fd = open(qsd_path(q), O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		assert_int_equal(pwrite(fd, "x", 1, 0), -1);
		assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 65536), -1);
		close(fd);
	}
	fd = open(qsd_path(q), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	close(fd);
	qsd_stop(q);
	assert_int_equal(stat(t->img, &b), 0);
	assert_int_equal(a.st_size, b.st_size);
	assert_int_equal(sh("cmp -s %s %s.orig", t->img, t->img), 0);
}

/* A corrupt image, a raw file named qcow2, a missing file: each fails
 * with QEMU's reason, and nothing is left: no child, no file. */
static void test_failed_start_leaves_nothing(void **state)
{
	struct t *t = *state;
	struct qsd_cfg c = { .image = t->img, .format = "qcow2", .dir = t->dir, .name = "qsd-1" };
	struct qsd *q = NULL;
	char why[256], path[256], bin[128];

	if (!have_tools()) {
		skip();
		return;
	}
	snprintf(path, sizeof(path), "%s/qsd-1", t->dir);
	/* qcow2 magic, version 3, then garbage (a cluster_bits of 0) */
	assert_int_equal(sh("printf 'QFI\\373\\0\\0\\0\\3' > %s && head -c 4096 /dev/zero >> %s", t->img, t->img), 0);
	assert_true(qsd_start(&c, &q, why, sizeof(why)) < 0);
	assert_null(q);
	assert_null(strstr(why, "--blockdev"));
	assert_true(strlen(why) > 5);
	print_message("corrupt: %s\n", why);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);

	assert_int_equal(sh("head -c 1048576 /dev/zero > %s", t->img), 0);
	assert_true(qsd_start(&c, &q, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "qcow2"));
	print_message("raw as qcow2: %s\n", why);
	assert_int_equal(access(path, F_OK), -1);

	unlink(t->img);
	assert_true(qsd_start(&c, &q, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "No such file"));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);

	c.binary = "/nonexistent/qemu-storage-daemon";
	assert_int_equal(sh("qemu-img create -q -f qcow2 %s 64M", t->img), 0);
	assert_true(qsd_start(&c, &q, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "cannot run"));
	assert_int_equal(access(path, F_OK), -1);

	/* a daemon that never exports: killed and reaped at the timeout */
	snprintf(bin, sizeof(bin), "%s/hang", t->dir);
	assert_int_equal(sh("printf '#!/bin/sh\nexec sleep 60\n' > %s && chmod +x %s", bin, bin), 0);
	c.binary = bin;
	c.timeout_ms = 300;
	assert_int_equal(qsd_start(&c, &q, why, sizeof(why)), -ETIMEDOUT);
	assert_non_null(strstr(why, "did not export the image within 300 ms"));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* The monitor killed with SIGKILL: its daemon goes too (PDEATHSIG), having
 * unmounted its export.  The test is the subreaper, so it reaps it. */
static void test_dies_with_parent(void **state)
{
	struct t *t = *state;
	char path[256];
	int p[2];
	pid_t mon, qpid = -1;

	if (!have_tools()) {
		skip();
		return;
	}
	assert_int_equal(sh("qemu-img create -q -f qcow2 %s 64M", t->img), 0);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	assert_int_equal(pipe(p), 0);
	mon = fork();
	assert_true(mon >= 0);
	if (mon == 0) {
		struct qsd_cfg c = { .image = t->img, .format = "qcow2", .dir = t->dir, .name = "qsd-2" };
		struct qsd *q;
		char why[256];
		pid_t pid = -1;

		if (qsd_start(&c, &q, why, sizeof(why)) == 0)
			pid = qsd_pid(q);
		(void)!write(p[1], &pid, sizeof(pid));
		pause();
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &qpid, sizeof(qpid)), (ssize_t)sizeof(qpid));
	close(p[0]);
	assert_true(qpid > 0);
	snprintf(path, sizeof(path), "%s/qsd-2", t->dir);
	assert_true(alive(qpid));
	assert_int_equal(kill(mon, SIGKILL), 0);
	assert_int_equal(waitpid(mon, NULL, 0), mon);
	/* reparented to us; it exits on the SIGTERM within 10 s */
	for (int i = 0; i < 1000 && waitpid(qpid, NULL, WNOHANG) != qpid; i++)
		usleep(10 * 1000);
	assert_false(alive(qpid));
	/* what a new monitor (or xl's cleanup) finds: no mount, a file */
	qsd_remove_stale(path);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(sh("qemu-img check -q %s", t->img), 0);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_qcow2_grows_as_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qcow2_discard_frees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vhd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_start_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dies_with_parent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
