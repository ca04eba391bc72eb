/* The guest's console log (/var/log/xen/console/guest-NAME.log), bounded
 * so that one guest cannot fill Domain-0's disk nor keep the monitor
 * writing flat out (issue 12):
 * - a size cap: a write that would take the file past it first rotates it
 *   (the file becomes PATH.1, replacing an older one, and a fresh PATH
 *   starts with a line saying so): at most about twice the cap per guest;
 * - a reopen (SIGHUP) for logrotate's move-and-create; copytruncate works
 *   as is, since every write appends (O_APPEND);
 * - a rate bound: a burst, then so many bytes per period; the excess is
 *   dropped and the log says how much, once, where output resumes.
 * Xen's xenconsoled has no cap (it leaves that to logrotate), reopens its
 * logs on SIGHUP and bounds a domain by events per period
 * (RATE_LIMIT_ALLOWANCE per RATE_LIMIT_PERIOD, tools/console/daemon/io.c)
 * and by its buffer (discard_overflowed_data).
 * Plain file I/O with the time passed in: one thread (the monitor's event
 * loop) uses a struct conlog, and unit tests drive it without a VM. */
#ifndef DOMUS_VMM_CONLOG_H
#define DOMUS_VMM_CONLOG_H

#include <stddef.h>
#include <stdint.h>

/* The cap unless --console-log-max or DOMUS_CONSOLE_LOG_MAX says otherwise. */
#define CONLOG_MAX_DEFAULT (16ull << 20)
/* The rate bound: a guest may write CONLOG_BURST at once (a boot log, the
 * lab's 290 KiB flood), then CONLOG_RATE per CONLOG_PERIOD_MS (640 KiB/s). */
#define CONLOG_BURST (1u << 20)
#define CONLOG_RATE (128u << 10)
#define CONLOG_PERIOD_MS 200u

struct conlog_cfg {
	uint64_t max_bytes; /* the cap; 0: none */
	uint64_t burst;     /* bytes the bucket holds; 0: no rate bound */
	uint64_t rate;      /* bytes added per period */
	unsigned period_ms;
};

#define CONLOG_CFG_DEFAULT                                                                                   \
	(struct conlog_cfg){ .max_bytes = CONLOG_MAX_DEFAULT, .burst = CONLOG_BURST, .rate = CONLOG_RATE,     \
			     .period_ms = CONLOG_PERIOD_MS }

struct conlog {
	char *path, *old_path; /* PATH and PATH.1 */
	int fd;
	struct conlog_cfg cfg;
	uint64_t size;      /* of the file as we last knew it */
	uint64_t tokens;    /* bytes the rate bound lets through now */
	uint64_t period_at; /* ms: the start of the current period */
	uint64_t dropped;   /* bytes dropped in this episode, not yet told */
	const char *ctx;    /* for the monitor's own log (the domain's name) */
};

/* Opens (creates, appends to) path; now_ms a monotonic clock. */
int conlog_open(struct conlog *l, const char *path, const struct conlog_cfg *cfg, const char *ctx,
		uint64_t now_ms);
/* Writes what the rate bound lets through, rotating first if the cap says so. */
void conlog_write(struct conlog *l, const char *buf, size_t len, uint64_t now_ms);
/* Writes the note of an episode of drops once the bound lets output through
 * again, without waiting for the guest's next byte; >0: an episode is still
 * open (the caller asks again after period_ms). */
int conlog_tick(struct conlog *l, uint64_t now_ms);
/* Closes and opens the path again (SIGHUP: logrotate moved the file).  On
 * failure the old descriptor stays, so nothing is lost. */
int conlog_reopen(struct conlog *l);
/* Writes a pending note and closes. */
void conlog_close(struct conlog *l);

/* Parses a size: digits with an optional K, M or G (binary); 0 or from 4 KiB. */
int conlog_parse_size(const char *s, uint64_t *out);

#endif
