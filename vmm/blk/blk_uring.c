/* The io_uring engine (blk_engine.h): every operation is one SQE, results
 * come back as CQEs, and an eventfd registered with the ring
 * (io_uring_register_eventfd) wakes the monitor's event loop.  A short
 * read or write is resubmitted for the rest.  The ring is restricted to
 * the operations prep() makes (blk_uring_ring_init, docs/sandbox.md). */
#include "blk/blk_engine.h"
#include "blk/blk_uring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <liburing.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

struct uring {
	struct io_uring ring;
	int efd, fd;
	int discard_mode;
	unsigned depth, inflight;
	bool pending; /* SQEs prepared and not yet submitted */
};

static void prep(struct uring *u, struct io_uring_sqe *sqe, struct blk_io *io)
{
	switch (io->op) {
	case BLK_IO_READ:
		io_uring_prep_readv(sqe, u->fd, io->iov, io->iovcnt, io->offset + io->done);
		break;
	case BLK_IO_WRITE:
		io_uring_prep_writev(sqe, u->fd, io->iov, io->iovcnt, io->offset + io->done);
		break;
	case BLK_IO_FLUSH:
		io_uring_prep_fsync(sqe, u->fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_IO_DISCARD:
		io_uring_prep_fallocate(sqe, u->fd, u->discard_mode, io->offset, io->len);
		break;
	}
	io_uring_sqe_set_data(sqe, io);
}

/* The SQE opcodes prep() makes, and nothing else: seccomp does not see what
 * a ring runs, so an unrestricted ring would let whoever can enter it open,
 * connect or make sockets past the thread's filter.  No SQE flags and no
 * io_uring_register opcode are allowed once the ring is enabled
 * (io_check_restriction, __io_uring_register: Linux's io_uring/io_uring.c,
 * io_uring/register.c since 6.7). */
static const uint8_t allowed_ops[] = {
	IORING_OP_READV,
	IORING_OP_WRITEV,
	IORING_OP_FSYNC,
	IORING_OP_FALLOCATE,
};

/* io_uring_register(2) itself: Debian 12's liburing 2.3 has
 * io_uring_register_restrictions and io_uring_enable_rings in liburing.h
 * and liburing.a, but its liburing.map leaves them out of liburing.so. */
static int ring_register(struct io_uring *ring, unsigned op, void *arg, unsigned nr)
{
	return syscall(__NR_io_uring_register, ring->ring_fd, op, arg, nr) < 0 ? -errno : 0;
}

int blk_uring_ring_init(struct io_uring *ring, unsigned depth, int efd)
{
	struct io_uring_restriction res[sizeof(allowed_ops)] = { 0 };
	int rc;

	if (depth == 0 || depth > 4096)
		return -EINVAL; /* so that EINVAL below is the flag's */
	for (size_t i = 0; i < sizeof(allowed_ops); i++)
		res[i] = (struct io_uring_restriction){ .opcode = IORING_RESTRICTION_SQE_OP,
							.sqe_op = allowed_ops[i] };
	/* Restrictions can be registered only on a ring made disabled, and
	 * bind from IORING_REGISTER_ENABLE_RINGS on (io_register_restrictions,
	 * io_register_enable_rings).  A kernel before 5.10 knows neither and
	 * refuses the flag with EINVAL: no unrestricted ring then. */
	rc = io_uring_queue_init(depth, ring, IORING_SETUP_R_DISABLED);
	if (rc == -EINVAL)
		return -ENOSYS;
	if (rc < 0)
		return rc;
	/* Registering is not submitting: a disabled ring takes the eventfd. */
	rc = io_uring_register_eventfd(ring, efd);
	if (rc == 0)
		rc = ring_register(ring, IORING_REGISTER_RESTRICTIONS, res, sizeof(allowed_ops));
	if (rc == 0)
		rc = ring_register(ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (rc < 0)
		io_uring_queue_exit(ring);
	return rc < 0 ? rc : 0;
}

static int u_submit(void *eng, struct blk_io *io)
{
	struct uring *u = eng;
	struct io_uring_sqe *sqe;

	if (u->inflight >= u->depth)
		return -EAGAIN;
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		/* The SQ ring is full of prepared entries: start them. */
		int r = io_uring_submit(&u->ring);

		if (r < 0)
			return r;
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return -EAGAIN;
	}
	prep(u, sqe, io);
	u->inflight++;
	u->pending = true;
	return 0;
}

static int u_commit(void *eng)
{
	struct uring *u = eng;
	int r;

	if (!u->pending)
		return 0;
	r = io_uring_submit(&u->ring);
	if (r >= 0)
		u->pending = false;
	return r < 0 ? r : 0;
}

/* Whether the operation goes on (resubmitted) rather than ending with res. */
static bool again(struct uring *u, struct blk_io *io, int *res)
{
	struct io_uring_sqe *sqe;

	if ((io->op == BLK_IO_READ || io->op == BLK_IO_WRITE) && *res >= 0) {
		if (*res == 0 && io->done < io->len) {
			*res = -EIO; /* no progress: end of file or device */
			return false;
		}
		io->done += (unsigned)*res;
		blk_io_advance(io, (unsigned)*res);
		*res = 0;
		if (io->done >= io->len)
			return false;
	} else if (io->op == BLK_IO_DISCARD && *res == -EOPNOTSUPP &&
		   (u->discard_mode & FALLOC_FL_NO_HIDE_STALE)) {
		/* A kernel without the discard mode: zero with unmap allowed
		 * and no fallback (blkdev_fallocate's plain PUNCH_HOLE). */
		u->discard_mode &= ~FALLOC_FL_NO_HIDE_STALE;
	} else {
		if (*res > 0)
			*res = 0;
		return false;
	}
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe && io_uring_submit(&u->ring) >= 0)
		sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		*res = -EAGAIN;
		return false;
	}
	prep(u, sqe, io);
	u->inflight++;
	u->pending = true;
	return true;
}

static int u_reap(void *eng, blk_io_done_fn *done, void *ctx)
{
	struct uring *u = eng;
	struct io_uring_cqe *cqe;
	uint64_t count;
	int n = 0;

	/* Nonblocking: empty when the CQEs were reaped by an earlier call. */
	if (read(u->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return -errno;
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		struct blk_io *io = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&u->ring, cqe);
		u->inflight--;
		if (again(u, io, &res))
			continue;
		done(ctx, io, res);
		n++;
	}
	return u_commit(u) < 0 ? -EIO : n;
}

static int u_wait(void *eng)
{
	struct uring *u = eng;
	struct io_uring_cqe *cqe;

	if (u->inflight == 0)
		return 0;
	return io_uring_wait_cqe(&u->ring, &cqe);
}

static int u_fd(void *eng)
{
	return ((struct uring *)eng)->efd;
}

static void u_destroy(void *eng)
{
	struct uring *u = eng;

	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	close(u->efd);
	free(u);
}

static const struct blk_engine_ops uring_ops = {
	.name = "io_uring", .submit = u_submit, .commit = u_commit, .reap = u_reap,
	.wait = u_wait, .fd = u_fd, .destroy = u_destroy,
};

int blk_uring_create(const struct blk_backend *be, unsigned depth, struct blk_engine *out)
{
	struct uring *u;
	int rc;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fd = be->fd;
	u->depth = depth;
	u->discard_mode = blk_discard_mode(be);
	u->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->efd < 0) {
		rc = -errno;
		free(u);
		return rc;
	}
	rc = blk_uring_ring_init(&u->ring, depth, u->efd);
	if (rc < 0) {
		close(u->efd);
		free(u);
		return rc;
	}
	*out = (struct blk_engine){ &uring_ops, u };
	return 0;
}
