/* The synchronous engine (blk_engine.h): each operation is done at submit
 * with preadv/pwritev/fdatasync/fallocate, and its result waits in a queue
 * for reap(), so the request path sees the same order of events as with
 * io_uring.  It blocks the calling thread: for the fuzzer and tests, not
 * for the monitor's event loop. */
#include "blk/blk_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

struct done_entry {
	struct blk_io *io;
	int res;
};

struct sync_eng {
	int fd, discard_mode;
	unsigned depth, head, count;
	struct done_entry q[]; /* depth entries, a circular queue */
};

static int rw(struct sync_eng *s, struct blk_io *io)
{
	while (io->done < io->len) {
		ssize_t n = io->op == BLK_IO_READ
				    ? preadv(s->fd, io->iov, (int)io->iovcnt, (off_t)(io->offset + io->done))
				    : pwritev(s->fd, io->iov, (int)io->iovcnt, (off_t)(io->offset + io->done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		io->done += (uint64_t)n;
		blk_io_advance(io, (uint64_t)n);
	}
	return 0;
}

static int s_submit(void *eng, struct blk_io *io)
{
	struct sync_eng *s = eng;
	int res = 0;

	if (s->count == s->depth)
		return -EAGAIN;
	switch (io->op) {
	case BLK_IO_READ:
	case BLK_IO_WRITE:
		res = rw(s, io);
		break;
	case BLK_IO_FLUSH:
		res = fdatasync(s->fd) < 0 ? -errno : 0;
		break;
	case BLK_IO_DISCARD:
		res = fallocate(s->fd, s->discard_mode, (off_t)io->offset, (off_t)io->len) < 0 ? -errno : 0;
		break;
	}
	s->q[(s->head + s->count++) % s->depth] = (struct done_entry){ io, res };
	return 0;
}

static int s_commit(void *eng)
{
	return 0;
}

static int s_reap(void *eng, blk_io_done_fn *done, void *ctx)
{
	struct sync_eng *s = eng;
	int n = 0;

	/* done() may submit again: take each entry off the queue first. */
	while (s->count) {
		struct done_entry e = s->q[s->head];

		s->head = (s->head + 1) % s->depth;
		s->count--;
		done(ctx, e.io, e.res);
		n++;
	}
	return n;
}

static int s_wait(void *eng)
{
	return 0;
}

static int s_fd(void *eng)
{
	return -1;
}

static void s_destroy(void *eng)
{
	free(eng);
}

static const struct blk_engine_ops sync_ops = {
	.name = "sync", .submit = s_submit, .commit = s_commit, .reap = s_reap,
	.wait = s_wait, .fd = s_fd, .destroy = s_destroy,
};

int blk_sync_create(const struct blk_backend *be, unsigned depth, struct blk_engine *out)
{
	struct sync_eng *s;

	if (depth == 0 || depth > 4096)
		return -EINVAL;
	s = calloc(1, sizeof(*s) + depth * sizeof(s->q[0]));
	if (!s)
		return -ENOMEM;
	s->fd = be->fd;
	s->depth = depth;
	s->discard_mode = blk_discard_mode(be);
	*out = (struct blk_engine){ &sync_ops, s };
	return 0;
}
