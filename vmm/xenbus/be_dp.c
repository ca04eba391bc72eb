/* What the vbd's and the vif's data paths share (be_dp.h). */
#include "be_dp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

void be_port_init(struct be_port *p, uint32_t port)
{
	*p = (struct be_port){ .port = port, .kick_fd = -1 };
}

int be_port_open(struct be_port *p, const struct be_evtchn_ops *ops, void *ctx, bool restored, char *why,
		 size_t wl)
{
	int rc;

	p->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->kick_fd < 0) {
		rc = -errno;
		snprintf(why, wl, "eventfd: %s", strerror(-rc));
		return rc;
	}
	rc = ops->bind(ctx, p->port, p->kick_fd, restored);
	if (rc < 0)
		snprintf(why, wl, "binding event-channel %u", p->port);
	p->bound = rc == 0;
	return rc;
}

void be_port_close(struct be_port *p, const struct be_evtchn_ops *ops, void *ctx)
{
	if (p->bound)
		ops->unbind(ctx, p->port, p->kick_fd);
	p->bound = false;
	if (p->kick_fd >= 0)
		close(p->kick_fd);
	p->kick_fd = -1;
}

int be_queues_quiesce(const struct be_queue_ops *ops, void *q0, size_t size, unsigned nq)
{
	int rc = 0;

	for (unsigned i = 0; i < nq; i++) {
		void *q = (char *)q0 + i * size;
		int r;

		ops->unlisten(q);
		r = ops->quiesce(q);
		if (r < 0)
			rc = r;
	}
	return rc;
}

int be_queue_listen(const struct be_queue_ops *ops, void *q, char *why, size_t wl)
{
	int rc = ops->listen(q);

	if (rc < 0)
		snprintf(why, wl, "event loop: %s", strerror(-rc));
	return rc;
}

int be_queues_resume(const struct be_queue_ops *ops, void *q0, size_t size, unsigned nq, char *why,
		     size_t wl)
{
	int rc = 0;

	for (unsigned i = 0; rc == 0 && i < nq; i++) {
		void *q = (char *)q0 + i * size;

		rc = ops->resume(q);
		if (rc < 0)
			snprintf(why, wl, "mapping the %s of queue %u again: %s", ops->rings, i, strerror(-rc));
		/* A queue still on the loop is not added twice. */
		if (rc == 0 && !ops->listening(q))
			rc = be_queue_listen(ops, q, why, wl);
	}
	return rc;
}
