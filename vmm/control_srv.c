/* One control connection: receive, check, dispatch, reply (control_srv.h). */
#include "control_srv.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "domus/log.h"

int control_handle(int conn, const struct control_ops *ops, void *ctx)
{
	unsigned char scratch[sizeof(struct ctl_hdr) + CTL_PAYLOAD_MAX];
	struct ctl_msg req, rep;
	char why[CTL_ERROR_TEXT_MAX] = "", bad[CTL_ERROR_TEXT_MAX];
	control_op_fn *fn;
	const char *name;
	int rc = ctl_recv(conn, &req, why, sizeof(why));

	if (rc == -EPIPE)
		return rc;
	if (rc < 0) {
		/* Refused, its descriptors closed: the sender learns why. */
		log_warn("control", "request refused: %s", why);
		ctl_error_init(&rep, req.hdr.id, req.hdr.type, rc, "%s", why);
		goto send;
	}
	name = ctl_type_name(req.hdr.type);
	fn = req.hdr.type < ops->n ? ops->fn[req.hdr.type] : NULL;
	ctl_reply_init(&rep, &req);
	if (fn) {
		rc = fn(ctx, &req, &rep, why, sizeof(why));
	} else {
		rc = -ENOSYS;
		snprintf(why, sizeof(why), "%s: not supported by this monitor", name);
	}
	ctl_msg_close_fds(&req);
	if (rc < 0)
		ctl_error_init(&rep, req.hdr.id, req.hdr.type, rc, "%s", why[0] ? why : strerror(-rc));
	else if (ctl_encode(&rep, scratch, sizeof(scratch), bad, sizeof(bad)) < 0) {
		/* A bug here, not the client's: it still gets an answer. */
		log_err("control", "%s reply not sent: %s", name, bad);
		ctl_error_init(&rep, req.hdr.id, req.hdr.type, -EIO, "the monitor built a bad %s reply", name);
	}
send:
	rc = ctl_send(conn, &rep, why, sizeof(why));
	return rc;
}

void control_serve(int conn, const struct control_ops *ops, void *ctx, int stop_fd, int idle_ms)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = conn, .events = POLLIN }, { .fd = stop_fd, .events = POLLIN } };
		int n = poll(p, 2, idle_ms);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || p[1].revents)
			return;
		if (control_handle(conn, ops, ctx) < 0)
			return;
	}
}
