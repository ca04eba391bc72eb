/* What the hot-plug commands share (block-attach/-detach/-list in
 * ts_block.c, network-attach/-detach/-list in ts_net.c), after libxl's
 * libxl_device.c: the per-domain lock, the monitor told of a device
 * (device_add, device_remove), the steps of an attach and their undo
 * (struct ts_dev_op), and the unplug of
 * libxl__initiate_device_generic_remove (online 0 and Closing in one
 * transaction, then the wait for Closed). */
#include "ts.h"
#include "xl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

#define POLL_MS 50

int ts_dev_lock(uint32_t domid)
{
	char dir[256];
	int fd;

	if (ts_dom_dir(domid, dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

void ts_dev_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

long ts_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int ts_xs_read_int(struct xs_handle *xs, const char *path)
{
	unsigned len;
	char *v = xs_read(xs, XBT_NULL, path, &len), *end;
	long n;

	if (!v)
		return -1;
	n = strtol(v, &end, 10);
	if (end == v || n < INT32_MIN || n > INT32_MAX)
		n = -1;
	free(v);
	return (int)n;
}

int ts_dev_add(uint32_t domid, const char *kind, const char *option, const char *arg, char *err, size_t el)
{
	struct ctl_msg req, rep;
	int rc = ctl_device_add_init(&req, (uint32_t)getpid(), kind, arg);

	if (rc < 0) {
		snprintf(err, el, "its %s value is too long for the control protocol (%zu bytes, at most %d)", option,
			 strlen(arg), CTL_DEVICE_ARG_MAX - 1);
		return rc;
	}
	return ts_control_call(domid, &req, &rep, err, el);
}

int ts_dev_remove(uint32_t domid, const char *kind, int devid, int timeout_ms, char *err, size_t el)
{
	struct ctl_msg req, rep;
	int rc = ctl_device_remove_init(&req, (uint32_t)getpid(), kind, (uint32_t)devid);

	return rc < 0 ? rc : ts_control_call_ms(domid, &req, &rep, timeout_ms, err, el);
}

int ts_dev_start_remove(struct xs_handle *xs, const char *fe, const char *be, bool force)
{
	char state_path[300], online_path[300], five[4];

	snprintf(state_path, sizeof(state_path), "%s/state", be);
	snprintf(online_path, sizeof(online_path), "%s/online", be);
	snprintf(five, sizeof(five), "%d", XenbusStateClosing);
	for (int tries = 0; tries < 5; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);
		unsigned len;
		char *state;

		if (t == XBT_NULL)
			return -errno;
		if (force)
			xs_rm(xs, t, fe);
		state = xs_read(xs, t, state_path, &len);
		if (!state) {
			/* backend gone: clean up the frontend only */
			xs_transaction_end(xs, t, !force);
			return 1;
		}
		if (!xs_write(xs, t, online_path, "0", 1) ||
		    (atoi(state) != XenbusStateClosed && !xs_write(xs, t, state_path, five, (unsigned)strlen(five)))) {
			free(state);
			xs_transaction_end(xs, t, true);
			return -errno;
		}
		free(state);
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

int ts_dev_wait_closed(struct xs_handle *xs, const char *be, int timeout_ms, int *state)
{
	char path[300];
	long end = ts_now_ms() + timeout_ms;

	snprintf(path, sizeof(path), "%s/state", be);
	for (;;) {
		*state = ts_xs_read_int(xs, path);
		if (*state == XenbusStateClosed || *state < 0)
			return 0; /* closed, or the backend directory is gone */
		if (ts_now_ms() >= end)
			return -ETIMEDOUT;
		usleep(POLL_MS * 1000);
	}
}

int ts_dev_begin(struct ts_dev_op *op, const char *cmd, const struct ts_dev_kind *k, const char *dom)
{
	int rc;

	*op = (struct ts_dev_op){ .cmd = cmd, .k = k, .lock = -1 };
	rc = ts_dom_lookup(dom, &op->d);
	if (rc < 0)
		return rc; /* said */
	op->lock = ts_dev_lock(op->d.domid);
	if (op->lock < 0) {
		fprintf(stderr, "xl: %s: domain %s: %s\n", cmd, dom, strerror(-op->lock));
		return op->lock;
	}
	return 0;
}

int ts_dev_open_xs(struct ts_dev_op *op)
{
	op->xs = ts_xs_open();
	if (op->xs)
		return 0;
	snprintf(op->err, sizeof(op->err), "cannot connect to xenstored");
	return -ECONNREFUSED;
}

void ts_dev_refused(struct ts_dev_op *op)
{
	char why[CTL_ERROR_TEXT_MAX + 64];

	snprintf(why, sizeof(why), "%.*s", CTL_ERROR_TEXT_MAX, op->err);
	snprintf(op->err, sizeof(op->err), "the monitor of domain %s refused %s: %s", op->d.name, op->name, why);
}

int ts_dev_plug(struct ts_dev_op *op, const char *arg)
{
	int rc = ts_dev_add(op->d.domid, op->k->kind, op->k->option, arg, op->err, sizeof(op->err));

	if (rc < 0)
		ts_dev_refused(op);
	op->added = rc == 0;
	return rc;
}

int ts_dev_write_nodes(struct ts_dev_op *op, int (*write)(struct xs_handle *xs, uint32_t t, const void *arg),
		       const void *arg)
{
	int rc = ts_xs_transact(op->xs, write, arg);

	if (rc < 0)
		snprintf(op->err, sizeof(op->err), "writing the xenstore nodes of %s: %s", op->name, strerror(-rc));
	op->written = rc == 0;
	return rc;
}

void ts_dev_unplug(struct ts_dev_op *op, int devid)
{
	if (op->added && ts_dev_remove(op->d.domid, op->k->kind, devid, op->k->remove_ms, NULL, 0) < 0)
		fprintf(stderr, "xl: warning: the back end of %s may remain in domain %s's monitor\n", op->name,
			op->d.name);
	op->added = false;
}

void ts_dev_release(struct ts_dev_op *op, int devid)
{
	int rc = ts_dev_remove(op->d.domid, op->k->kind, devid, op->k->remove_ms, op->err, sizeof(op->err));

	if (rc < 0 && rc != -ENOENT)
		fprintf(stderr, "xl: warning: domain %s: the monitor did not release %s: %s\n", op->d.name, op->name,
			op->err);
}

int ts_dev_end(struct ts_dev_op *op, int rc, const char *failed)
{
	if (op->xs)
		xs_close(op->xs);
	op->xs = NULL;
	ts_dev_unlock(op->lock);
	op->lock = -1;
	if (rc >= 0)
		return 0;
	if (op->err[0])
		fprintf(stderr, "xl: %s: %s\n", op->cmd, op->err);
	if (failed)
		fprintf(stderr, "%s\n", failed);
	return 1;
}

int ts_dom_qualifier(const char *q, uint32_t *domid)
{
	struct ts_dom *v;
	size_t n;
	char *end;
	unsigned long id = strtoul(q, &end, 10);
	int rc = -ENOENT;

	if (*q >= '0' && *q <= '9' && !*end) {
		if (id > UINT32_MAX)
			return -EINVAL;
		*domid = (uint32_t)id;
		return 0;
	}
	if (strcmp(q, "Domain-0") == 0) {
		*domid = 0;
		return 0;
	}
	if (ts_dom_list(&v, &n) < 0)
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].name, q) == 0) {
			*domid = v[i].domid;
			rc = 0;
			break;
		}
	}
	free(v);
	return rc;
}
