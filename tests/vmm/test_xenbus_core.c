/* The xenbus back-end state machine without xenstore (vmm/xenbus/xb_core.c):
 * a fake binding records what the core asks for, in order, as one string. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kv_text.h"

#include "xenbus/xb_core.h"

struct fake {
	char log[2048];
	/* the frontend's keys: "key=value" lines */
	const char *fe;
	int connect_rc, features_rc, end_rc, eagain_left;
	int ready; /* what d_ready answers */
	int connects, disconnects, quiesces, resumes, resume_rc;
	bool in_tx;
};

static void logf_(struct fake *f, const char *fmt, ...)
{
	size_t n = strlen(f->log);
	va_list ap;

	if (n && n < sizeof(f->log) - 1)
		f->log[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(f->log + n, sizeof(f->log) - n, fmt, ap);
	va_end(ap);
}

static int f_set_state(void *ctx, enum xenbus_state s)
{
	logf_(ctx, "state=%d", (int)s);
	return 0;
}

static int f_set_error(void *ctx, const char *msg)
{
	logf_(ctx, "error=\"%s\"", msg);
	return 0;
}

static void f_removed(void *ctx)
{
	logf_(ctx, "removed");
}

static int f_begin(void *ctx)
{
	struct fake *f = ctx;

	assert_false(f->in_tx);
	f->in_tx = true;
	logf_(f, "begin");
	return 0;
}

static int f_end(void *ctx, bool abort)
{
	struct fake *f = ctx;

	assert_true(f->in_tx);
	f->in_tx = false;
	logf_(f, abort ? "abort" : "commit");
	if (!abort && f->eagain_left > 0) {
		f->eagain_left--;
		return -EAGAIN;
	}
	return abort ? 0 : f->end_rc;
}

static int f_read(void *ctx, const char *key, char *buf, size_t len)
{
	return kv_text_lookup(((struct fake *)ctx)->fe, key, buf, len);
}

static int f_write(void *ctx, const char *key, const char *value)
{
	struct fake *f = ctx;

	assert_true(f->in_tx);
	logf_(f, "%s=%s", key, value);
	return 0;
}

/* A device that reads ring-ref and event-channel, as blkback's connect_ring
 * does, and refuses what is not a number. */
static int d_features(void *dev, const struct xb_writer *be, char *why, size_t wl)
{
	struct fake *f = dev;

	if (f->features_rc) {
		snprintf(why, wl, "no features today");
		return f->features_rc;
	}
	return be->write(be->ctx, "feature-flush-cache", "1");
}

static int d_connect(void *dev, const struct xb_reader *fe, const struct xb_writer *be, char *why, size_t wl)
{
	struct fake *f = dev;
	char v[16];
	int rc;

	f->connects++;
	rc = fe->read(fe->ctx, "ring-ref", v, sizeof(v));
	if (rc < 0) {
		snprintf(why, wl, "reading ring-ref");
		return rc;
	}
	if (f->connect_rc) {
		snprintf(why, wl, "mapping ring-ref %s", v);
		return f->connect_rc;
	}
	return be->write(be->ctx, "sectors", "2048");
}

static void d_disconnect(void *dev)
{
	((struct fake *)dev)->disconnects++;
}

static const struct xb_dev_ops dev_ops = {
	.type = "vbd", .features = d_features, .connect = d_connect, .disconnect = d_disconnect,
};

/* A device that keeps its connection across a save (vbd): quiesce,
 * resume, and a part of its own in the record. */
static int d_quiesce(void *dev)
{
	((struct fake *)dev)->quiesces++;
	return 0;
}

static int d_resume(void *dev, const struct xb_writer *be, char *why, size_t wl)
{
	struct fake *f = dev;

	f->resumes++;
	if (f->resume_rc) {
		snprintf(why, wl, "ring gone");
		return f->resume_rc;
	}
	return be->write(be->ctx, "sectors", "2048");
}

static int d_save(void *dev, uint8_t *buf, size_t len)
{
	assert_true(len >= 3);
	memcpy(buf, "pos", 3);
	return 3;
}

static int d_load(void *dev, const uint8_t *buf, size_t len)
{
	return len == 3 && memcmp(buf, "pos", 3) == 0 ? 0 : -EINVAL;
}

static const struct xb_dev_ops keep_ops = {
	.type = "vbd", .features = d_features, .connect = d_connect, .disconnect = d_disconnect,
	.quiesce = d_quiesce, .resume = d_resume, .save = d_save, .load = d_load,
};

struct t {
	struct fake f;
	struct xb_io io;
	struct xb_backend b;
};

static void setup(struct t *t)
{
	memset(t, 0, sizeof(*t));
	t->f.fe = "ring-ref=8\nevent-channel=5\n";
	t->io = (struct xb_io){ .ctx = &t->f, .set_state = f_set_state, .set_error = f_set_error,
				.removed = f_removed, .begin = f_begin, .end = f_end,
				.fe_keys = { &t->f, f_read }, .be_keys = { &t->f, f_write } };
	xb_init(&t->b, &dev_ops, &t->f, &t->io);
}

#define LOG_IS(t, s)                          \
	do {                                  \
		assert_string_equal((t)->f.log, s); \
		(t)->f.log[0] = '\0';          \
	} while (0)

static void test_connect(void **state)
{
	struct t t;

	(void)state;
	setup(&t);
	assert_int_equal(xb_created(&t.b), 0);
	LOG_IS(&t, "begin feature-flush-cache=1 commit state=2");
	/* frontend still setting up: nothing */
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialising), 0);
	LOG_IS(&t, "");
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialised), 0);
	LOG_IS(&t, "begin sectors=2048 commit state=4");
	assert_int_equal(t.b.state, XenbusStateConnected);
	/* the frontend's own Connected, and a repeated event: connect once */
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateConnected), 0);
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateConnected), 0);
	LOG_IS(&t, "");
	assert_int_equal(t.f.connects, 1);
	/* our own state write comes back through the backend watch */
	assert_int_equal(xb_backend_changed(&t.b, true, XenbusStateConnected), 0);
	LOG_IS(&t, "");
}

static void test_created_twice_and_features_fail(void **state)
{
	struct t t;

	(void)state;
	setup(&t);
	assert_int_equal(xb_created(&t.b), 0);
	assert_int_equal(xb_created(&t.b), 0);
	LOG_IS(&t, "begin feature-flush-cache=1 commit state=2");

	setup(&t);
	t.f.features_rc = -EIO;
	assert_int_equal(xb_created(&t.b), -EIO);
	LOG_IS(&t, "begin abort error=\"5 no features today\" state=5");
}

/* Connected straight from InitWait (a frontend that skips Initialised, as
 * Linux may when two watch events merge). */
static void test_connect_from_connected(void **state)
{
	struct t t;

	(void)state;
	setup(&t);
	xb_created(&t.b);
	LOG_IS(&t, "begin feature-flush-cache=1 commit state=2");
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateConnected), 0);
	LOG_IS(&t, "begin sectors=2048 commit state=4");
}

static void test_connect_errors(void **state)
{
	struct t t;

	(void)state;
	setup(&t);
	xb_created(&t.b);
	t.f.log[0] = '\0';
	t.f.connect_rc = -EINVAL;
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialised), -EINVAL);
	LOG_IS(&t, "begin abort error=\"22 mapping ring-ref 8\" state=5");
	assert_int_equal(t.b.state, XenbusStateClosing);
	assert_int_equal(t.b.error, -EINVAL);
	/* in Closing, more frontend events do not retry */
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateConnected), 0);
	LOG_IS(&t, "");
	assert_int_equal(t.f.connects, 1);
	/* the frontend closes; then resets and the backend waits again */
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateClosing), 0);
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateClosed), 0);
	LOG_IS(&t, "state=6");
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialising), 0);
	LOG_IS(&t, "state=2");
	t.f.connect_rc = 0;
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialised), 0);
	LOG_IS(&t, "begin sectors=2048 commit state=4");

	/* a missing key */
	setup(&t);
	t.f.fe = "event-channel=5";
	xb_created(&t.b);
	t.f.log[0] = '\0';
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialised), -ENOENT);
	LOG_IS(&t, "begin abort error=\"2 reading ring-ref\" state=5");

	/* the transaction's commit fails */
	setup(&t);
	xb_created(&t.b);
	t.f.log[0] = '\0';
	t.f.end_rc = -EIO;
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialised), -EIO);
	LOG_IS(&t, "begin sectors=2048 commit error=\"5 connecting to the frontend\" state=5");
	assert_false(t.b.connected);

	/* a commit that races is done again, the device undone in between */
	setup(&t);
	xb_created(&t.b);
	t.f.log[0] = '\0';
	t.f.eagain_left = 2;
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialised), 0);
	LOG_IS(&t, "begin sectors=2048 commit begin sectors=2048 commit begin sectors=2048 commit state=4");
	assert_int_equal(t.f.connects, 3);
	assert_int_equal(t.f.disconnects, 3);
	assert_true(t.b.connected);
	/* and gives up after a few */
	setup(&t);
	t.f.eagain_left = 100;
	assert_int_equal(xb_created(&t.b), -EAGAIN);
	assert_int_equal(t.b.state, XenbusStateClosing);

	/* a state the frontend may not be in */
	setup(&t);
	xb_created(&t.b);
	t.f.log[0] = '\0';
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateReconfiguring), -EINVAL);
	LOG_IS(&t, "error=\"22 saw state 7 at frontend\" state=5");
}

static void test_close_and_reconnect(void **state)
{
	struct t t;

	(void)state;
	setup(&t);
	xb_created(&t.b);
	xb_frontend_changed(&t.b, XenbusStateInitialised);
	t.f.log[0] = '\0';
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateClosing), 0);
	LOG_IS(&t, "state=5");
	int d = t.f.disconnects;
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateClosed), 0);
	LOG_IS(&t, "state=6");
	assert_true(t.f.disconnects > d);
	assert_false(t.b.connected);
	/* online: stays, and a frontend reset reconnects */
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialising), 0);
	LOG_IS(&t, "state=2");
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateConnected), 0);
	LOG_IS(&t, "begin sectors=2048 commit state=4");
}

/* xl's hot-unplug: online 0 and state 5 written into the backend. */
static void test_unplug(void **state)
{
	struct t t;

	(void)state;
	setup(&t);
	xb_created(&t.b);
	xb_frontend_changed(&t.b, XenbusStateConnected);
	t.f.log[0] = '\0';
	assert_int_equal(xb_backend_changed(&t.b, false, XenbusStateClosing), 0);
	LOG_IS(&t, "");
	assert_int_equal(t.b.state, XenbusStateClosing);
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateClosing), 0);
	LOG_IS(&t, "");
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateClosed), 0);
	LOG_IS(&t, "state=6 removed");
	assert_true(t.b.removed);
	/* nothing after removal */
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialising), 0);
	assert_int_equal(xb_backend_changed(&t.b, true, XenbusStateInitialising), 0);
	LOG_IS(&t, "");

	/* before any frontend: removed at once */
	setup(&t);
	xb_created(&t.b);
	xb_frontend_changed(&t.b, XenbusStateInitialising);
	t.f.log[0] = '\0';
	assert_int_equal(xb_backend_changed(&t.b, false, XenbusStateInitWait), 0);
	LOG_IS(&t, "state=6 removed");

	/* the frontend is gone already (Closed): Closing becomes Closed */
	setup(&t);
	xb_created(&t.b);
	xb_frontend_changed(&t.b, XenbusStateClosed);
	t.f.log[0] = '\0';
	assert_int_equal(xb_backend_changed(&t.b, false, XenbusStateClosing), 0);
	LOG_IS(&t, "state=6 removed");

	/* the frontend's directory vanishes (domain destroyed) */
	setup(&t);
	xb_created(&t.b);
	xb_frontend_changed(&t.b, XenbusStateConnected);
	t.f.log[0] = '\0';
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateUnknown), 0);
	LOG_IS(&t, "state=6 removed");
	assert_false(t.b.connected);

	/* online 0 while connected: nothing until the frontend closes */
	setup(&t);
	xb_created(&t.b);
	xb_frontend_changed(&t.b, XenbusStateConnected);
	t.f.log[0] = '\0';
	assert_int_equal(xb_backend_changed(&t.b, false, XenbusStateConnected), 0);
	LOG_IS(&t, "");
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateClosed), 0);
	LOG_IS(&t, "state=6 removed");
}

static void test_save_load(void **state)
{
	struct t t, u;
	uint8_t rec[XB_SAVED_LEN];

	(void)state;
	setup(&t);
	xb_created(&t.b);
	xb_frontend_changed(&t.b, XenbusStateConnected);
	xb_quiesce(&t.b);
	assert_false(t.b.connected);
	assert_int_equal(t.f.disconnects, 2); /* before connect, and now */
	xb_save(&t.b, rec);

	setup(&u);
	assert_int_equal(xb_load(&u.b, rec), 0);
	assert_int_equal(u.b.state, XenbusStateConnected);
	assert_int_equal(u.b.fe_state, XenbusStateConnected);
	/* reconnects without a state write: the frontend sees nothing */
	assert_int_equal(xb_resume(&u.b), 0);
	LOG_IS(&u, "begin sectors=2048 commit");
	assert_true(u.b.connected);
	assert_int_equal(xb_frontend_changed(&u.b, XenbusStateConnected), 0);
	assert_int_equal(xb_created(&u.b), 0);
	LOG_IS(&u, "");
	assert_int_equal(u.f.connects, 1);

	/* a restored ring the device cannot map again: fatal */
	setup(&u);
	xb_load(&u.b, rec);
	u.f.connect_rc = -EFAULT;
	assert_int_equal(xb_resume(&u.b), -EFAULT);
	LOG_IS(&u, "begin abort error=\"14 mapping ring-ref 8\" state=5");

	/* corrupted records refused, state untouched */
	for (int i = 0; i < 4; i++) {
		uint8_t bad[XB_SAVED_LEN];
		memcpy(bad, rec, sizeof(bad));
		bad[i * 4 + (i == 3 ? 3 : 0)] = 0x40;
		setup(&u);
		assert_int_equal(xb_load(&u.b, bad), -EINVAL);
		assert_int_equal(u.b.state, XenbusStateUnknown);
	}
}

static void test_keep_connection(void **state)
{
	struct t t, u;
	uint8_t rec[XB_SAVED_LEN], dev[XB_DEV_SAVED_MAX];
	int n;

	(void)state;
	setup(&t);
	xb_init(&t.b, &keep_ops, &t.f, &t.io);
	xb_created(&t.b);
	xb_frontend_changed(&t.b, XenbusStateConnected);
	assert_int_equal(xb_save_dev(&t.b, dev, sizeof(dev)), 0); /* not quiesced: nothing */
	t.f.log[0] = '\0';
	/* a save that goes on: no disconnect, no keys read, nothing written */
	xb_quiesce(&t.b);
	xb_quiesce(&t.b);
	assert_int_equal(t.f.quiesces, 1);
	assert_true(t.b.connected && t.b.quiesced);
	n = xb_save_dev(&t.b, dev, sizeof(dev));
	assert_int_equal(n, 3);
	xb_save(&t.b, rec);
	t.f.eagain_left = 1; /* the commit races once: quiesce, again */
	assert_int_equal(xb_resume(&t.b), 0);
	LOG_IS(&t, "begin sectors=2048 commit begin sectors=2048 commit");
	assert_int_equal(t.f.resumes, 2);
	assert_int_equal(t.f.quiesces, 2);
	assert_int_equal(t.f.disconnects, 1); /* only the one before connect */
	assert_int_equal(t.f.connects, 1);
	assert_false(t.b.quiesced);

	/* a restore: the device's part, then resume without the frontend's keys */
	setup(&u);
	xb_init(&u.b, &keep_ops, &u.f, &u.io);
	u.f.fe = "";
	assert_int_equal(xb_load(&u.b, rec), 0);
	assert_int_equal(xb_load_dev(&u.b, (const uint8_t *)"pox", 3), -EINVAL);
	assert_false(u.b.connected);
	assert_int_equal(xb_load_dev(&u.b, dev, (size_t)n), 0);
	assert_int_equal(xb_resume(&u.b), 0);
	LOG_IS(&u, "begin sectors=2048 commit");
	assert_int_equal(u.f.connects, 0);
	assert_true(u.b.connected && !u.b.quiesced);

	/* a resume that fails is fatal: Closing, disconnected */
	setup(&u);
	xb_init(&u.b, &keep_ops, &u.f, &u.io);
	xb_load(&u.b, rec);
	xb_load_dev(&u.b, dev, (size_t)n);
	u.f.resume_rc = -EFAULT;
	assert_int_equal(xb_resume(&u.b), -EFAULT);
	LOG_IS(&u, "begin abort error=\"14 ring gone\" state=5");
	assert_false(u.b.connected);
	assert_int_equal(u.f.disconnects, 1);

	/* a device part for a backend that was not Connected: refused */
	setup(&u);
	xb_init(&u.b, &keep_ops, &u.f, &u.io);
	assert_int_equal(xb_load_dev(&u.b, dev, (size_t)n), -EINVAL);
	/* a device that keeps nothing takes no part */
	setup(&u);
	xb_load(&u.b, rec);
	assert_int_equal(xb_load_dev(&u.b, dev, (size_t)n), -EINVAL);
}

/* A device that is not ready when the frontend asks (the vif before its
 * hotplug script ran): nothing, until a backend change finds it ready; a
 * failure to tell is fatal. */
static int d_ready(void *dev, const struct xb_reader *be, char *why, size_t wl)
{
	struct fake *f = dev;
	char v[16];

	/* it reads the backend's own keys */
	assert_int_equal(be->read(be->ctx, "ring-ref", v, sizeof(v)), 0);
	if (f->ready < 0)
		snprintf(why, wl, "parsing mac");
	return f->ready;
}

static const struct xb_dev_ops ready_ops = {
	.type = "vif", .features = d_features, .connect = d_connect, .disconnect = d_disconnect,
	.ready = d_ready,
};

static void test_ready(void **state)
{
	struct t t;

	(void)state;
	setup(&t);
	t.io.be_read = (struct xb_reader){ &t.f, f_read };
	xb_init(&t.b, &ready_ops, &t.f, &t.io);
	xb_created(&t.b);
	LOG_IS(&t, "begin feature-flush-cache=1 commit state=2");
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateConnected), 0);
	LOG_IS(&t, "");
	assert_int_equal(t.f.connects, 0);
	/* a backend change while still not ready */
	assert_int_equal(xb_backend_changed(&t.b, true, XenbusStateInitWait), 0);
	LOG_IS(&t, "");
	t.f.ready = 1;
	assert_int_equal(xb_backend_changed(&t.b, true, XenbusStateInitWait), 0);
	LOG_IS(&t, "begin sectors=2048 commit state=4");
	assert_int_equal(t.f.connects, 1);
	/* connected: further changes do nothing */
	assert_int_equal(xb_backend_changed(&t.b, true, XenbusStateConnected), 0);
	assert_int_equal(t.f.connects, 1);
	/* reset, then a failure to tell is fatal */
	xb_frontend_changed(&t.b, XenbusStateClosed);
	xb_frontend_changed(&t.b, XenbusStateInitialising);
	LOG_IS(&t, "state=6 state=2");
	t.f.ready = -EINVAL;
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialised), -EINVAL);
	LOG_IS(&t, "error=\"22 parsing mac\" state=5");
	/* ready and offline: nothing */
	setup(&t);
	t.io.be_read = (struct xb_reader){ &t.f, f_read };
	xb_init(&t.b, &ready_ops, &t.f, &t.io);
	xb_created(&t.b);
	xb_frontend_changed(&t.b, XenbusStateConnected);
	t.f.ready = 1;
	t.f.log[0] = '\0';
	xb_backend_changed(&t.b, false, XenbusStateInitWait);
	assert_int_equal(t.f.connects, 0);
}

static void test_parse_state(void **state)
{
	(void)state;
	assert_int_equal(xb_parse_state("4"), XenbusStateConnected);
	assert_int_equal(xb_parse_state("0"), XenbusStateUnknown);
	assert_int_equal(xb_parse_state("9"), XenbusStateUnknown);
	assert_int_equal(xb_parse_state("44"), XenbusStateUnknown);
	assert_int_equal(xb_parse_state(""), XenbusStateUnknown);
	assert_int_equal(xb_parse_state(NULL), XenbusStateUnknown);
	assert_string_equal(xb_state_name(XenbusStateInitWait), "InitWait");
	assert_string_equal(xb_state_name((enum xenbus_state)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_created_twice_and_features_fail),
		cmocka_unit_test(test_connect_from_connected),
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_close_and_reconnect),
		cmocka_unit_test(test_unplug),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_keep_connection),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_parse_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
