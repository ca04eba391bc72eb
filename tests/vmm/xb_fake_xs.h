/* The xenstore the control-side tests of the vbd and the vif
 * (test_xenbus_vbd.c, test_xenbus_vif.c) give the state machine: the
 * frontend's keys and the backend's own as kv_text.h text, and every key
 * written, state and error node appended to one log line
 * ("feature-sg=1 state=2 error=\"22 ...\""), which the tests compare. */
#ifndef DOMUS_TESTS_XB_FAKE_XS_H
#define DOMUS_TESTS_XB_FAKE_XS_H

#include <stddef.h>

#include "xenbus/xb_core.h"

struct xb_fake_xs {
	char log[2048];
	const char *fe; /* the frontend's keys */
	const char *be; /* the backend's own, for ops->ready (NULL: none) */
};

/* io over f: fe_keys, be_keys, be_read, set_state and set_error. */
void xb_fake_xs_io(struct xb_fake_xs *f, struct xb_io *io);
/* The readers of f->fe and f->be (ctx: f), for a struct xb_reader. */
int xb_fake_xs_read_fe(void *ctx, const char *key, char *buf, size_t len);
int xb_fake_xs_read_be(void *ctx, const char *key, char *buf, size_t len);

#endif
