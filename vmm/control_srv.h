/* Serving the control protocol (domus/ctl_proto.h) on one accepted
 * connection, apart from what the requests act on: the monitor binds it to
 * its VM (control.c), tests to a domain of their own. */
#ifndef DOMUS_VMM_CONTROL_SRV_H
#define DOMUS_VMM_CONTROL_SRV_H

#include <stddef.h>

#include "domus/ctl_proto.h"

/* Acts on req and fills rep, which comes as the empty reply to req (a
 * payload sets rep->hdr.len).  It may keep a descriptor of req by setting
 * it to -1; the others are closed after it.  0, or a negative errno with
 * the error reply's text in why (strerror when left empty). */
typedef int control_op_fn(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl);

/* fn[type] serves requests of that type; a type without one is answered
 * -ENOSYS, "TYPE: not supported by this monitor". */
struct control_ops {
	control_op_fn *const *fn;
	size_t n;
};

/* Receives one request on conn and answers it, refusals included: 0, or
 * -EPIPE when the peer has closed, or another negative errno when conn
 * cannot be answered any more. */
int control_handle(int conn, const struct control_ops *ops, void *ctx);

/* Answers the requests on conn until the peer closes, stop_fd (-1: none)
 * fires, or idle_ms pass without a request. */
void control_serve(int conn, const struct control_ops *ops, void *ctx, int stop_fd, int idle_ms);

#endif
