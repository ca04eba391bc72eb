/* The ring under the io_uring engine (blk_uring.c), apart so tests can
 * check what it refuses. */
#ifndef DOMUS_VMM_BLK_URING_H
#define DOMUS_VMM_BLK_URING_H

#include <liburing.h>

/* A ring of depth (1..4096) entries, efd registered for its completions, that runs
 * only the engine's operations: READV, WRITEV, FSYNC, FALLOCATE without SQE
 * flags; any other SQE completes with -EACCES and io_uring_register is
 * refused.  -ENOSYS: the kernel cannot restrict a ring (before Linux 5.10),
 * and no ring is made. */
int blk_uring_ring_init(struct io_uring *ring, unsigned depth, int efd);

#endif
