/* Progress of a long operation on a file, shown on a terminal (xl(1): save
 * and restore print how far they are; nothing when not on a terminal, so
 * scripts and logs get no carriage returns).  A thread looks at the file
 * every 250 ms while the operation runs elsewhere (in the monitor):
 *  - TS_PROGRESS_SIZE: the file's size grows (xl save: the monitor writes
 *    the fd xl passed it);
 *  - TS_PROGRESS_OFFSET: the offset of the open file (xl restore: the
 *    monitor reads with read(), and an fd passed on shares its offset). */
#ifndef DOMUS_XL_TS_PROGRESS_H
#define DOMUS_XL_TS_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

enum ts_progress_mode { TS_PROGRESS_SIZE, TS_PROGRESS_OFFSET };

struct ts_progress;

/* The line shown for done of total bytes (total 0: not known), in buf:
 * "xl: saving domain 3: 120 MiB of 512 MiB (23 %), 85 MiB/s". */
void ts_progress_line(char *buf, size_t len, const char *what, uint64_t done, uint64_t total, double secs);

/* Starts showing on out_fd if it is a terminal; *out is NULL (and 0
 * returned) when it is not.  base is subtracted from what is seen (the
 * save file's head, written by xl itself). */
int ts_progress_start(struct ts_progress **out, int out_fd, const char *what, int fd, enum ts_progress_mode mode,
		      uint64_t base, uint64_t total);
/* Stops and clears the line (NULL: nothing to do). */
void ts_progress_stop(struct ts_progress *p);

#endif
