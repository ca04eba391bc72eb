/* Runs `nclients` forked clients for `secs` seconds and sums their counts:
 * shared by xsbench (libxenstore) and sockbase (bare socket). */
#ifndef BENCH_CLIENTS_H
#define BENCH_CLIENTS_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* prepare(i, arg) runs in child i before the start line; step(arg) does one
 * operation and returns 0, or -1 to abort.  Returns total ops per second, or
 * a negative number if a client failed. */
static inline double bench_run(int nclients, double secs, void *(*prepare)(int, void *),
			       int (*step)(void *), void *arg)
{
	int ready[2], go[2], res[2];
	double t0, t1, total = 0;
	int failed = 0;
	pid_t pids[256];

	if (nclients < 1 || nclients > 256)
		return -1;
	if (pipe(ready) || pipe(go) || pipe(res))
		return -1;
	for (int i = 0; i < nclients; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			void *st = prepare(i, arg);
			long n = -1;
			char c = st ? 1 : 0;

			if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
				_exit(1);
			if (st) {
				double end = bench_now() + secs;

				n = 0;
				do {
					for (int k = 0; k < 50; k++, n++)
						if (step(st) < 0) {
							n = -1;
							goto out;
						}
				} while (bench_now() < end);
			}
out:
			if (write(res[1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
	}
	for (int i = 0; i < nclients; i++) {
		char c = 0;

		if (read(ready[0], &c, 1) != 1 || !c)
			failed = 1;
	}
	t0 = bench_now();
	for (int i = 0; i < nclients; i++)
		if (write(go[1], "g", 1) != 1)
			failed = 1;
	for (int i = 0; i < nclients; i++) {
		long n = -1;

		if (read(res[0], &n, sizeof(n)) != sizeof(n) || n < 0)
			failed = 1;
		else
			total += (double)n;
	}
	t1 = bench_now();
	for (int i = 0; i < nclients; i++)
		waitpid(pids[i], NULL, 0);
	close(ready[0]), close(ready[1]), close(go[0]), close(go[1]), close(res[0]), close(res[1]);
	return failed ? -1 : total / (t1 - t0);
}

#endif
