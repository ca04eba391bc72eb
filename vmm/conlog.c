/* The guest's console log with its bounds (conlog.h). */
#include "conlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "domus/log.h"

/* Returns how much was written: a full disk ends the write, not the log. */
static size_t write_all(int fd, const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return done;
}

static int open_log(const char *path, int flags, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | flags, 0640);

	if (fd < 0)
		return -errno;
	*size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return fd;
}

static void say(struct conlog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line of ours in the log, not counted against the rate bound: the
 * guest cannot make us write more of them than of its own bytes. */
static void say(struct conlog *l, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		l->size += write_all(l->fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* PATH becomes PATH.1 (rename replaces an older one) and a fresh PATH
 * takes over.  If either step fails the cap still holds: the file we
 * write to is emptied instead, losing its old output rather than the
 * disk. */
static void rotate(struct conlog *l)
{
	char when[32] = "?";
	const char *base = strrchr(l->old_path, '/');
	time_t t = time(NULL);
	struct tm tm;
	uint64_t size = 0; /* open_log sets it; GCC -O2 with Debian's flags cannot tell */
	int fd = -1;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	if (rename(l->path, l->old_path) < 0)
		log_warn(l->ctx, "console log %s: cannot rename it to %s: %s", l->path, l->old_path, strerror(errno));
	else if ((fd = open_log(l->path, O_TRUNC, &size)) < 0)
		log_warn(l->ctx, "console log %s: cannot open it again: %s", l->path, strerror(-fd));
	if (fd >= 0) {
		close(l->fd);
		l->fd = fd;
	} else if (ftruncate(l->fd, 0) < 0) {
		log_err(l->ctx, "console log %s: cannot empty it: %s", l->path, strerror(errno));
	}
	l->size = 0;
	say(l, "[domus: console log rotated at %s UTC: the earlier output is in %s]\n", when,
	    base ? base + 1 : l->old_path);
}

static void put(struct conlog *l, const char *buf, size_t len)
{
	struct stat st;

	if (l->cfg.max_bytes && l->size && l->size + len > l->cfg.max_bytes) {
		/* copytruncate may have emptied the file behind our back. */
		if (fstat(l->fd, &st) == 0)
			l->size = (uint64_t)st.st_size;
		if (l->size && l->size + len > l->cfg.max_bytes)
			rotate(l);
	}
	l->size += write_all(l->fd, buf, len);
}

/* Whole periods since the last refill each add cfg.rate, up to cfg.burst. */
static void refill(struct conlog *l, uint64_t now_ms)
{
	uint64_t n;

	if (!l->cfg.burst || now_ms < l->period_at + l->cfg.period_ms)
		return;
	n = (now_ms - l->period_at) / l->cfg.period_ms;
	l->period_at += n * l->cfg.period_ms;
	if (!l->cfg.rate)
		return;
	/* Many idle periods: n * rate could wrap. */
	l->tokens = n > l->cfg.burst / l->cfg.rate ? l->cfg.burst : l->tokens + n * l->cfg.rate;
	if (l->tokens > l->cfg.burst)
		l->tokens = l->cfg.burst;
}

/* The end of an episode: said where the guest's output resumes, so the
 * gap shows where it is.  Only bytes that reached the log count here;
 * what the vCPU threads' queue dropped before (console.c flush_queue)
 * never reached it and is told in the monitor's own log. */
static void tell_dropped(struct conlog *l)
{
	say(l, "\n[domus: %llu bytes of console output dropped: the guest wrote faster than the log takes]\n",
	    (unsigned long long)l->dropped);
	l->dropped = 0;
}

void conlog_write(struct conlog *l, const char *buf, size_t len, uint64_t now_ms)
{
	size_t take = len;

	if (l->fd < 0 || !len)
		return;
	if (l->cfg.burst) {
		refill(l, now_ms);
		if (take > l->tokens)
			take = (size_t)l->tokens;
		l->tokens -= take;
	}
	if (take && l->dropped)
		tell_dropped(l);
	if (take)
		put(l, buf, take);
	l->dropped += len - take;
}

int conlog_tick(struct conlog *l, uint64_t now_ms)
{
	if (l->fd < 0 || !l->dropped)
		return 0;
	refill(l, now_ms);
	if (l->tokens)
		tell_dropped(l);
	return l->dropped ? 1 : 0;
}

int conlog_open(struct conlog *l, const char *path, const struct conlog_cfg *cfg, const char *ctx,
		uint64_t now_ms)
{
	size_t n = strlen(path);
	int rc = 0;

	*l = (struct conlog){ .fd = -1, .cfg = *cfg, .ctx = ctx, .tokens = cfg->burst, .period_at = now_ms };
	if (l->cfg.burst && !l->cfg.period_ms)
		l->cfg.period_ms = CONLOG_PERIOD_MS;
	l->path = strdup(path);
	l->old_path = malloc(n + 3);
	if (!l->path || !l->old_path) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(l->old_path, path, n);
	memcpy(l->old_path + n, ".1", 3);
	rc = open_log(path, 0, &l->size);
	if (rc >= 0) {
		l->fd = rc;
		rc = 0;
	}
out:
	if (rc < 0)
		conlog_close(l);
	return rc;
}

int conlog_reopen(struct conlog *l)
{
	uint64_t size = 0; /* open_log sets it; GCC -O2 with Debian's flags cannot tell */
	int fd;

	if (l->fd < 0)
		return 0;
	fd = open_log(l->path, 0, &size);
	if (fd < 0) {
		log_err(l->ctx, "console log %s: cannot reopen it (writing on to the old file): %s", l->path,
			strerror(-fd));
		return fd;
	}
	close(l->fd);
	l->fd = fd;
	l->size = size;
	return 0;
}

void conlog_close(struct conlog *l)
{
	if (l->fd >= 0) {
		if (l->dropped)
			tell_dropped(l);
		close(l->fd);
	}
	free(l->path);
	free(l->old_path);
	l->path = l->old_path = NULL;
	l->fd = -1;
}

int conlog_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		char c;
		unsigned shift;
	} units[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 } };
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	for (size_t i = 0; *end && i < sizeof(units) / sizeof(units[0]); i++) {
		if ((*end & ~0x20) == units[i].c) {
			shift = units[i].shift;
			end++;
			break;
		}
	}
	if (*end || v > (UINT64_MAX >> shift) || (v && (v << shift) < 4096))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}
