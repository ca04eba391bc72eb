/* The I/O engine behind a blkif ring: an ops table, so that the request
 * path does not know whether I/O runs on io_uring (blk_uring.c, the
 * monitor's) or synchronously (blk_sync.c, for the fuzzer and tests).
 *
 * An engine is given operations (struct blk_io) and reports each one's
 * result exactly once, through reap(), never from inside submit(): the
 * request path is never re-entered while it walks the ring. */
#ifndef DOMUS_VMM_BLK_ENGINE_H
#define DOMUS_VMM_BLK_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/* What the caller opened: the backing store, in 512-byte sectors. */
struct blk_backend {
	int fd;               /* stays the caller's */
	uint64_t sectors;     /* size in 512-byte sectors (blkif's unit) */
	uint32_t sector_size; /* logical block size: 512 or a larger power of two */
	bool readonly;
	bool is_blockdev;
	bool discard; /* the store can discard (punch holes); feature-discard */
};

enum blk_io_op { BLK_IO_READ, BLK_IO_WRITE, BLK_IO_FLUSH, BLK_IO_DISCARD };

struct blk_io {
	enum blk_io_op op;
	uint64_t offset, len; /* bytes; READ/WRITE: len is the iovecs' sum */
	struct iovec *iov;    /* READ/WRITE; the engine may advance it */
	unsigned iovcnt;
	uint64_t done;        /* bytes moved so far (engine's) */
};

/* res: 0 when the whole operation was done, -errno otherwise. */
typedef void blk_io_done_fn(void *ctx, struct blk_io *io, int res);

struct blk_engine_ops {
	const char *name;
	/* Queue io; 0, or -errno with nothing queued (then no completion). */
	int (*submit)(void *eng, struct blk_io *io);
	/* Start what submit queued (one syscall per batch). */
	int (*commit)(void *eng);
	/* Report every finished operation; returns how many, or -errno. */
	int (*reap)(void *eng, blk_io_done_fn *done, void *ctx);
	/* Block until at least one operation finished (quiesce only). */
	int (*wait)(void *eng);
	/* A descriptor that turns readable when reap() has work (for
	 * evl_add_fd), or -1 for an engine that completes at submit. */
	int (*fd)(void *eng);
	void (*destroy)(void *eng);
};

struct blk_engine {
	const struct blk_engine_ops *ops;
	void *eng;
};

/* io_uring (liburing): depth operations in flight at most. */
int blk_uring_create(const struct blk_backend *be, unsigned depth, struct blk_engine *out);
/* preadv/pwritev/fdatasync/fallocate on the caller's thread, completions
 * queued for reap(): depth operations queued at most. */
int blk_sync_create(const struct blk_backend *be, unsigned depth, struct blk_engine *out);

/* The fallocate mode of a discard (docs/blkback.md): a hole in a regular
 * file; on a block device the mode for which Linux's blkdev_fallocate
 * issues blkdev_issue_discard, BLKDISCARD's own call (block/fops.c). */
int blk_discard_mode(const struct blk_backend *be);
/* Advance io's iovecs past n bytes just moved (a short transfer). */
void blk_io_advance(struct blk_io *io, uint64_t n);

#endif
