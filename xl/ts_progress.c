/* Progress of a long operation on a file, on a terminal (ts_progress.h). */
#include "ts_progress.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)
#define TICK_MS 250

struct ts_progress {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	int out_fd, fd;
	enum ts_progress_mode mode;
	uint64_t base, total;
	struct timespec t0;
	char what[96];
};

void ts_progress_line(char *buf, size_t len, const char *what, uint64_t done, uint64_t total, double secs)
{
	int n;

	if (total && done > total)
		done = total;
	if (total)
		n = snprintf(buf, len, "xl: %s: %.0f MiB of %.0f MiB (%u %%)", what, done / MIB, total / MIB,
			     (unsigned)(done * 100 / total));
	else
		n = snprintf(buf, len, "xl: %s: %.0f MiB", what, done / MIB);
	if (n > 0 && (size_t)n < len && secs >= 0.5)
		snprintf(buf + n, len - (size_t)n, ", %.0f MiB/s", done / MIB / secs);
}

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static uint64_t seen(const struct ts_progress *p)
{
	struct stat st;
	off_t off;
	uint64_t v = 0;

	if (p->mode == TS_PROGRESS_SIZE) {
		if (fstat(p->fd, &st) == 0 && st.st_size > 0)
			v = (uint64_t)st.st_size;
	} else {
		off = lseek(p->fd, 0, SEEK_CUR);
		if (off > 0)
			v = (uint64_t)off;
	}
	return v > p->base ? v - p->base : 0;
}

/* "\r" and the line, then clear to the end (a shorter line after a longer). */
static void show(const struct ts_progress *p, const char *line)
{
	char out[256];
	int n = snprintf(out, sizeof(out), "\r%s\033[K", line);

	if (n > 0)
		(void)!write(p->out_fd, out, (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1);
}

static void *run(void *arg)
{
	struct ts_progress *p = arg;
	char line[200];

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&p->cond, &p->lock, &until) != ETIMEDOUT)
			continue;
		ts_progress_line(line, sizeof(line), p->what, seen(p), p->total, since(&p->t0));
		show(p, line);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int ts_progress_start(struct ts_progress **out, int out_fd, const char *what, int fd, enum ts_progress_mode mode,
		      uint64_t base, uint64_t total)
{
	struct ts_progress *p;
	int rc;

	*out = NULL;
	if (!isatty(out_fd))
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (struct ts_progress){ .out_fd = out_fd, .fd = fd, .mode = mode, .base = base, .total = total };
	snprintf(p->what, sizeof(p->what), "%s", what);
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	rc = -pthread_create(&p->thread, NULL, run, p);
	if (rc < 0) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void ts_progress_stop(struct ts_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	show(p, ""); /* the terminal's line is clear for what comes next */
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
