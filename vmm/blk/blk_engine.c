/* What both engines share (blk_engine.h). */
#include "blk/blk_engine.h"

#include <fcntl.h>
#include <linux/falloc.h>

int blk_discard_mode(const struct blk_backend *be)
{
	/* blkdev_fallocate (Linux 6.1 block/fops.c) maps PUNCH_HOLE |
	 * KEEP_SIZE | NO_HIDE_STALE to blkdev_issue_discard, as the BLKDISCARD
	 * ioctl does; io_uring has fallocate (IORING_OP_FALLOCATE, run by its
	 * workers) but no discard command in liburing 2.3. */
	if (be->is_blockdev)
		return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE | FALLOC_FL_NO_HIDE_STALE;
	return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
}

void blk_io_advance(struct blk_io *io, uint64_t n)
{
	while (n && io->iovcnt) {
		if (n < io->iov->iov_len) {
			io->iov->iov_base = (uint8_t *)io->iov->iov_base + n;
			io->iov->iov_len -= n;
			return;
		}
		n -= io->iov->iov_len;
		io->iov++;
		io->iovcnt--;
	}
}
