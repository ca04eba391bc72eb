/* Monitor threads with a stop descriptor (see worker.h). */
#include "worker.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int worker_init(struct worker *w)
{
	*w = (struct worker)WORKER_INIT;
	w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return w->stop_fd < 0 ? -errno : 0;
}

int worker_start(struct worker *w, void *(*fn)(void *), void *arg)
{
	int rc = pthread_create(&w->thread, NULL, fn, arg);

	w->started = rc == 0;
	return -rc;
}

void worker_stop(struct worker *w)
{
	uint64_t one = 1;
	int *fds[] = { &w->stop_fd };

	if (w->started && write(w->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(w->thread, NULL);
	w->started = 0;
	close_fds(fds, 1);
}

void close_fds(int *const *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
